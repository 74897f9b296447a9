"""Screening writes: lists and their ETL, entries, screening runs, reviews, settings.

Every write that a reviewer must be able to trace is audited: a list's upload and deletion, an
entry's creation, change and deletion (``core.models.Audited``), and a match's review. Entries
an ETL run makes are written in bulk (one event for the run, on the list's row, not one per
entry); a re-run replaces the list's entries in the job's one transaction, so a failed run
leaves the previous entries as they were.
"""

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from rest_framework import status

from valar.audit.services import audit_record
from valar.core import files, sysconfig, versions
from valar.core.errors import DomainError
from valar.core.tenancy import Tenant
from valar.screening import etl, matching, selectors, text
from valar.screening.models import (
    Entry,
    EntryIdentifier,
    EntryName,
    EntryToken,
    ListDocument,
    Match,
    Run,
    Settings,
    SubjectKind,
)

#: Job kinds of the screening module (``valar.screening.tasks``).
PROCESS_JOB = "screening.process_document"
RUN_JOB = "screening.run"
SUBJECT_JOB = "screening.subject"
REPORT_JOB = "screening.report"
#: Subjects screened per batch of a run's job (one progress update per batch).
RUN_BATCH = 200
#: A small list shaped as PPATK publishes DTTOT (the demo's, and the tests').
SAMPLE = Path(__file__).resolve().parent / "samples" / "dttot_sample.csv"
#: The most row errors a processing job's result lists (its count says how many there were).
MAX_LISTED_ERRORS = 100
#: The cache version of every screening figure (``screening.metrics``).
VERSION = "screening"


def _bump(organization_id) -> None:
    """Move the organization's screening figures on after a bulk statement (no signal)."""
    versions.bump(organization_id, VERSION)


# -- settings ------------------------------------------------------------------------------


def scores(organization) -> tuple[Decimal, Decimal]:
    """The match threshold and cutoff in force: the organization's, else the system's."""
    row = Settings.objects.filter(organization=organization).first()
    threshold = row.match_threshold if row and row.match_threshold is not None else None
    cutoff = row.cutoff if row and row.cutoff is not None else None
    if threshold is None:
        threshold = Decimal(str(sysconfig.value("screening_match_threshold")))
    if cutoff is None:
        cutoff = Decimal(str(sysconfig.value("screening_cutoff")))
    return threshold, min(cutoff, threshold)


@transaction.atomic
def settings_update(*, tenant: Tenant, data: dict) -> Settings:
    """Set the organization's threshold and cutoff (``null`` falls back to the system's).

    400 when the cutoff would be above the threshold.
    """
    row, _ = Settings.objects.select_for_update().get_or_create(organization=tenant.organization)
    for field in ("match_threshold", "cutoff"):
        if field in data:
            setattr(row, field, data[field])
    row.save()
    threshold = row.match_threshold
    if threshold is None:
        threshold = Decimal(str(sysconfig.value("screening_match_threshold")))
    cutoff = row.cutoff
    if cutoff is None:
        cutoff = Decimal(str(sysconfig.value("screening_cutoff")))
    if cutoff > threshold:
        field = "cutoff" if "cutoff" in data else "match_threshold"
        raise DomainError(
            f"The cutoff ({cutoff}) must not be above the match threshold ({threshold}).",
            errors={
                field: [f"The cutoff ({cutoff}) must not be above the threshold ({threshold})."]
            },
        )
    audit_record(
        action="update",
        organization_id=tenant.organization.pk,
        instance=row,
        changes={"match_threshold": row.match_threshold, "cutoff": row.cutoff},
    )
    return row


# -- lists ---------------------------------------------------------------------------------


def _check_script(script: str, file_type: str, *, field: str = "etl_script") -> etl.Script:
    """The ETL script named ``script``, which must read files of ``file_type`` (else 400)."""
    found = etl.SCRIPTS.get(script)
    if found is None:
        raise DomainError(
            f"No ETL script is named {script!r}.",
            code="not_found" if field == "script" else "invalid",
            errors={field: [f"One of: {', '.join(sorted(etl.SCRIPTS))}."]},
            status_code=status.HTTP_404_NOT_FOUND if field == "script" else None,
        )
    if file_type not in found.file_types:
        message = f"The script {script} reads {', '.join(found.file_types)} files, not {file_type}."
        raise DomainError(message, code="unsupported_file", errors={field: [message]})
    return found


def document_upload(*, tenant: Tenant, upload, data: dict) -> ListDocument:
    """Keep an uploaded list (CSV, XLS, XLSX or XML, its type proven by its bytes).

    ``data`` holds ``name`` (the file's name when empty), ``source``, ``list_date``,
    ``etl_script`` (``dttot`` by default) and ``etl_options``. Nothing is read yet: processing
    (``documents/{id}/etl/``) is a job.
    """
    file_type = etl.check_list_upload(upload)
    script = data.get("etl_script") or "dttot"
    _check_script(script, file_type)
    options = etl.check_options(script, data.get("etl_options") or {})
    filename = str(getattr(upload, "name", "") or "list")[:255]
    document = ListDocument(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        name=(data.get("name") or filename)[:200],
        source=data.get("source") or "",
        list_date=data.get("list_date"),
        etl_script=script,
        etl_options=options,
        filename=filename,
        file_type=file_type,
        size=upload.size,
    )
    upload.seek(0)
    document.file.save(files.storage_name("screening", tenant.organization.pk), upload, save=False)
    document.save(force_insert=True)
    return document


def documents_upload(*, tenant: Tenant, uploads: list, data: dict) -> list[ListDocument]:
    """Keep several lists at once, all or none (each is checked before any is kept)."""
    if not uploads:
        raise DomainError("Upload at least one file.", errors={"files": ["No file was sent."]})
    for index, upload in enumerate(uploads):
        try:
            file_type = etl.check_list_upload(upload, field=f"files.{index}")
            _check_script(data.get("etl_script") or "dttot", file_type)
        except DomainError as exc:
            exc.errors = {
                (f"files.{index}" if key in ("file", "etl_script") else key): value
                for key, value in (exc.errors or {}).items()
            }
            raise
    with transaction.atomic():
        return [
            document_upload(tenant=tenant, upload=upload, data={**data, "name": ""})
            for upload in uploads
        ]


@transaction.atomic
def document_describe(*, document: ListDocument, data: dict) -> ListDocument:
    """Change a list's name, source, date, script or options (audited); the file stays.

    The script must read the list's file type; options are checked against it.
    """
    script = data.get("etl_script", document.etl_script)
    _check_script(script, document.file_type)
    if "etl_options" in data or script != document.etl_script:
        document.etl_options = etl.check_options(
            script, data.get("etl_options", document.etl_options) or {}
        )
    document.etl_script = script
    for field in ("name", "source", "list_date"):
        if field in data:
            setattr(document, field, data[field])
    if not document.name:
        document.name = document.filename or "list"
    document.save()
    return document


def document_preview(*, document: ListDocument, script: str, rows: int) -> dict:
    """The list's first ``rows`` rows and the columns ``script`` would read (nothing kept)."""
    _check_script(script, document.file_type, field="script")
    options = document.etl_options if script == document.etl_script else {}
    with document.file.open("rb") as handle:
        return etl.preview(handle, document.file_type, script=script, options=options, rows=rows)


@transaction.atomic
def document_delete(*, document: ListDocument) -> None:
    """Delete a list with its entries (one audited event for the list); matches stay.

    The entries go in bulk statements (not one signal per row); the list's own deletion is
    the audited event, carrying how many entries went with it.
    """
    locked = ListDocument.objects.select_for_update().filter(pk=document.pk).first()
    if locked is None:
        raise DomainError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    if locked.status == ListDocument.Status.PROCESSING:
        raise DomainError(
            "The list is being processed; delete it once its job has finished.",
            code="processing",
            status_code=status.HTTP_409_CONFLICT,
        )
    _delete_entries(Entry.objects.filter(document=locked), organization_id=locked.organization_id)
    audit_record(
        action="delete",
        organization_id=locked.organization_id,
        instance=locked,
        changes={"entries": locked.entry_count, "filename": locked.filename},
    )
    stored = locked.file
    Run.objects.filter(document=locked).update(document=None)
    ListDocument.objects.filter(pk=locked.pk)._raw_delete(ListDocument.objects.db)
    _bump(locked.organization_id)
    if stored:
        transaction.on_commit(lambda: stored.storage.delete(stored.name))


def _delete_entries(entries, *, organization_id) -> int:
    """Delete these entries (of ``organization_id``) and their search rows in bulk
    statements; how many entries.

    Their matches stay, with their reviews (``entry`` null): a confirmed hit keeps its
    subject flagged, and a pair reviewed before is remembered by the entry's fingerprint
    when the same person comes back in the list processed again.
    """
    ids = entries.values("pk")
    Match.objects.filter(entry__in=ids).update(entry=None)
    EntryName.objects.filter(entry__in=ids)._raw_delete(EntryName.objects.db)
    EntryIdentifier.objects.filter(entry__in=ids)._raw_delete(EntryIdentifier.objects.db)
    EntryToken.objects.filter(entry__in=ids)._raw_delete(EntryToken.objects.db)
    removed = entries._raw_delete(Entry.objects.db)
    _bump(organization_id)
    return removed


@transaction.atomic
def document_process_start(*, tenant: Tenant, document: ListDocument, script: str | None = None):
    """Start the job that reads the list with ``script`` (its own by default); the job.

    404 for a script that does not exist; 400 when it does not read this file's type; 409
    while another run of the list is queued or running.
    """
    from valar.jobs.services import job_start

    locked = ListDocument.objects.select_for_update().filter(pk=document.pk).first()
    if locked is None:
        raise DomainError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    name = script or locked.etl_script
    _check_script(name, locked.file_type, field="script" if script else "etl_script")
    if locked.status == ListDocument.Status.PROCESSING:
        raise DomainError(
            "The list is already being processed.",
            code="processing",
            status_code=status.HTTP_409_CONFLICT,
        )
    ListDocument.objects.filter(pk=locked.pk).update(
        status=ListDocument.Status.PROCESSING, last_error=""
    )
    return job_start(
        organization=tenant.organization,
        user=tenant.membership.user,
        kind=PROCESS_JOB,
        document=str(locked.pk),
        script=name,
    )


def documents_process_start(*, tenant: Tenant, documents: list[ListDocument]) -> list:
    """Start the processing job of each list (each with its own script), all or none."""
    with transaction.atomic():
        return [document_process_start(tenant=tenant, document=doc) for doc in documents]


def document_process(*, document_id, script: str, progress=None) -> dict:
    """The processing job's work: read the list, replace its entries, say what it did.

    Runs inside the job's transaction: the old entries are deleted and the new ones written
    together, or (the job fails) nothing changes. Rows without a name are counted and listed
    (at most :data:`MAX_LISTED_ERRORS`) without failing the run. Afterwards every customer,
    vendor and member is screened against the new entries (a job of its own).
    """
    document = ListDocument.objects.select_for_update().get(pk=document_id)
    chosen = _check_script(script, document.file_type, field="script")
    options = document.etl_options if script == document.etl_script else {}
    with document.file.open("rb") as handle:
        result = etl.run(
            handle, document.file_type, script=script, options=options, progress=progress
        )
    if not result.entries:
        raise DomainError(
            f"No entry could be read with {chosen.label}: {len(result.errors)} row errors "
            f"of {result.row_count} rows.",
            code="empty_list",
        )
    removed = _delete_entries(
        Entry.objects.filter(document=document), organization_id=document.organization_id
    )
    made = entries_write(document=document, parsed=result.entries)
    document.status = ListDocument.Status.PROCESSED
    document.processed_with = chosen.label
    document.processed_at = timezone.now()
    document.row_count = result.row_count
    document.entry_count = made
    document.error_count = len(result.errors)
    document.last_error = ""
    ListDocument.objects.filter(pk=document.pk).update(
        status=document.status,
        processed_with=document.processed_with,
        processed_at=document.processed_at,
        row_count=document.row_count,
        entry_count=made,
        error_count=document.error_count,
        last_error="",
    )
    _bump(document.organization_id)
    audit_record(
        action="process",
        organization_id=document.organization_id,
        instance=document,
        changes={
            "script": chosen.label,
            "rows": result.row_count,
            "entries": made,
            "replaced": removed,
            "row_errors": len(result.errors),
        },
    )
    rescreen = run_start(
        organization=document.organization,
        user=None,
        scope=Run.Scope.ALL,
        document=document,
        trigger="list_processed",
    )
    return {
        "document": str(document.pk),
        "script": chosen.label,
        "rows": result.row_count,
        "entries": made,
        "replaced": removed,
        "row_errors": len(result.errors),
        "errors": result.errors[:MAX_LISTED_ERRORS],
        "mapping": result.mapping,
        "rescreen_run": str(rescreen.pk),
    }


def document_process_failed(*, document_id, error: str) -> None:
    """Record that a list's processing job failed (its entries are as they were)."""
    ListDocument.objects.filter(pk=document_id, status=ListDocument.Status.PROCESSING).update(
        status=ListDocument.Status.FAILED, last_error=error[:2000]
    )


# -- entries -------------------------------------------------------------------------------


def fingerprint(value) -> str:
    """A stable digest of a JSON value (what a review is remembered against)."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def entry_fingerprint(entry) -> str:
    """The digest of what an entry is matched on: its names, dates, nationality, numbers."""
    return fingerprint(
        {
            "names": [text.normalize(name) for name in entry.names],
            "birth_dates": sorted(entry.birth_dates),
            "nationality": text.fold(entry.nationality).strip(),
            "identifiers": sorted(
                text.normalize_identifier(item["value"]) for item in entry.identifiers
            ),
        }
    )


def _name_rows(entry: Entry) -> list[EntryName]:
    """An entry's names and aliases as searchable rows."""
    rows = []
    seen = set()
    for position, name in enumerate(entry.names):
        normalized = matching.search_key(name)
        if not normalized or normalized in seen:
            continue
        seen.add(normalized)
        rows.append(
            EntryName(
                organization_id=entry.organization_id,
                entry=entry,
                position=position,
                name=name[:300],
                normalized=normalized[:300],
                phonetic=matching.phonetic_key(name)[:300],
            )
        )
    return rows


def _token_rows(entry: Entry) -> list[EntryToken]:
    """The phonetic codes of every word of an entry's names, and of each name's words
    written as one, each once."""
    codes = {code for name in entry.names for code in matching.token_keys(name) if code}
    joined = {matching.joined_key(name) for name in entry.names} - {""}
    return [
        EntryToken(
            organization_id=entry.organization_id, entry=entry, code=code[:40], words=len(codes)
        )
        for code in sorted(codes | joined)
    ]


def _identifier_rows(entry: Entry) -> list[EntryIdentifier]:
    """An entry's identity numbers as searchable rows."""
    rows, seen = [], set()
    for item in entry.identifiers:
        value = text.normalize_identifier(item.get("value", ""))
        if value and value not in seen:
            seen.add(value)
            rows.append(
                EntryIdentifier(
                    organization_id=entry.organization_id,
                    entry=entry,
                    kind=item.get("kind") or "other",
                    value=value[:60],
                )
            )
    return rows


def _prepare_entry(entry: Entry) -> None:
    """Fill an entry's derived fields: its normalised name and fingerprint."""
    entry.name = entry.names[0][:300] if entry.names else entry.name
    entry.name_key = text.normalize(entry.name)[:300]
    entry.fingerprint = entry_fingerprint(entry)


def entries_write(*, document: ListDocument, parsed: Iterable) -> int:
    """Write parsed entries of a list in bulk (entries, names, identifiers); how many."""
    user_id = document.created_by_id
    entries = []
    for item in parsed:
        entry = Entry(
            organization_id=document.organization_id,
            created_by_id=user_id,
            document=document,
            kind=item.kind,
            name=item.name[:300],
            names=[name[:300] for name in item.names] or [item.name[:300]],
            birth_dates=list(item.birth_dates),
            birth_place=(item.birth_place or "")[:200],
            nationality=(item.nationality or "")[:100],
            identifiers=list(item.identifiers),
            address=item.address or "",
            description=item.description or "",
            reference=(item.reference or "")[:100],
            rows=list(item.rows),
        )
        _prepare_entry(entry)
        entries.append(entry)
    Entry.objects.bulk_create(entries, batch_size=1000)
    names, identifiers, tokens = [], [], []
    for entry in entries:
        names.extend(_name_rows(entry))
        identifiers.extend(_identifier_rows(entry))
        tokens.extend(_token_rows(entry))
    EntryName.objects.bulk_create(names, batch_size=2000)
    EntryToken.objects.bulk_create(tokens, batch_size=5000)
    EntryIdentifier.objects.bulk_create(identifiers, batch_size=2000)
    _bump(document.organization_id)
    return len(entries)


def _reindex(entry: Entry) -> None:
    """Rewrite an entry's searchable name, word and identifier rows."""
    EntryName.objects.filter(entry=entry).delete()
    EntryIdentifier.objects.filter(entry=entry).delete()
    EntryToken.objects.filter(entry=entry).delete()
    EntryName.objects.bulk_create(_name_rows(entry))
    EntryToken.objects.bulk_create(_token_rows(entry))
    EntryIdentifier.objects.bulk_create(_identifier_rows(entry))


ENTRY_FIELDS = (
    "kind",
    "names",
    "birth_dates",
    "birth_place",
    "nationality",
    "identifiers",
    "address",
    "description",
    "reference",
)


def _entry_data(data: dict) -> dict:
    """The entry fields of validated data, ``names`` cleaned (primary first, no repeats)."""
    values = {key: data[key] for key in ENTRY_FIELDS if key in data}
    if "names" in values:
        names, seen = [], set()
        for name in values["names"]:
            key = text.normalize(name)
            if key and key not in seen:
                seen.add(key)
                names.append(name.strip())
        if not names:
            raise DomainError("A name is required.", errors={"names": ["Give at least one name."]})
        values["names"] = names
    return values


@transaction.atomic
def entry_create(*, tenant: Tenant, document: ListDocument, data: dict) -> Entry:
    """Add an entry to a list by hand (audited); it is searchable at once."""
    entry = Entry(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        document=document,
        **_entry_data(data),
    )
    _prepare_entry(entry)
    entry.save(force_insert=True)
    _reindex(entry)
    ListDocument.objects.filter(pk=document.pk).update(entry_count=document.entries.count())
    return entry


@transaction.atomic
def entry_update(*, entry: Entry, data: dict) -> Entry:
    """Change an entry (audited: the fields changed); its search rows follow."""
    for key, value in _entry_data(data).items():
        setattr(entry, key, value)
    _prepare_entry(entry)
    entry.save()
    _reindex(entry)
    return entry


@transaction.atomic
def entry_delete(*, entry: Entry) -> None:
    """Delete an entry (audited); its matches stay, with their reviews."""
    document_id = entry.document_id
    entry.delete()
    ListDocument.objects.filter(pk=document_id).update(
        entry_count=Entry.objects.filter(document_id=document_id).count()
    )


# -- screening -----------------------------------------------------------------------------


@dataclass
class Subject:
    """One party to screen: who it is (kind and id, for customers, vendors and members) and
    what is known of it."""

    kind: str
    id: object
    name: str
    birth_date: str = ""
    nationality: str = ""
    identifiers: tuple = ()

    def as_json(self) -> dict:
        """What the match keeps of the subject."""
        return {
            "name": self.name,
            "birth_date": self.birth_date or None,
            "nationality": self.nationality or "",
            "identifiers": [{"kind": kind, "value": value} for kind, value in self.identifiers],
        }

    def fingerprint(self) -> str:
        """The digest a review of this subject is remembered against."""
        return fingerprint(
            {
                "kind": self.kind,
                "id": str(self.id) if self.id else None,
                "name": text.normalize(self.name),
                "birth_date": self.birth_date or "",
                "nationality": text.fold(self.nationality).strip(),
                "identifiers": sorted(text.normalize_identifier(v) for _, v in self.identifiers),
            }
        )

    def party(self) -> "matching.Party":
        """The subject as the scorer reads it."""
        return matching.Party(
            names=(self.name,),
            birth_dates=(self.birth_date,) if self.birth_date else (),
            nationality=self.nationality or "",
            identifiers=tuple(self.identifiers),
        )


class Screener:
    """Screens subjects of one organization against its entries (or one list's).

    Entries are read and prepared once per screener, however many subjects meet them; the
    candidate search is one SQL statement per subject (``selectors.candidates``).
    """

    def __init__(self, *, organization_id, threshold: Decimal, cutoff: Decimal, document_id=None):
        """Remember the scores in force and the scope."""
        self.organization_id = organization_id
        self.threshold = threshold
        self.cutoff = cutoff
        self.document_id = document_id
        self._prepared: dict = {}

    def _entries(self, ids: list) -> dict:
        """The prepared entries of these ids (read once each)."""
        missing = [pk for pk in ids if pk not in self._prepared]
        if missing:
            for row in selectors.entries_for_scoring(ids=missing):
                self._prepared[row["id"]] = (
                    row["fingerprint"],
                    matching.prepare(
                        matching.Party(
                            names=tuple(row["names"]),
                            birth_dates=tuple(row["birth_dates"]),
                            nationality=row["nationality"],
                            identifiers=tuple(
                                (item.get("kind", "other"), item.get("value", ""))
                                for item in row["identifiers"]
                            ),
                        )
                    ),
                )
        return {pk: self._prepared[pk] for pk in ids if pk in self._prepared}

    def screen(self, subject: Subject) -> list[tuple]:
        """The subject's scored candidates at or above the cutoff, best first:
        ``(entry_id, entry_fingerprint, score, features)``."""
        prepared = matching.prepare(subject.party())
        ids = selectors.candidates(
            organization_id=self.organization_id,
            prepared=prepared,
            identifiers=[text.normalize_identifier(v) for _, v in subject.identifiers],
            document_id=self.document_id,
        )
        found = []
        cutoff = float(self.cutoff)
        for entry_id, (entry_print, entry) in self._entries(ids).items():
            value, features = matching.score(prepared, entry)
            if value >= cutoff:
                found.append((entry_id, entry_print, value, features))
        found.sort(key=lambda item: -item[2])
        return found

    def matches(self, run: Run, subjects: Iterable[Subject]) -> list[Match]:
        """Screen the subjects and store their matches for ``run`` (remembered reviews
        applied); the matches made."""
        made = []
        for subject in subjects:
            subject_print = subject.fingerprint()
            for entry_id, entry_print, value, features in self.screen(subject):
                made.append(
                    Match(
                        organization_id=self.organization_id,
                        created_by_id=run.created_by_id,
                        run=run,
                        entry_id=entry_id,
                        subject_kind=subject.kind,
                        subject_id=subject.id,
                        subject_name=subject.name[:300],
                        subject=subject.as_json(),
                        subject_fingerprint=subject_print,
                        entry_fingerprint=entry_print,
                        score=Decimal(str(value)).quantize(Decimal("0.0001")),
                        threshold=self.threshold,
                        is_match=Decimal(str(value)) >= self.threshold,
                        features=features,
                    )
                )
        _remembered(self.organization_id, made)
        Match.objects.bulk_create(made, batch_size=1000)
        if made:
            _bump(self.organization_id)
        return made


def _remembered(organization_id, matches: list[Match]) -> None:
    """Give each new match the earlier review of the same unchanged pair, if there is one.

    A pair dismissed (or confirmed) before, whose subject and entry fingerprints are the same,
    does not come back ``pending``: it carries that review's status, reviewer and time, and
    says so in its reason.
    """
    if not matches:
        return
    subject_prints = {match.subject_fingerprint for match in matches}
    earlier = {}
    for row in (
        Match.objects.filter(
            organization_id=organization_id,
            subject_fingerprint__in=subject_prints,
            entry_fingerprint__in={match.entry_fingerprint for match in matches},
        )
        .exclude(status=Match.Status.PENDING)
        .order_by("reviewed_at")
        .values(
            "subject_fingerprint",
            "entry_fingerprint",
            "status",
            "reason",
            "reviewed_by",
            "reviewed_at",
        )
    ):
        earlier[(row["subject_fingerprint"], row["entry_fingerprint"])] = row
    for match in matches:
        found = earlier.get((match.subject_fingerprint, match.entry_fingerprint))
        if found:
            match.status = found["status"]
            match.reason = f"Reviewed before ({found['reviewed_at']:%Y-%m-%d}): {found['reason']}"[
                :2000
            ]
            match.reviewed_by_id = found["reviewed_by"]
            match.reviewed_at = found["reviewed_at"]


def _subject_from_data(data: dict) -> Subject:
    """An ad hoc subject from a request's validated data."""
    birth = data.get("birth_date")
    return Subject(
        kind=SubjectKind.ADHOC,
        id=None,
        name=data["name"],
        birth_date=birth.isoformat() if isinstance(birth, datetime.date) else (birth or ""),
        nationality=data.get("nationality") or "",
        identifiers=tuple(
            (item.get("kind") or "other", item["value"]) for item in data.get("identifiers", [])
        ),
    )


@transaction.atomic
def run_subject(*, tenant: Tenant, data: dict) -> Run:
    """Screen one subject given ad hoc, at once; the finished run (its matches stored)."""
    threshold, cutoff = scores(tenant.organization)
    subject = _subject_from_data(data)
    run = Run.objects.create(
        organization=tenant.organization,
        created_by=tenant.membership.user,
        scope=Run.Scope.SUBJECT,
        subject=subject.as_json(),
        subject_kind=SubjectKind.ADHOC,
        threshold=threshold,
        cutoff=cutoff,
        status=Run.Status.SUCCEEDED,
        subject_count=1,
        finished_at=timezone.now(),
    )
    screener = Screener(organization_id=tenant.organization.pk, threshold=threshold, cutoff=cutoff)
    made = screener.matches(run, [subject])
    run.match_count = len(made)
    Run.objects.filter(pk=run.pk).update(match_count=run.match_count)
    return run


def run_start(
    *,
    organization,
    user,
    scope: str,
    document: ListDocument | None = None,
    trigger: str = "request",
    subject_kind: str = "",
    subject_id=None,
    file: str = "",
) -> Run:
    """Record a queued run of many subjects (or of one stored subject) and start its job."""
    from valar.jobs.services import job_start

    threshold, cutoff = scores(organization)
    run = Run.objects.create(
        organization=organization,
        created_by=user,
        scope=scope,
        document=document,
        trigger=trigger,
        subject_kind=subject_kind,
        subject_id=subject_id,
        threshold=threshold,
        cutoff=cutoff,
    )
    run.job = job_start(
        organization=organization, user=user, kind=RUN_JOB, run=str(run.pk), file=file
    )
    Run.objects.filter(pk=run.pk).update(job=run.job)
    return run


def run_batch_start(*, tenant: Tenant, scope: str, upload=None) -> Run:
    """Start a run over all customers, vendors or members (or all three), or a file's rows.

    A file is a CSV or spreadsheet with a ``name`` column and optional ``birth_date``,
    ``nationality`` and ``identifier`` columns; it is checked now (400 naming the problem) and
    kept until the job has read it.
    """
    from django.core.files.storage import default_storage

    stored = ""
    if scope == Run.Scope.FILE:
        if upload is None:
            raise DomainError("A file run needs a file.", errors={"file": ["No file was sent."]})
        file_type = etl.check_list_upload(upload)
        subjects = selectors.file_subjects(upload, file_type)
        if not subjects:
            raise DomainError(
                "The file has no subject rows.", errors={"file": ["No row has a name."]}
            )
        upload.seek(0)
        stored = default_storage.save(
            files.storage_name("screening-runs", tenant.organization.pk) + f".{file_type}", upload
        )
    elif upload is not None:
        raise DomainError(
            "Only a file run takes a file.", errors={"file": ["Send a file only with scope file."]}
        )
    return run_start(
        organization=tenant.organization,
        user=tenant.membership.user,
        scope=scope,
        file=stored,
    )


def run_execute(*, run_id, file: str = "", progress=None) -> dict:
    """The run job's work: screen every subject of the run's scope, in batches."""
    run = Run.objects.select_related("organization").get(pk=run_id)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.RUNNING)
    _bump(run.organization_id)
    screener = Screener(
        organization_id=run.organization_id,
        threshold=run.threshold,
        cutoff=run.cutoff,
        document_id=run.document_id,
    )
    if run.document_id and not Entry.objects.filter(document_id=run.document_id).exists():
        batches: Iterable = ()
    else:
        batches = selectors.subject_batches(run=run, file=file, size=RUN_BATCH)
    total = selectors.subject_count(run=run, file=file)
    counted = made = 0
    for batch in batches:
        made += len(screener.matches(run, batch))
        counted += len(batch)
        if progress and total:
            progress(min(99, counted * 100 // total))
    run.status = Run.Status.SUCCEEDED
    run.finished_at = timezone.now()
    Run.objects.filter(pk=run.pk).update(
        status=run.status, finished_at=run.finished_at, subject_count=counted, match_count=made
    )
    _bump(run.organization_id)
    return {"run": str(run.pk), "subjects": counted, "matches": made}


def discard_run_file(file: str) -> None:
    """Remove a file run's kept file once its job has ended."""
    from django.core.files.storage import default_storage

    if file and file.startswith("screening-runs/"):
        default_storage.delete(file)


def run_failed(*, run_id, error: str) -> None:
    """Record that a run's job failed (its matches were not kept)."""
    Run.objects.filter(pk=run_id).exclude(status=Run.Status.SUCCEEDED).update(
        status=Run.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )
    found = Run.objects.filter(pk=run_id).values("organization_id").first()
    if found:
        _bump(found["organization_id"])


def subject_changed(*, kind: str, instance, trigger: str) -> None:
    """Screen a customer, vendor or member again once the write commits (a job).

    Nothing starts in an organization with no entries.
    """
    organization_id = instance.organization_id
    if not Entry.objects.filter(organization_id=organization_id).exists():
        return
    organization = instance.organization
    transaction.on_commit(
        lambda: run_start(
            organization=organization,
            user=None,
            scope=Run.Scope.SUBJECT,
            trigger=trigger,
            subject_kind=kind,
            subject_id=instance.pk,
        )
    )


# -- review --------------------------------------------------------------------------------


@transaction.atomic
def match_review(*, tenant: Tenant, match: Match, status_value: str, reason: str) -> Match:
    """Confirm a match as a hit or dismiss it as a false positive, with a reason (audited).

    A confirmed hit flags its subject (customer, vendor or member) and tells the
    organization's admins; a dismissed one unflags the subject when no other confirmed hit of
    it is left. A dismissed pair is remembered (see :func:`_remembered`).
    """
    locked = Match.objects.select_for_update().filter(pk=match.pk).first()
    if locked is None:
        raise DomainError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    if not reason or not reason.strip():
        raise DomainError("A reason is required.", errors={"reason": ["Say why."]})
    previous = locked.status
    if previous == status_value:
        raise DomainError(
            f"The match is already {status_value}.",
            code="already_reviewed",
            status_code=status.HTTP_409_CONFLICT,
        )
    locked.status = status_value
    locked.reason = reason.strip()
    locked.reviewed_by = tenant.membership.user
    locked.reviewed_at = timezone.now()
    locked.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at", "updated_at"])
    audit_record(
        action="confirm" if status_value == Match.Status.CONFIRMED else "dismiss",
        organization_id=tenant.organization.pk,
        instance=locked,
        changes={
            "status": [previous, status_value],
            "reason": locked.reason,
            "score": str(locked.score),
        },
    )
    if locked.subject_id and locked.subject_kind in selectors.STORED_SUBJECTS:
        flagged = (
            status_value == Match.Status.CONFIRMED
            or Match.objects.filter(
                organization_id=locked.organization_id,
                subject_kind=locked.subject_kind,
                subject_id=locked.subject_id,
                status=Match.Status.CONFIRMED,
            ).exists()
        )
        model = selectors.subject_model(locked.subject_kind)
        model.objects.filter(pk=locked.subject_id, organization_id=locked.organization_id).update(
            watchlist_flagged=flagged
        )
        versions.bump(locked.organization_id, *getattr(model, "metric_sources", ()))
    if status_value == Match.Status.CONFIRMED and previous != status_value:
        _notify_hit(tenant=tenant, match=locked)
    return locked


def _notify_hit(*, tenant: Tenant, match: Match) -> None:
    """Tell the organization's admins of a confirmed hit."""
    from valar.core.notify import notify
    from valar.organizations.models import Membership

    admins = list(
        Membership.objects.filter(organization=tenant.organization, role="admin").values_list(
            "user_id", flat=True
        )
    )
    notify(
        organization=tenant.organization,
        recipients=admins,
        title=f"Watch-list hit confirmed: {match.subject_name}"[:200],
        body=f"{match.get_subject_kind_display()} {match.subject_name} matches listed "
        f"entry {match.entry_id} (score {match.score}). Reason: {match.reason}"[:2000],
        link=f"/api/v1/screening/matches/{match.pk}/",
        kind="screening",
        level="warning",
    )


@transaction.atomic
def member_review(*, tenant: Tenant, user_id, status_value: str, reason: str) -> int:
    """Confirm or dismiss every pending match of one member (``affiliated-users/``); how many.

    404 when the member has no match in the organization.
    """
    pending = Match.objects.filter(
        organization=tenant.organization,
        subject_kind=SubjectKind.MEMBER,
        subject_id__in=selectors.member_ids(organization=tenant.organization, user_id=user_id),
    )
    if not pending.exists():
        raise DomainError("Not found.", code="not_found", status_code=status.HTTP_404_NOT_FOUND)
    reviewed = 0
    for match in pending.filter(status=Match.Status.PENDING).order_by("-score"):
        match_review(tenant=tenant, match=match, status_value=status_value, reason=reason)
        reviewed += 1
    if not reviewed and not (reason or "").strip():
        raise DomainError("A reason is required.", errors={"reason": ["Say why."]})
    return reviewed


# -- reports -------------------------------------------------------------------------------


def report_start(*, tenant: Tenant, run: Run):
    """Start the job that renders a run's PDF report (``screening/report/``); the job."""
    from valar.jobs.services import job_start

    return job_start(
        organization=tenant.organization,
        user=tenant.membership.user,
        kind=REPORT_JOB,
        run=str(run.pk),
    )


def report_render(*, organization_id, run_id) -> dict:
    """The report job's work: render the run's PDF and keep it under an unguessable name.

    A run deleted since the job was started (or not the organization's) fails the job.
    """
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from valar.screening import pdf

    run = (
        Run.objects.select_related("organization", "document")
        .filter(pk=run_id, organization_id=organization_id)
        .first()
    )
    if run is None:
        raise DomainError("The run no longer exists.", code="not_found")
    content, figures = pdf.render(run)
    name = default_storage.save(
        files.storage_name("screening-reports", organization_id) + ".pdf", ContentFile(content)
    )
    return {"run": str(run.pk), "file": name, "matches": figures["total"]}
