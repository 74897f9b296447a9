"""Watch-list screening: uploaded lists, their entries, screening runs and their matches.

A :class:`ListDocument` is an uploaded watch list (DTTOT, the UN consolidated list, any CSV or
spreadsheet); its ETL script (``valar.screening.etl``) turns its rows into :class:`Entry` rows,
each with one :class:`EntryName` per name or alias (normalised, with phonetic keys, for the
candidate search) and one :class:`EntryIdentifier` per identity number. A :class:`Run` screens
one subject or many (customers, vendors, members, a file) against the organization's entries;
each pair scoring at least the cutoff is a :class:`Match` with its score, the threshold in force
and the features that explain the score; reviewers confirm or dismiss it.
"""

from django.conf import settings
from django.db import models

from valar.core.models import BaseModel, TenantModel

#: A score: 0.0000 to 1.0000.
SCORE_DIGITS = {"max_digits": 5, "decimal_places": 4}


class ListDocument(TenantModel):
    """An uploaded watch list: the file as it came, and what its last ETL run made of it."""

    class Status(models.TextChoices):
        """Where the list is: uploaded, being read, read (``processed``) or its run failed."""

        UPLOADED = "uploaded"
        PROCESSING = "processing"
        PROCESSED = "processed"
        FAILED = "failed"

    class FileType(models.TextChoices):
        """The file's type, proven by its bytes."""

        CSV = "csv"
        XLS = "xls"
        XLSX = "xlsx"
        XML = "xml"

    name = models.CharField(max_length=200)
    source = models.CharField(max_length=200, blank=True)
    list_date = models.DateField(null=True, blank=True)
    etl_script = models.CharField(max_length=40, default="dttot")
    #: Options of the ETL script (``generic-csv``'s column map).
    etl_options = models.JSONField(default=dict, blank=True)
    file = models.FileField(upload_to="screening", max_length=200, editable=False)
    filename = models.CharField(max_length=255, blank=True, editable=False)
    file_type = models.CharField(max_length=4, choices=FileType.choices, editable=False)
    size = models.PositiveIntegerField(default=0, editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.UPLOADED, editable=False
    )
    #: The script and version of the last successful run (``dttot@1``).
    processed_with = models.CharField(max_length=60, blank=True, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True, editable=False)
    row_count = models.PositiveIntegerField(default=0, editable=False)
    entry_count = models.PositiveIntegerField(default=0, editable=False)
    error_count = models.PositiveIntegerField(default=0, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    #: Every write bumps the organization's ``screening`` version (cached figures).
    metric_sources = ("screening",)
    audit_exclude = ("created_at", "updated_at")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "status"]),
        ]

    def __str__(self) -> str:
        """Show the list's name."""
        return self.name


class Entry(TenantModel):
    """One listed person or organisation, as its list's row said it, and normalised.

    ``names`` holds the primary name first, then the aliases; ``birth_dates`` ISO dates
    (``1960-08-17``) or years (``1960``); ``identifiers`` objects ``{"kind", "value"}`` (kinds
    ``nik``, ``passport``, ``other``). ``fingerprint`` is a digest of every matched field: a
    dismissed match comes back only when it changes.
    """

    class Kind(models.TextChoices):
        """A person or an organisation."""

        PERSON = "person"
        ORGANIZATION = "organization"

    document = models.ForeignKey(ListDocument, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(max_length=300)
    names = models.JSONField(default=list)
    birth_dates = models.JSONField(default=list, blank=True)
    birth_place = models.CharField(max_length=200, blank=True)
    nationality = models.CharField(max_length=100, blank=True)
    identifiers = models.JSONField(default=list, blank=True)
    address = models.TextField(blank=True)
    description = models.TextField(blank=True)
    reference = models.CharField(max_length=100, blank=True)
    #: The spreadsheet rows the entry was read from (several when duplicates were merged).
    rows = models.JSONField(default=list, blank=True, editable=False)
    #: The normalised primary name (search and ordering).
    name_key = models.CharField(max_length=300, blank=True, editable=False)
    fingerprint = models.CharField(max_length=64, editable=False)

    #: Every write bumps the organization's ``screening`` version (cached figures).
    metric_sources = ("screening",)
    audit_exclude = ("created_at", "updated_at", "name_key", "fingerprint", "rows")

    class Meta:
        ordering = ["name_key", "created_at"]
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["organization", "name_key"]),
            models.Index(fields=["document", "name_key"]),
            models.Index(fields=["organization", "reference"]),
        ]

    def __str__(self) -> str:
        """Show the entry's primary name."""
        return self.name


class EntryName(models.Model):
    """One name or alias of an entry, normalised (tokens sorted) with its phonetic key.

    On PostgreSQL ``normalized`` carries a trigram (GIN) index and ``(organization,
    phonetic)`` a B-tree: the candidate search of a screening reads only this table.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="name_rows")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=300)
    normalized = models.CharField(max_length=300)
    phonetic = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["entry", "position"]
        indexes = [models.Index(fields=["organization", "phonetic"])]

    def __str__(self) -> str:
        """Show the name."""
        return self.name


class EntryToken(models.Model):
    """One word of an entry's names as its phonetic code, or a name's words written as one
    (``matching.joined_key``); each code once per entry.

    The candidate search's first stage: a B-tree on ``(organization, code)`` answers "the
    entries sharing most of the subject's rarer words", on every database, in about a
    millisecond against 10,000 entries.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="token_rows")
    code = models.CharField(max_length=40)
    #: How many word codes the entry has: of two entries sharing as many of a subject's
    #: words, the one with fewer other words is the likelier.
    words = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "code", "entry"])]

    def __str__(self) -> str:
        """Show the code."""
        return self.code


class EntryIdentifier(models.Model):
    """One identity number of an entry (NIK, passport), digits and letters only, upper case."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="identifier_rows")
    kind = models.CharField(max_length=20)
    value = models.CharField(max_length=60)

    class Meta:
        indexes = [models.Index(fields=["organization", "value"])]

    def __str__(self) -> str:
        """Show the identifier."""
        return f"{self.kind} {self.value}"


class SubjectKind(models.TextChoices):
    """What was screened: a name given ad hoc, a customer, a vendor, a member, a file's row."""

    ADHOC = "adhoc"
    CUSTOMER = "customer"
    VENDOR = "vendor"
    MEMBER = "member"
    FILE = "file"


class Run(TenantModel):
    """One screening: of a subject given ad hoc (answered at once) or of many (a job)."""

    class Scope(models.TextChoices):
        """Whom the run screens."""

        SUBJECT = "subject"
        CUSTOMERS = "customers"
        VENDORS = "vendors"
        MEMBERS = "members"
        ALL = "all"
        FILE = "file"

    class Status(models.TextChoices):
        """Whether the run has finished."""

        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    scope = models.CharField(max_length=10, choices=Scope.choices, editable=False)
    #: The subject of a one-subject run (name, birth_date, nationality, identifiers).
    subject = models.JSONField(default=dict, blank=True, editable=False)
    subject_kind = models.CharField(
        max_length=10, choices=SubjectKind.choices, blank=True, editable=False
    )
    subject_id = models.UUIDField(null=True, blank=True, editable=False)
    #: Only this list's entries (a run started because the list was processed).
    document = models.ForeignKey(
        ListDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: Why the run was made: ``request``, ``created``, ``renamed``, ``list_processed``.
    trigger = models.CharField(max_length=20, default="request", editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, editable=False
    )
    threshold = models.DecimalField(**SCORE_DIGITS, editable=False)
    cutoff = models.DecimalField(**SCORE_DIGITS, editable=False)
    subject_count = models.PositiveIntegerField(default=0, editable=False)
    match_count = models.PositiveIntegerField(default=0, editable=False)
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True, editable=False)

    #: Every write bumps the organization's ``screening`` version (cached figures).
    metric_sources = ("screening",)
    audit_exclude = ("created_at", "updated_at")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        """Show the run's scope and when it was made."""
        return f"{self.scope} {self.created_at:%Y-%m-%d %H:%M}"


class Match(TenantModel):
    """A subject and a listed entry that score at least the cutoff, and its review.

    ``features`` explains ``score`` (see docs/api.md, "Reading a match"). ``status`` starts
    ``pending``; a reviewer ``confirmed`` or ``dismissed`` it with a reason. A pair dismissed
    before, whose subject and entry have not changed since (``subject_fingerprint``,
    ``entry_fingerprint``), is stored ``dismissed`` at once, citing that review.
    """

    class Status(models.TextChoices):
        """The review."""

        PENDING = "pending"
        CONFIRMED = "confirmed"
        DISMISSED = "dismissed"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="matches")
    #: Null once the entry is gone (its list deleted or processed again): the match and its
    #: review stay, remembered by the entry's fingerprint.
    entry = models.ForeignKey(
        Entry, on_delete=models.SET_NULL, null=True, blank=True, related_name="matches"
    )
    subject_kind = models.CharField(max_length=10, choices=SubjectKind.choices)
    subject_id = models.UUIDField(null=True, blank=True)
    subject_name = models.CharField(max_length=300)
    subject = models.JSONField(default=dict)
    subject_fingerprint = models.CharField(max_length=64)
    entry_fingerprint = models.CharField(max_length=64)
    score = models.DecimalField(**SCORE_DIGITS)
    threshold = models.DecimalField(**SCORE_DIGITS)
    is_match = models.BooleanField(default=False)
    features = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    #: Every write bumps the organization's ``screening`` version (cached figures).
    metric_sources = ("screening",)
    audit_exclude = ("created_at", "updated_at", "features", "subject")

    class Meta:
        ordering = ["-score", "created_at"]
        verbose_name_plural = "matches"
        indexes = [
            models.Index(fields=["organization", "status", "-score"]),
            models.Index(fields=["run", "-score"]),
            models.Index(fields=["organization", "subject_kind", "subject_id"]),
            models.Index(fields=["organization", "subject_fingerprint", "entry_fingerprint"]),
        ]

    def __str__(self) -> str:
        """Show the pair and its score."""
        return f"{self.subject_name} ~ {self.entry_id} ({self.score})"


class Settings(BaseModel):
    """The organization's screening scores; an empty one falls back to the system default."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    match_threshold = models.DecimalField(**SCORE_DIGITS, null=True, blank=True)
    cutoff = models.DecimalField(**SCORE_DIGITS, null=True, blank=True)

    class Meta:
        verbose_name_plural = "settings"

    def __str__(self) -> str:
        """Show whose settings these are."""
        return f"screening settings of {self.organization_id}"
