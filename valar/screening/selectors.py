"""Screening reads: lists, entries, runs and matches of one organization, the candidate
search, and the subjects a run screens.

The candidate search is the first of the two matching stages, in SQL on B-tree indexes:
the entries holding one of the subject's identity numbers; those with a name whose phonetic
key is the subject's, or its words written as one ("Dul Matin" / "Dulmatin"); and the entries
sharing most of the subject's rarer words by phonetic code (``screening_entrytoken``, one
``GROUP BY``: about a millisecond against 10,000 entries). Only when no entry shares all of
those words but one (a typo in the one rare word) are names compared by trigrams: pg_trgm on
PostgreSQL (GIN index on ``screening_entryname.normalized``), the names holding one of the
subject's words on SQLite. Scoring (``matching.score``) then decides.
"""

import uuid

import django_filters
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, QuerySet

from valar.core.filters import DateRangeFilterSet, StrictBooleanFilter
from valar.screening import matching, text
from valar.screening.models import (
    Entry,
    EntryIdentifier,
    EntryName,
    ListDocument,
    Match,
    Run,
    SubjectKind,
)

#: The most candidate entries a subject's search returns (scoring reads each).
CANDIDATES = 50


#: The subject kinds stored in Valar (each model has a ``watchlist_flagged`` column).
STORED_SUBJECTS = (SubjectKind.CUSTOMER, SubjectKind.VENDOR, SubjectKind.MEMBER)


def subject_model(kind: str):
    """The model of a stored subject kind (customers, vendors, memberships)."""
    from valar.crm.models import Customer, Vendor
    from valar.organizations.models import Membership

    return {
        SubjectKind.CUSTOMER: Customer,
        SubjectKind.VENDOR: Vendor,
        SubjectKind.MEMBER: Membership,
    }[kind]


# -- lists and entries ---------------------------------------------------------------------


def document_list(*, organization) -> QuerySet[ListDocument]:
    """The organization's lists, newest first."""
    return ListDocument.objects.filter(organization=organization).order_by("-created_at")


def processed_document_list(*, organization) -> QuerySet[ListDocument]:
    """The lists whose last ETL run succeeded, with their counts."""
    return document_list(organization=organization).filter(status=ListDocument.Status.PROCESSED)


class DocumentFilter(DateRangeFilterSet):
    """Filters of the lists."""

    status = django_filters.ChoiceFilter(choices=ListDocument.Status.choices)
    etl_script = django_filters.CharFilter()
    source = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = ListDocument
        fields: list[str] = []


def entry_list(*, organization) -> QuerySet[Entry]:
    """The organization's listed entries, by normalised name."""
    return Entry.objects.filter(organization=organization).order_by("name_key", "id")


class EntryFilter(django_filters.FilterSet):
    """Filters of the entries: the list, the kind, a name (any alias), a reference, a number."""

    document = django_filters.UUIDFilter(field_name="document_id")
    kind = django_filters.ChoiceFilter(choices=Entry.Kind.choices)
    reference = django_filters.CharFilter()
    nationality = django_filters.CharFilter(lookup_expr="iexact")
    name = django_filters.CharFilter(method="filter_name", help_text="A word of any name or alias.")
    identifier = django_filters.CharFilter(method="filter_identifier")

    class Meta:
        model = Entry
        fields: list[str] = []

    def filter_name(self, queryset, name, value):
        """Entries with a name or alias whose normalised form holds every word given."""
        words = text.tokens(value)
        if not words:
            return queryset
        names = EntryName.objects.all()
        for word in words:
            names = names.filter(normalized__contains=word)
        return queryset.filter(pk__in=names.values("entry_id"))

    def filter_identifier(self, queryset, name, value):
        """Entries holding this identity number."""
        key = text.normalize_identifier(value)
        return queryset.filter(identifier_rows__value=key)


def entries_for_scoring(*, ids: list) -> list[dict]:
    """What scoring reads of these entries."""
    return list(
        Entry.objects.filter(pk__in=ids).values(
            "id", "fingerprint", "names", "birth_dates", "nationality", "identifiers"
        )
    )


def _subject_codes(name) -> list[str]:
    """The phonetic codes of a subject's rarer words (all its words when none is rare)."""
    codes = dict(zip(name.words, name.codes, strict=True))
    rare = [codes[word] for word in matching.rare_words(name) if codes.get(word)]
    return sorted(set(rare or [code for code in name.codes if code]))


def _uuid_param(value):
    """A UUID as this database's driver takes it in raw SQL."""
    return value if settings.POSTGRESQL else uuid.UUID(str(value)).hex


def _candidates_by_key_and_words(
    organization_id, keys: list[str], codes: list[str], document_id
) -> tuple[list, list[tuple]]:
    """One statement on B-tree indexes: the entries with a name whose phonetic key is one of
    ``keys`` (the subject's, or its words written as one: "Dul Matin" finds "Dulmatin"), and
    the 50 entries sharing most of ``codes`` (``screening_entrytoken``), most first and, of
    as many, the one with fewer other words. ``(key_ids, [(entry_id, shared), ...])``."""
    organization = _uuid_param(organization_id)
    scope, scope_params = "", []
    if document_id:
        scope = "AND entry_id IN (SELECT id FROM screening_entry WHERE document_id = %s)"
        scope_params = [_uuid_param(document_id)]
    parts, params = [], []
    if keys:
        marks = ", ".join(["%s"] * len(keys))
        parts.append(
            f"""SELECT * FROM (SELECT entry_id, -1 AS shared, 0 AS words
            FROM screening_entryname
            WHERE organization_id = %s AND phonetic IN ({marks}) {scope} LIMIT %s) AS by_key"""
        )
        params += [organization, *keys, *scope_params, CANDIDATES]
    if codes:
        marks = ", ".join(["%s"] * len(codes))
        parts.append(
            f"""SELECT * FROM (SELECT entry_id, count(*) AS shared, min(words) AS words
            FROM screening_entrytoken
            WHERE organization_id = %s AND code IN ({marks}) {scope}
            GROUP BY entry_id ORDER BY shared DESC, words, entry_id LIMIT %s) AS by_words"""
        )
        params += [organization, *codes, *scope_params, CANDIDATES]
    if not parts:
        return [], []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    by_key = [uuid.UUID(str(row[0])) for row in rows if row[1] < 0]
    shared = sorted(
        ((uuid.UUID(str(row[0])), row[1], row[2]) for row in rows if row[1] >= 0),
        key=lambda row: (-row[1], row[2], row[0]),
    )
    return by_key, [(entry_id, count) for entry_id, count, _ in shared]


def candidates(*, organization_id, prepared, identifiers: list[str], document_id=None) -> list:
    """The ids of the entries worth scoring against a subject (see the module), best first.

    The entries holding one of its identity numbers; then those sharing most of its rarer
    words (by phonetic code); and only when no entry shares all of them but one (a typo, a
    name written in one word), the names alike by trigrams (PostgreSQL) or by their words
    (SQLite).
    """
    first = prepared.names[0] if prepared.names else None
    ids: list = []
    if identifiers:
        found = EntryIdentifier.objects.filter(
            organization_id=organization_id, value__in=[v for v in identifiers if v]
        )
        if document_id:
            found = found.filter(entry__document_id=document_id)
        ids.extend(found.values_list("entry_id", flat=True)[:CANDIDATES])
    if first is None:
        return ids
    codes = _subject_codes(first)
    phonetic = " ".join(sorted(first.codes))
    joined = matching.joined_key(first.raw)
    keys = [key for key in (phonetic, joined) if key]
    searched = sorted({*codes, joined} - {""}) if codes else []
    by_key, shared = _candidates_by_key_and_words(organization_id, keys, searched, document_id)
    ids.extend(by_key)
    ids.extend(entry_id for entry_id, _ in shared)
    best = shared[0][1] if shared else 0
    if best < max(1, len(codes) - 1):
        if settings.POSTGRESQL:
            ids.extend(
                _candidates_postgres(organization_id, first.sorted_folded, phonetic, document_id)
            )
        else:
            ids.extend(_candidates_portable(organization_id, first, phonetic, document_id))
    return list(dict.fromkeys(ids))


def _candidates_postgres(organization_id, normalized: str, phonetic: str, document_id) -> list:
    """One statement: trigram-similar names or the same phonetic key, best first."""
    document_clause = (
        "AND n.entry_id IN (SELECT id FROM screening_entry WHERE document_id = %s)"
        if document_id
        else ""
    )
    sql = f"""
        SELECT n.entry_id, max(similarity(n.normalized, %s)) AS best
        FROM screening_entryname n
        WHERE n.organization_id = %s
          AND (n.normalized %% %s OR (n.phonetic = %s AND n.phonetic <> ''))
          {document_clause}
        GROUP BY n.entry_id
        ORDER BY best DESC
        LIMIT %s
    """
    params = [normalized, organization_id, normalized, phonetic]
    if document_id:
        params.append(document_id)
    params.append(CANDIDATES)
    with transaction.atomic(), connection.cursor() as cursor:
        # Against one organization's few thousand names the planner prefers reading them all
        # and computing every similarity (about 45 ms at 10,000 entries) to the GIN index
        # (a few ms): the trigram step is told to use the index.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _candidates_portable(organization_id, name, phonetic: str, document_id) -> list:
    """SQLite: names sharing the phonetic key, or one of the subject's rarer words or their
    phonetic codes."""
    rare = matching.rare_words(name)
    words = [word for word in rare if len(word) >= 3] or list(name.words[:1])
    condition = Q(phonetic=phonetic) if phonetic else Q(pk__in=[])
    for word in words:
        condition |= Q(normalized__contains=word)
    codes = dict(zip(name.words, name.codes, strict=True))
    for word in rare:
        if len(codes.get(word, "")) >= 2:
            condition |= Q(phonetic__contains=codes[word])
    names = EntryName.objects.filter(condition, organization_id=organization_id)
    if document_id:
        names = names.filter(entry__document_id=document_id)
    return list(
        names.values("entry_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("entry_id", flat=True)[: CANDIDATES * 4]
    )


# -- runs and matches ----------------------------------------------------------------------


def run_list(*, organization) -> QuerySet[Run]:
    """The organization's screening runs, newest first."""
    return Run.objects.filter(organization=organization).order_by("-created_at")


class RunFilter(DateRangeFilterSet):
    """Filters of the runs."""

    scope = django_filters.ChoiceFilter(choices=Run.Scope.choices)
    status = django_filters.ChoiceFilter(choices=Run.Status.choices)
    trigger = django_filters.CharFilter()

    class Meta:
        model = Run
        fields: list[str] = []


def match_list(*, organization) -> QuerySet[Match]:
    """The organization's matches, best first, with their entries."""
    return (
        Match.objects.filter(organization=organization)
        .select_related("entry")
        .order_by("-score", "created_at")
    )


class MatchFilter(django_filters.FilterSet):
    """Filters of the matches: run, subject, status, score range, whether past the threshold."""

    run = django_filters.UUIDFilter(field_name="run_id")
    entry = django_filters.UUIDFilter(field_name="entry_id")
    subject_kind = django_filters.ChoiceFilter(choices=SubjectKind.choices)
    subject_id = django_filters.UUIDFilter()
    status = django_filters.ChoiceFilter(choices=Match.Status.choices)
    is_match = StrictBooleanFilter(help_text="`true`: past the threshold; `false`: below it.")
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte")
    max_score = django_filters.NumberFilter(field_name="score", lookup_expr="lte")

    class Meta:
        model = Match
        fields: list[str] = []


def member_ids(*, organization, user_id) -> QuerySet:
    """The membership ids of a user in the organization (a member subject is a membership)."""
    from valar.organizations.models import Membership

    return Membership.objects.filter(organization=organization, user_id=user_id).values("pk")


def affiliated_users(*, organization) -> QuerySet:
    """Members with at least one match: one row per user with counts, best score and flag."""
    from valar.organizations.models import Membership

    matched = Match.objects.filter(organization=organization, subject_kind=SubjectKind.MEMBER)
    return (
        Membership.objects.filter(organization=organization, pk__in=matched.values("subject_id"))
        .select_related("user")
        .order_by("user__email")
    )


def member_match_counts(*, organization, membership_ids: list) -> dict:
    """Per membership: matches, pending ones, confirmed ones and the best score (one query)."""
    rows = (
        Match.objects.filter(
            organization=organization,
            subject_kind=SubjectKind.MEMBER,
            subject_id__in=membership_ids,
        )
        .values("subject_id")
        .annotate(
            matches=Count("pk"),
            pending=Count("pk", filter=Q(status=Match.Status.PENDING)),
            confirmed=Count("pk", filter=Q(status=Match.Status.CONFIRMED)),
            best=Max("score"),
        )
    )
    return {row["subject_id"]: row for row in rows}


# -- subjects of a run ---------------------------------------------------------------------


def _subject_querysets(run: Run) -> list[tuple[str, QuerySet]]:
    """The stored subjects a run screens, per kind."""
    kinds = {
        Run.Scope.CUSTOMERS: [SubjectKind.CUSTOMER],
        Run.Scope.VENDORS: [SubjectKind.VENDOR],
        Run.Scope.MEMBERS: [SubjectKind.MEMBER],
        Run.Scope.ALL: [SubjectKind.CUSTOMER, SubjectKind.VENDOR, SubjectKind.MEMBER],
        Run.Scope.SUBJECT: [run.subject_kind] if run.subject_kind in STORED_SUBJECTS else [],
    }.get(run.scope, [])
    found = []
    for kind in kinds:
        queryset = subject_model(kind).objects.filter(organization_id=run.organization_id)
        if run.scope == Run.Scope.SUBJECT:
            queryset = queryset.filter(pk=run.subject_id)
        found.append((kind, queryset))
    return found


def _subject(kind: str, row: dict):
    """A stored subject's row as a screening subject."""
    from valar.screening.services import Subject

    if kind == SubjectKind.MEMBER:
        name = f"{row['user__first_name']} {row['user__last_name']}".strip()
        return Subject(kind=kind, id=row["id"], name=name)
    return Subject(kind=kind, id=row["id"], name=row["name"])


def _subject_values(kind: str, queryset: QuerySet) -> QuerySet:
    """The columns a subject is screened on."""
    if kind == SubjectKind.MEMBER:
        return queryset.exclude(user__first_name="", user__last_name="").values(
            "id", "user__first_name", "user__last_name"
        )
    return queryset.exclude(name="").values("id", "name")


def subject_count(*, run: Run, file: str = "") -> int:
    """How many subjects the run screens (one COUNT per kind)."""
    if run.scope == Run.Scope.FILE:
        return len(file_subjects_stored(file))
    return sum(_subject_values(kind, qs).count() for kind, qs in _subject_querysets(run))


def subject_batches(*, run: Run, file: str = "", size: int):
    """The run's subjects in batches of ``size`` (keyset pages by id: no OFFSET scans)."""
    if run.scope == Run.Scope.FILE:
        subjects = file_subjects_stored(file)
        for start in range(0, len(subjects), size):
            yield subjects[start : start + size]
        return
    for kind, queryset in _subject_querysets(run):
        last = None
        while True:
            page = queryset if last is None else queryset.filter(pk__gt=last)
            rows = list(_subject_values(kind, page).order_by("pk")[:size])
            if not rows:
                break
            last = rows[-1]["id"]
            yield [_subject(kind, row) for row in rows]


def file_subjects(upload, file_type: str) -> list:
    """The subjects of an uploaded file: a ``name`` column, optional ``birth_date``,
    ``nationality`` and ``identifier``/``nik``/``passport`` columns."""
    from valar.screening import etl
    from valar.screening.services import Subject

    frame = etl.read_frame(upload, file_type)
    columns = {str(column).strip().casefold(): column for column in frame.columns}
    name = columns.get("name") or columns.get("nama")
    if name is None:
        from valar.core.errors import DomainError

        raise DomainError(
            "The file needs a name column.", errors={"file": ["No column is named name."]}
        )
    subjects = []
    for row in frame.iter_rows(named=True):
        value = (row.get(name) or "").strip()
        if not value:
            continue
        birth = (row.get(columns.get("birth_date", "")) or "").strip()
        dates = etl.parse_dates(birth) if birth else []
        identifiers = []
        for key in ("identifier", "nik", "passport"):
            raw = (row.get(columns.get(key, "")) or "").strip()
            if raw:
                identifiers.append(("other" if key == "identifier" else key, raw))
        subjects.append(
            Subject(
                kind=SubjectKind.FILE,
                id=None,
                name=value[:300],
                birth_date=dates[0] if dates else "",
                nationality=(row.get(columns.get("nationality", "")) or "").strip()[:100],
                identifiers=tuple(identifiers),
            )
        )
    return subjects


def file_subjects_stored(file: str) -> list:
    """The subjects of a run's kept file."""
    from django.core.files.storage import default_storage

    file_type = file.rsplit(".", 1)[-1]
    with default_storage.open(file, "rb") as handle:
        return file_subjects(handle, file_type)


# -- reports -------------------------------------------------------------------------------


def report_file(*, organization, job_id) -> tuple[str, str] | None:
    """``(stored name, run id)`` of the PDF of the organization's succeeded report job
    ``job_id``; ``None`` when there is no such job or its file is gone."""
    from django.core.files.storage import default_storage

    from valar.jobs.models import Job
    from valar.screening.services import REPORT_JOB

    job = Job.objects.filter(
        pk=job_id, organization=organization, kind=REPORT_JOB, state=Job.State.SUCCEEDED
    ).first()
    result = (job.result if job else None) or {}
    name = result.get("file")
    if not name or not default_storage.exists(name):
        return None
    return name, str(result.get("run", ""))
