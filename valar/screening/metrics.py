"""The screening sources of the metrics engine: matches, runs and listed entries.

``screening_matches`` counts matches by when they were made (or reviewed: ``reviewed_at``),
split by review status or subject kind; ``past_threshold`` counts those scoring at least the
threshold in force when they were made. ``screening_runs`` counts runs, ``screening_entries``
listed entries by list, kind and nationality. None is money. Every write of the screening
models bumps the organization's ``screening`` version (``metric_sources`` on the models, and
``versions.bump`` after the services' bulk statements).
"""

from django.db.models import Count, F, Q

from valar.core.metrics import Dimension, Source, register
from valar.screening.models import Entry, Match, Run

#: The cache version every screening figure is kept under.
VERSION = "screening"

MATCHES = register(
    Source(
        name="screening_matches",
        model=Match,
        date_field="created_at",
        date_fields=("reviewed_at",),
        value=F("pk"),
        measures=("count", "past_threshold"),
        extra_measures={"past_threshold": Count("pk", filter=Q(is_match=True))},
        dimensions={
            "status": Dimension("status", kind="text"),
            "subject_kind": Dimension("subject_kind", kind="text"),
        },
        version=VERSION,
        money=False,
        module="screening",
        description="Screening matches, counted by when they were made or reviewed; "
        "past_threshold: those scoring at least the threshold in force.",
    )
)
RUNS = register(
    Source(
        name="screening_runs",
        model=Run,
        date_field="created_at",
        date_fields=("finished_at",),
        value=F("pk"),
        measures=("count",),
        dimensions={
            "status": Dimension("status", kind="text"),
            "scope": Dimension("scope", kind="text"),
            "trigger": Dimension("trigger", kind="text"),
        },
        version=VERSION,
        money=False,
        module="screening",
        description="Screening runs, counted by when they were started or finished.",
    )
)
ENTRIES = register(
    Source(
        name="screening_entries",
        model=Entry,
        date_field="created_at",
        value=F("pk"),
        measures=("count",),
        dimensions={
            "document": Dimension("document_id", "document__name"),
            "kind": Dimension("kind", kind="text"),
            "nationality": Dimension("nationality", kind="text"),
        },
        version=VERSION,
        money=False,
        module="screening",
        description="Listed watch-list entries, counted by when they were written.",
    )
)
