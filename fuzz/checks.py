"""The checks of the fuzz run and what each one may not judge, shared by every fuzz test.

One definition for the in-process run, the stateful run and the run against ``make run``:
:data:`CHECKS` lists the schemathesis checks, :data:`EXCLUSIONS` the operations where a check
cannot know the answer, each with its reason. Only ``positive_data_acceptance`` has
exclusions: a request that fits the schema may still break a rule that no JSON Schema can
state (a password that must be the right one, an id that must exist, an end after a start).
The server answers those with a 400 problem naming the rule; schemathesis already takes 401,
403, 404, 409 and 429 as acceptable answers to valid data, so rules answered with those need
no exclusion.
"""

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

#: Every check the fuzz run applies to every answer.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    use_after_free,
    ensure_resource_availability,
]

_WRONG_SECRET = "a random credential or one-time token is wrong; the schema cannot know a valid one"
_UNKNOWN_REFERENCE = (
    "a random id in the body names no row of the organization (400 on the field, as documented); "
    "the schema cannot list the ids that exist"
)
_PERIOD_RULES = (
    "start_date must not come after end_date and a period covers at most 5 years; JSON Schema "
    "cannot compare two parameters"
)
_PASSWORD_RULES = (
    "the password validators (not too common, not like the e-mail, not all digits) are not "
    "expressible as a pattern"
)

#: ``(METHOD, path) -> {check name: reason}``: the checks that cannot judge an operation.
EXCLUSIONS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/v1/auth/login/"): {"positive_data_acceptance": _WRONG_SECRET},
    ("POST", "/api/v1/auth/jwt/"): {"positive_data_acceptance": _WRONG_SECRET},
    ("POST", "/api/v1/auth/email/verify/"): {"positive_data_acceptance": _WRONG_SECRET},
    ("POST", "/api/v1/auth/password/reset/confirm/"): {"positive_data_acceptance": _WRONG_SECRET},
    ("POST", "/api/v1/auth/password/change/"): {
        "positive_data_acceptance": "the current password must be the caller's: " + _WRONG_SECRET
    },
    ("POST", "/api/v1/auth/register/"): {"positive_data_acceptance": _PASSWORD_RULES},
    ("POST", "/api/v1/users/"): {"positive_data_acceptance": _PASSWORD_RULES},
    ("POST", "/api/v1/auth/tokens/"): {
        "positive_data_acceptance": "expires_at must lie in the future, which depends on the clock"
    },
    ("POST", "/api/v1/crm/deals/"): {"positive_data_acceptance": _UNKNOWN_REFERENCE},
    ("POST", "/api/v1/crm/stages/"): {"positive_data_acceptance": _UNKNOWN_REFERENCE},
    ("POST", "/api/v1/finance/attachments/"): {"positive_data_acceptance": _UNKNOWN_REFERENCE},
    ("POST", "/api/v1/finance/expenses/"): {"positive_data_acceptance": _UNKNOWN_REFERENCE},
    ("POST", "/api/v1/finance/incomes/"): {"positive_data_acceptance": _UNKNOWN_REFERENCE},
    ("POST", "/api/v1/finance/transactions/"): {"positive_data_acceptance": _UNKNOWN_REFERENCE},
    ("POST", "/api/v1/finance/subcategories/"): {"positive_data_acceptance": _UNKNOWN_REFERENCE},
    ("POST", "/api/v1/teams/"): {"positive_data_acceptance": _UNKNOWN_REFERENCE},
    ("GET", "/api/v1/teams/"): {
        "positive_data_acceptance": "the `lead` filter must name a member: " + _UNKNOWN_REFERENCE
    },
    ("GET", "/api/v1/teams/export/"): {
        "positive_data_acceptance": "the `lead` filter must name a member: " + _UNKNOWN_REFERENCE
    },
    ("GET", "/api/v1/teams/{id}/members/"): {
        "positive_data_acceptance": "the `lead` filter must name a member: " + _UNKNOWN_REFERENCE
    },
    ("POST", "/api/v1/crm/pipelines/"): {
        "positive_data_acceptance": "stage orders must be unique within a pipeline; JSON Schema's "
        "uniqueItems compares whole stages, not one property"
    },
    ("GET", "/api/v1/crm/deals/{id}/history/"): {"positive_data_acceptance": _PERIOD_RULES},
    ("GET", "/api/v1/finance/summary/"): {"positive_data_acceptance": _PERIOD_RULES},
    ("GET", "/api/v1/insights/breakdown/"): {"positive_data_acceptance": _PERIOD_RULES},
    ("GET", "/api/v1/insights/teams/"): {"positive_data_acceptance": _PERIOD_RULES},
    ("GET", "/api/v1/insights/teams/{team_id}/"): {"positive_data_acceptance": _PERIOD_RULES},
    ("POST", "/api/v1/insights/query/"): {
        "positive_data_acceptance": "which measure, field and grouping a source allows depends on "
        "the source (documented per source); the schema lists each independently"
    },
}


def checks_for(method: str, path: str) -> list:
    """The checks that apply to one operation: :data:`CHECKS` less its exclusions."""
    excluded = EXCLUSIONS.get((method.upper(), path), {})
    return [check for check in CHECKS if check.__name__ not in excluded]
