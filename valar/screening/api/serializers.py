"""Serializers of the screening endpoints: lists, ETL scripts, entries, runs, matches, and
the reports (summary, export, PDF report, insights)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from valar.core.serializers import (
    DateField,
    PatternDecimalField,
    PatternDecimalFieldSchema,
    QuerySerializer,
    StrictCharField,
    TenantRelatedField,
)
from valar.core.sysconfig import SCORE_PATTERN
from valar.screening import etl
from valar.screening.models import Entry, ListDocument, Match, Run, Settings, SubjectKind


class ScoreDecimalField(PatternDecimalField):
    """A score given as a decimal string only (the schema's type), never a JSON number."""

    def run_validation(self, data=serializers.empty):
        """An empty string is not a score (DRF would read it as null)."""
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)

    def to_internal_value(self, data):
        """Refuse anything but a string, then check the pattern."""
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScoreDecimalFieldSchema(PatternDecimalFieldSchema):
    """A score's schema: the pattern's decimal string (the parent's extension does not
    match a subclass)."""

    target_class = "valar.screening.api.serializers.ScoreDecimalField"


def ScoreField(**kwargs) -> PatternDecimalField:  # noqa: N802 (a field, named like one)
    """A score from 0 to 1 with at most four decimals, as a decimal string."""
    kwargs.setdefault(
        "error_messages",
        {"invalid": 'Give a decimal from 0 to 1 with at most 4 decimals, as a string ("0.85").'},
    )
    return ScoreDecimalField(max_digits=5, decimal_places=4, pattern=SCORE_PATTERN, **kwargs)


#: A birth date as screening reads it: a full date or a year alone.
BIRTH_DATE_PATTERN = (
    r"^(19[0-9]{2}|2[01][0-9]{2}|2200)(-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))?$"
)


def check_birth_date(value: str) -> str:
    """A year or an ISO date that exists, from 1900 to 2200 (the API's calendar); else 400."""
    import datetime

    from valar.core.limits import MAX_DATE, MIN_DATE

    if not value:
        return value
    try:
        day = (
            datetime.date(int(value), 1, 1)
            if len(value) == 4
            else datetime.date.fromisoformat(value)
        )
    except ValueError as exc:
        raise serializers.ValidationError(f"Not a date of the calendar: {value}.") from exc
    if not MIN_DATE.year <= day.year <= MAX_DATE.year:
        raise serializers.ValidationError(f"Give a year from {MIN_DATE.year} to {MAX_DATE.year}.")
    return value


def BirthDateField(**kwargs) -> serializers.RegexField:  # noqa: N802 (a field, named like one)
    """A full date (1960-08-17) or a year (1960), checked by :func:`check_birth_date`."""
    kwargs.setdefault("help_text", "A date (1960-08-17) or a year (1960), 1900 to 2200.")
    return serializers.RegexField(BIRTH_DATE_PATTERN, validators=[check_birth_date], **kwargs)


def script_choices() -> list[str]:
    """The names of the ETL scripts."""
    return sorted(etl.SCRIPTS)


class DocumentSerializer(serializers.ModelSerializer):
    """An uploaded list and what its last ETL run made of it."""

    class Meta:
        model = ListDocument
        fields = [
            "id",
            "name",
            "source",
            "list_date",
            "etl_script",
            "etl_options",
            "filename",
            "file_type",
            "size",
            "status",
            "processed_with",
            "processed_at",
            "row_count",
            "entry_count",
            "error_count",
            "last_error",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema_field({"type": "string", "description": "A JSON object, as text."})
class JsonTextField(serializers.JSONField):
    """A JSON value sent as text in a form (multipart)."""


class DocumentWriteSerializer(serializers.Serializer):
    """What describes a list: its name, where it is from, its date and the script reading it."""

    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    source = StrictCharField(max_length=200, required=False, allow_blank=True)
    list_date = DateField(required=False, allow_null=True)
    etl_script = serializers.ChoiceField(
        choices=script_choices(), required=False, help_text="The ETL script (`dttot` by default)."
    )
    etl_options = serializers.DictField(
        required=False,
        help_text='The script\'s options: `generic-csv` takes `{"columns": {"name": "Full '
        "name\", ...}}` mapping entry fields to the file's columns.",
    )


class DocumentUploadSerializer(DocumentWriteSerializer):
    """An upload: the file (CSV, XLS, XLSX or XML, at most 50 MB) and its description."""

    file = serializers.FileField(write_only=True)
    #: A form carries no null: a date, or nothing.
    list_date = DateField(required=False)
    etl_options = JsonTextField(
        required=False,
        binary=True,
        help_text="The script's options as JSON text (a form carries text): "
        '`{"columns": {"name": "Full name", ...}}` for `generic-csv`.',
    )

    def validate_etl_options(self, value):
        """An object."""
        if not isinstance(value, dict):
            raise serializers.ValidationError("Give a JSON object.")
        return value


class DocumentBatchSerializer(DocumentUploadSerializer):
    """Several lists at once (``files``, each named after its file), read by one script."""

    files = serializers.ListField(
        child=serializers.FileField(), allow_empty=False, min_length=1, max_length=20
    )
    file = None
    name = None


class DataframeQuerySerializer(QuerySerializer):
    """``dataframe/``'s parameters."""

    rows = serializers.IntegerField(
        min_value=1, max_value=100, default=20, help_text="Rows to show (1-100, 20 by default)."
    )
    script = serializers.ChoiceField(
        choices=script_choices(),
        required=False,
        help_text="Show this script's column mapping instead of the list's own.",
    )


class DocumentProcessSerializer(serializers.Serializer):
    """Lists to process, each with its own script (at most 20)."""

    documents = serializers.ListField(
        child=serializers.UUIDField(), allow_empty=False, min_length=1, max_length=20
    )


class DataframeSerializer(serializers.Serializer):
    """The first rows of a list as a table, and the columns its script would read."""

    script = serializers.CharField(help_text="The script (and version) whose mapping is shown.")
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(allow_null=True))
    )
    total_rows = serializers.IntegerField(allow_null=True)
    mapping = serializers.DictField(
        child=serializers.CharField(), help_text="Entry field -> the file's column read for it."
    )


class EtlScriptSerializer(serializers.Serializer):
    """An ETL script: what it reads and the columns it expects."""

    name = serializers.CharField()
    version = serializers.IntegerField()
    label = serializers.CharField(help_text="name@version, as a processed list records it.")
    description = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    file_types = serializers.ListField(child=serializers.CharField())
    options = serializers.DictField(child=serializers.CharField())


class IdentifierSerializer(serializers.Serializer):
    """An identity number: its kind and value."""

    kind = serializers.ChoiceField(choices=["nik", "passport", "other"], default="other")
    value = StrictCharField(max_length=60)


class ListEntrySerializer(serializers.ModelSerializer):
    """A listed person or organisation; ``names`` is the primary name then the aliases."""

    document = TenantRelatedField(queryset=ListDocument.objects.all())
    name = serializers.CharField(read_only=True, help_text="The primary name (names[0]).")
    names = serializers.ListField(
        child=StrictCharField(max_length=300), allow_empty=False, min_length=1, max_length=50
    )
    birth_dates = serializers.ListField(
        child=BirthDateField(),
        required=False,
        max_length=20,
        help_text="ISO dates (1960-08-17) or years (1960).",
    )
    identifiers = IdentifierSerializer(many=True, required=False)
    birth_place = StrictCharField(max_length=200, required=False, allow_blank=True)
    nationality = StrictCharField(max_length=100, required=False, allow_blank=True)
    address = StrictCharField(max_length=2000, required=False, allow_blank=True)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    reference = StrictCharField(max_length=100, required=False, allow_blank=True)

    class Meta:
        model = Entry
        fields = [
            "id",
            "document",
            "kind",
            "name",
            "names",
            "birth_dates",
            "birth_place",
            "nationality",
            "identifiers",
            "address",
            "description",
            "reference",
            "rows",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "name", "rows", "created_by", "created_at", "updated_at"]

    def get_fields(self):
        """``document`` is fixed once the entry exists."""
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["document"].read_only = True
        return fields


class SubjectSerializer(serializers.Serializer):
    """A subject screened ad hoc."""

    name = StrictCharField(max_length=300)
    birth_date = BirthDateField(required=False, allow_blank=True)
    nationality = StrictCharField(max_length=100, required=False, allow_blank=True)
    identifiers = IdentifierSerializer(many=True, required=False, max_length=20)


#: The stored subjects a batch run may screen.
BATCH_SCOPES = ["customers", "vendors", "members", "all"]


class RunCreateSerializer(serializers.Serializer):
    """A run: one subject ad hoc (``subject``, answered at once) or every stored subject of a
    kind (``scope``, a job). A file of subjects is ``runs/file/``."""

    subject = SubjectSerializer(required=False)
    scope = serializers.ChoiceField(choices=BATCH_SCOPES, required=False)

    def validate(self, attrs):
        """Exactly one of ``subject`` and ``scope``."""
        if bool(attrs.get("subject")) == bool(attrs.get("scope")):
            raise serializers.ValidationError(
                {"subject": ["Give a subject to screen, or a scope (not both)."]}
            )
        return attrs


class RunFileSerializer(serializers.Serializer):
    """A file of subjects: CSV, XLS or XLSX with a ``name`` column and optional
    ``birth_date``, ``nationality``, ``identifier``, ``nik``, ``passport`` columns."""

    file = serializers.FileField(write_only=True)


class ListEntrySummarySerializer(serializers.ModelSerializer):
    """What a match shows of its entry."""

    class Meta:
        model = Entry
        fields = [
            "id",
            "document",
            "kind",
            "name",
            "names",
            "birth_dates",
            "birth_place",
            "nationality",
            "identifiers",
            "reference",
        ]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "Why the pair scored what it did: `name` (the best name pair, its "
        "method, value and weight), and when both sides have them `identifier`, "
        "`birth_date`, `nationality`; `total` is the score. See docs/api.md, "
        '"Reading a match".',
    }
)
class FeaturesField(serializers.JSONField):
    """A match's explanation map."""


class MatchSerializer(serializers.ModelSerializer):
    """A subject and a listed entry that scored at least the cutoff, and its review."""

    entry = ListEntrySummarySerializer(
        read_only=True,
        allow_null=True,
        help_text="Null once the entry is gone (list deleted or processed again).",
    )
    score = ScoreField(read_only=True)
    threshold = ScoreField(read_only=True)
    features = FeaturesField(read_only=True)

    class Meta:
        model = Match
        fields = [
            "id",
            "run",
            "subject_kind",
            "subject_id",
            "subject_name",
            "subject",
            "entry",
            "score",
            "threshold",
            "is_match",
            "features",
            "status",
            "reason",
            "reviewed_by",
            "reviewed_at",
            "created_at",
        ]
        read_only_fields = fields


class RunSerializer(serializers.ModelSerializer):
    """A screening run: whom it screened, with which scores, and how it went."""

    subject_kind = serializers.ChoiceField(
        choices=[("", ""), *SubjectKind.choices],
        read_only=True,
        help_text="The stored subject of a one-subject run; empty for a run of many.",
    )
    threshold = ScoreField(read_only=True)
    cutoff = ScoreField(read_only=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "scope",
            "subject",
            "subject_kind",
            "subject_id",
            "document",
            "trigger",
            "status",
            "threshold",
            "cutoff",
            "subject_count",
            "match_count",
            "job",
            "error",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class RunResultSerializer(RunSerializer):
    """An ad hoc run with its matches, best first."""

    matches = MatchSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "matches"]
        read_only_fields = fields


class ReviewSerializer(serializers.Serializer):
    """A review's reason (required)."""

    reason = StrictCharField(max_length=2000)


class ReviewedSerializer(serializers.Serializer):
    """How many pending matches a member's review settled."""

    user = serializers.UUIDField()
    reviewed = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Match.Status.choices)


class AffiliatedUserSerializer(serializers.Serializer):
    """A member with watch-list matches: counts, best score and whether flagged."""

    user = serializers.UUIDField(source="user_id")
    membership = serializers.UUIDField(source="pk")
    email = serializers.EmailField(source="user.email")
    name = serializers.SerializerMethodField()
    role = serializers.CharField()
    watchlist_flagged = serializers.BooleanField()
    matches = serializers.SerializerMethodField()
    pending = serializers.SerializerMethodField()
    confirmed = serializers.SerializerMethodField()
    best_score = serializers.SerializerMethodField()

    def _counts(self, obj) -> dict:
        """The member's counts from the view's one aggregate query."""
        return self.context.get("counts", {}).get(obj.pk, {})

    def get_name(self, obj) -> str:
        """The member's full name."""
        return f"{obj.user.first_name} {obj.user.last_name}".strip()

    def get_matches(self, obj) -> int:
        """Matches of the member."""
        return self._counts(obj).get("matches", 0)

    def get_pending(self, obj) -> int:
        """Matches waiting for a review."""
        return self._counts(obj).get("pending", 0)

    def get_confirmed(self, obj) -> int:
        """Confirmed hits."""
        return self._counts(obj).get("confirmed", 0)

    @extend_schema_field(OpenApiTypes.STR)
    def get_best_score(self, obj) -> str | None:
        """The best score, as a decimal string."""
        best = self._counts(obj).get("best")
        return None if best is None else str(best)


class SettingsSerializer(serializers.ModelSerializer):
    """The organization's scores; null falls back to the system's (ops/config/)."""

    match_threshold = ScoreField(
        required=False,
        allow_null=True,
        help_text="From this score a pair counts as a match (is_match); null: the system's.",
    )
    cutoff = ScoreField(
        required=False,
        allow_null=True,
        help_text="Pairs below it are not kept at all; at most the threshold; null: the system's.",
    )
    effective_threshold = ScoreField(read_only=True)
    effective_cutoff = ScoreField(read_only=True)

    class Meta:
        model = Settings
        fields = ["match_threshold", "cutoff", "effective_threshold", "effective_cutoff"]


# -- reports -------------------------------------------------------------------------------


class EntriesByDocumentSerializer(serializers.Serializer):
    """A list and how many entries it holds."""

    document = serializers.UUIDField()
    name = serializers.CharField()
    entries = serializers.IntegerField()


class EntriesByKindSerializer(serializers.Serializer):
    """Entries per kind."""

    person = serializers.IntegerField()
    organization = serializers.IntegerField()


class EntryFiguresSerializer(serializers.Serializer):
    """The entries the organization holds now: in all, per list (most first), per kind."""

    total = serializers.IntegerField()
    by_document = EntriesByDocumentSerializer(many=True)
    by_kind = EntriesByKindSerializer()


class RunsByStatusSerializer(serializers.Serializer):
    """Runs per status."""

    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()


class RunFiguresSerializer(serializers.Serializer):
    """The runs started in the period, in all and per status (as they stand now)."""

    total = serializers.IntegerField()
    by_status = RunsByStatusSerializer()


class MatchesByStatusSerializer(serializers.Serializer):
    """Matches per review status."""

    pending = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    dismissed = serializers.IntegerField()


class MatchFiguresSerializer(serializers.Serializer):
    """The matches made in the period: in all, per review status, past the threshold."""

    total = serializers.IntegerField()
    by_status = MatchesByStatusSerializer()
    past_threshold = serializers.IntegerField(
        help_text="Matches scoring at least the threshold in force when they were made."
    )


class ScreeningSummarySerializer(serializers.Serializer):
    """``screening/summary/``: the period's runs and matches, the entries held now."""

    start_date = DateField()
    end_date = DateField()
    entries = EntryFiguresSerializer()
    runs = RunFiguresSerializer()
    matches = MatchFiguresSerializer()
    confirmed_rate = ScoreField(
        allow_null=True,
        help_text="Confirmed / (confirmed + dismissed) over the period's matches, four "
        "decimals; null when none was reviewed.",
    )
    median_review_seconds = serializers.IntegerField(
        allow_null=True,
        help_text="Nearest-rank median of the seconds from a match's making to its review, "
        "over the matches reviewed in the period; null when none was.",
    )
    generated_at = serializers.DateTimeField()


class ExportQuerySerializer(QuerySerializer):
    """Query of ``screening/export/``."""

    format = serializers.ChoiceField(
        choices=["csv", "xlsx"], required=False, default="csv", help_text="File format."
    )
    what = serializers.ChoiceField(
        choices=["entries", "matches"], required=False, default="entries", help_text="Rows."
    )
    run = serializers.UUIDField(
        required=False, help_text="Only this run's matches (with what=matches)."
    )
    document = serializers.UUIDField(
        required=False,
        help_text="Only this list's entries, or only matches against its entries.",
    )

    def validate(self, attrs):
        """A run narrows matches only."""
        if attrs.get("run") and attrs["what"] != "matches":
            raise serializers.ValidationError({"run": ["Give a run only with what=matches."]})
        return attrs


class ReportRequestSerializer(serializers.Serializer):
    """Body of ``screening/report/``: the run to report on."""

    run = serializers.UUIDField()


class NationalitySerializer(serializers.Serializer):
    """A nationality and how many listed entries carry it."""

    nationality = serializers.CharField()
    entries = serializers.IntegerField()


class MonthCountSerializer(serializers.Serializer):
    """Matches made in one month (``2026-01``)."""

    month = serializers.CharField()
    count = serializers.IntegerField()


class ScreeningInsightsSerializer(serializers.Serializer):
    """``insights/screening/``: what the organization holds and the last 12 months' matches."""

    entries = serializers.IntegerField(help_text="Listed entries held now.")
    documents = serializers.IntegerField(help_text="Uploaded lists.")
    matches_by_status = MatchesByStatusSerializer()
    matches_by_month = MonthCountSerializer(
        many=True, help_text="Matches made per month, the last 12 months (this one last)."
    )
    top_nationalities = NationalitySerializer(
        many=True, help_text="The 10 commonest nationalities of the entries, most first."
    )
    confirmed_hits = serializers.IntegerField(help_text="Matches confirmed as hits.")
    generated_at = serializers.DateTimeField()
