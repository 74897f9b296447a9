"""The checks of the fuzz runs and what they cannot know, defined once for every fuzz test.

:data:`CHECKS` is what the in-process run, the stateful run and the run against ``make run``
apply to every answer: schemathesis' standard checks plus ``negative_data_rejection``,
``positive_data_acceptance``, ``use_after_free`` and ``ensure_resource_availability``.

Nothing is excluded per operation. ``positive_data_acceptance`` is narrowed to what a schema
can promise: a request that fits the schema may still break a rule no JSON Schema states (a
password that must be the right one, an id that must exist, an end after its start). The
server answers those with a 400 problem naming the rule; :data:`KNOWN_RULES` lists each such
rule with its reason, the operations it applies to and how its answer is recognised (the
problem's ``code`` or its field messages). A 400 to valid data is excused only when every
message in it is one of these rules on one of its operations; anything else still fails.
schemathesis itself takes 401, 403, 404, 409 and 429 as answers to valid data (a missing
record, a duplicate), so those rules need no entry.

:func:`configure` tells the generator what the tool cannot know either: the server refuses
text with NUL characters (Django's fields do, as PostgreSQL cannot store them), which no
schema keyword short of a pattern on every string says.
"""

from dataclasses import dataclass

from schemathesis.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from schemathesis.openapi.checks import RejectedPositiveData


@dataclass(frozen=True)
class KnownRule:
    """A 400 to schema-valid input that states a rule the schema cannot express.

    ``operations`` are ``(METHOD, path)`` pairs (``None``: any operation, for a rule the
    kernel applies everywhere and recognised by its exact wording); the answer is recognised
    by its problem ``code`` or by field messages starting with one of ``messages``.
    """

    reason: str
    operations: frozenset[tuple[str, str]] | None
    code: str | None = None
    messages: tuple[str, ...] = ()

    def applies_to(self, method: str, path: str) -> bool:
        """Whether the rule holds on this operation."""
        return self.operations is None or (method.upper(), path) in self.operations

    def explains(self, message: str) -> bool:
        """Whether a field message is this rule's."""
        return any(message.startswith(prefix) for prefix in self.messages)


def _ops(*pairs: str) -> frozenset[tuple[str, str]]:
    """``"POST /path/"`` strings as ``(METHOD, path)`` pairs."""
    return frozenset(tuple(pair.split(" ", 1)) for pair in pairs)


#: The resources with ``bulk/`` and ``import/`` (paths under ``/api/v1/``).
BULK_PATHS = (
    "tasks/",
    "crm/leads/",
    "crm/customers/",
    "finance/transactions/",
    "finance/incomes/",
    "finance/expenses/",
)

#: Every rule a valid-looking request may break, with why the schema cannot say it.
KNOWN_RULES = [
    KnownRule(
        reason="generated credentials or one-time tokens are not the account's; the schema "
        "can describe their shape, not which ones are right",
        operations=_ops(
            "POST /api/v1/auth/login/",
            "POST /api/v1/auth/jwt/",
            "POST /api/v1/auth/email/verify/",
            "POST /api/v1/auth/password/reset/confirm/",
        ),
        code="invalid_credentials",
    ),
    KnownRule(
        reason="a generated e-mail or password-reset token is not one the server issued",
        operations=_ops(
            "POST /api/v1/auth/email/verify/",
            "POST /api/v1/auth/password/reset/confirm/",
        ),
        code="invalid_token",
    ),
    KnownRule(
        reason="the current password must be the caller's, which no schema can know",
        operations=_ops("POST /api/v1/auth/password/change/"),
        messages=("The current password is wrong.",),
    ),
    KnownRule(
        reason="the password validators (not too common, not like the e-mail or name, not all "
        "digits) compare with a word list and the other fields; no pattern can state them",
        operations=_ops(
            "POST /api/v1/auth/register/",
            "POST /api/v1/users/",
            "POST /api/v1/users/{id}/reset-password/",
            "POST /api/v1/auth/password/change/",
            "POST /api/v1/auth/password/reset/confirm/",
        ),
        messages=(
            "The password is too similar to the",
            "This password is too common.",
            "This password is entirely numeric.",
            "This password is too short.",
        ),
    ),
    KnownRule(
        reason="each document type's number prefix must differ from the others' (defaults "
        "fill the ones not given); no JSON Schema keyword compares two properties' values",
        operations=_ops(
            "PUT /api/v1/organizations/{id}/settings/",
            "PATCH /api/v1/organizations/{id}/settings/",
        ),
        messages=("Each document type needs its own prefix.",),
    ),
    KnownRule(
        reason="a generated id in the body names no row of the organization (a 400 on the "
        "field, as documented); the schema cannot list the ids that exist",
        operations=None,
        messages=('Invalid pk "',),
    ),
    KnownRule(
        reason="a generated id in a filter (`lead`, `team`) names no row of the organization; "
        "the schema cannot list the ids that exist. django-filter's wording is the same for an "
        "enum filter, but schema-valid input cannot miss an enum, so only ids answer it",
        operations=None,
        messages=("Select a valid choice. That choice is not one of the available choices.",),
    ),
    KnownRule(
        reason="a period's end (date or time) must not come before its start and a period "
        "covers at most 5 years; JSON Schema cannot compare two parameters",
        operations=None,
        messages=(
            "end_date must not be before start_date.",
            "Must not be before start_date.",
            "A period covers at most 5 years.",
            "end_time must not be before start_time.",
            "end must not be before start.",
        ),
    ),
    KnownRule(
        reason="a lead's status moves to qualified, disqualified or converted only through "
        "its actions (qualify/, disqualify/, convert/), which depends on the current status",
        operations=_ops(
            "POST /api/v1/crm/leads/",
            "PUT /api/v1/crm/leads/{id}/",
            "PATCH /api/v1/crm/leads/{id}/",
        ),
        messages=("Use qualify/, disqualify/ or convert/ for this status.",),
    ),
    KnownRule(
        reason="a bulk item's lead status follows the same rule as a single lead's",
        operations=_ops("POST /api/v1/crm/leads/bulk/"),
        messages=(
            "Use qualify/, disqualify/ or convert/ for this status.",
            "A converted lead keeps its status.",
        ),
    ),
    KnownRule(
        reason="a bulk write names rows by id: a generated id names no row the caller may "
        "reach, or is given twice (an update and a delete of the same row); at most 1,000 "
        "items in all, which per-list maxItems cannot state; the schema cannot list the ids "
        "that exist",
        operations=_ops(*(f"POST /api/v1/{path}bulk/" for path in BULK_PATHS)),
        code="too_many_items",
        messages=("Not found.", "This id is given more than once."),
    ),
    KnownRule(
        reason="an import's file must be a CSV or an XLSX workbook whose header names the "
        "resource's fields, at most 1,000 rows; `format: binary` cannot say what is inside",
        operations=_ops(*(f"POST /api/v1/{path}import/" for path in BULK_PATHS)),
        messages=(
            "Upload a CSV (UTF-8) or an XLSX file.",
            "The file is empty.",
            "The file has no header row.",
            "Unknown columns:",
            "Columns given more than once:",
            "At most 1,000 rows in one import.",
            "The workbook unpacks to more than 200 MB.",
            "The submitted file is empty.",
            "No file was submitted.",
        ),
    ),
    KnownRule(
        reason="an uploaded file must not be empty (Django reads an empty part without a "
        "content length as no file at all); `format: binary` has no minimum size",
        operations=_ops("POST /api/v1/finance/attachments/"),
        messages=("The submitted file is empty.", "No file was submitted."),
    ),
    KnownRule(
        reason="an admin's message names members and teams of the organization: generated ids "
        "name none (a 400 on `users` or `teams`, as documented), and at least one of users, "
        "teams or everyone must be given, three optional properties the schema lists apart",
        operations=_ops("POST /api/v1/notifications/send/"),
        code="no_recipients",
        messages=("Not a member of this organization:", "No such team in this organization:"),
    ),
    KnownRule(
        reason="a token's expiry must lie in the future, which depends on the clock",
        operations=_ops("POST /api/v1/auth/tokens/"),
        messages=("The expiry must be in the future.",),
    ),
    KnownRule(
        reason="stage orders must be unique within a pipeline (uniqueItems compares whole "
        "stages, not one of their properties) and a stage is not both won and lost (two "
        "properties compared)",
        operations=_ops(
            "POST /api/v1/crm/pipelines/",
            "PUT /api/v1/crm/pipelines/{id}/",
            "PATCH /api/v1/crm/pipelines/{id}/",
        ),
        messages=("Repeated order.", "A stage cannot be both won and lost."),
    ),
    KnownRule(
        reason="the screening cutoff must not be above the match threshold: a rule between "
        "two keys (one of them possibly the stored value), which JSON Schema cannot compare",
        operations=_ops("PATCH /api/v1/ops/config/"),
        messages=("Must not be above screening_match_threshold",),
    ),
    KnownRule(
        reason="a watch list (or a file of subjects) must be a CSV, XLS, XLSX or XML file the "
        "script can read, with the columns it needs, and not empty; `format: binary` cannot "
        "say what is inside, and a JSON text's content is not a schema's to state",
        operations=_ops(
            "POST /api/v1/screening/documents/",
            "POST /api/v1/screening/documents/batch/",
            "POST /api/v1/screening/runs/file/",
        ),
        messages=(
            "Upload a CSV (UTF-8), XLS, XLSX or XML file.",
            "The file is empty.",
            "The submitted file is empty.",
            "No file was submitted.",
            "The file needs a name column.",
            "No row has a name.",
            "No column is named name.",
            "Value must be valid JSON.",
            "Give a JSON object.",
            "The options are an object.",
            "Unknown options of",
            "columns is an object",
            "Unknown entry field",
            "The column of",
            "The script ",
            "This field is required.",
        ),
    ),
    KnownRule(
        reason="a birth date matches the pattern of a date and still may not exist "
        "(February 30th); a pattern cannot know the calendar",
        operations=_ops(
            "POST /api/v1/screening/runs/",
            "POST /api/v1/screening/entries/",
            "PUT /api/v1/screening/entries/{id}/",
            "PATCH /api/v1/screening/entries/{id}/",
        ),
        messages=("Not a date of the calendar:",),
    ),
    KnownRule(
        reason="the cutoff must not be above the match threshold, either of them possibly the "
        "stored value or the system's: JSON Schema cannot compare two values",
        operations=_ops("PATCH /api/v1/screening/settings/"),
        messages=("The cutoff (",),
    ),
    KnownRule(
        reason="a run screens a subject or a scope, exactly one: two optional properties "
        "the schema lists apart",
        operations=_ops("POST /api/v1/screening/runs/"),
        messages=("Give a subject to screen, or a scope (not both).",),
    ),
    KnownRule(
        reason="an export names a run only for matches (`what=matches`): JSON Schema cannot "
        "tie one parameter's presence to another's value",
        operations=_ops("GET /api/v1/screening/export/"),
        messages=("Give a run only with what=matches.",),
    ),
    KnownRule(
        reason="a list processed in a batch must be one of the organization's lists; the "
        "schema cannot list the ids that exist",
        operations=_ops("POST /api/v1/screening/documents/batch/process/"),
        messages=("No list ",),
    ),
    KnownRule(
        reason="which measures, groupings, date fields and filters a source allows depends on "
        "the source (documented per source); the schema lists each of them independently",
        operations=_ops("POST /api/v1/insights/query/"),
        code="invalid_query",
    ),
    KnownRule(
        reason="an alert rule's figure is a metrics query: which measures, date fields and "
        "filters a source allows depends on the source, a source needs its module, and a "
        "period's length depends on the period (hours only on datetime fields); the schema "
        "lists each field independently",
        operations=_ops(
            "POST /api/v1/ops/alerts/",
            "PUT /api/v1/ops/alerts/{id}/",
            "PATCH /api/v1/ops/alerts/{id}/",
        ),
        code="invalid_query",
    ),
]


def _messages(errors) -> list[str]:
    """Every message of a problem's ``errors`` (nested field errors flattened)."""
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, list):
        return [message for item in errors for message in _messages(item)]
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in _messages(value)]
    return []


def breaks_known_rule(method: str, path: str, status: int, problem) -> bool:
    """Whether a 400 problem says only that known rules of this operation were broken."""
    if status != 400 or not isinstance(problem, dict):
        return False
    rules = [rule for rule in KNOWN_RULES if rule.applies_to(method, path)]
    if any(rule.code is not None and rule.code == problem.get("code") for rule in rules):
        return True
    messages = _messages(problem.get("errors"))
    return bool(messages) and all(
        any(rule.explains(message) for rule in rules) for message in messages
    )


def positive_data_acceptance_except_known_rules(ctx, response, case):
    """schemathesis' ``positive_data_acceptance``, except for the 400s of :data:`KNOWN_RULES`."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        try:
            problem = response.json()
        except ValueError:
            problem = None
        method, path = case.operation.method, case.operation.path
        if breaks_known_rule(method, path, response.status_code, problem):
            return None
        raise


#: Every check the fuzz runs apply to every answer.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance_except_known_rules,
    use_after_free,
    ensure_resource_availability,
]


#: The runtime configuration's operations: global state, restored after each call (see
#: :func:`changes_configuration`) so a generated page size or rate does not shape the rest.
CONFIG_PATH = "/api/v1/ops/config/"


def changes_configuration(method: str, path: str) -> bool:
    """Whether a call may have changed the runtime configuration (``ops/config/``).

    The fuzzer signs in as the demo admin, a platform operator: a generated ``throttle_user``
    of ``1/day`` would make every later operation a 429 and test nothing. The runs put every
    key back to its default after such a call, as they fetch a new token after a revoking one.
    """
    return path.startswith(CONFIG_PATH) and method.upper() in {"PATCH", "POST"}


def configure(schema):
    """Generate no NUL characters: the server refuses them in any text (see the module doc)."""
    schema.config.generation.update(allow_x00=False)
    return schema
