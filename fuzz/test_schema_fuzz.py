"""schemathesis over every operation of the OpenAPI schema, in process, as a signed-in admin.

Every generated request must get an answer that is not a server error, whose status code is
documented, and whose body and headers match the schema. ``FUZZ_EXAMPLES`` bounds the
examples per operation (default 40) so the run stays within minutes on two cores.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from valar.accounts.models import User
from valar.accounts.services import token_create
from valar.ops.services import DEMO_EMAIL, demo_seed
from valar.wsgi import application

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))

#: The standard checks. schemathesis' positive-data check is left out on purpose: a request
#: that fits the schema may still break a business rule (a wrong password, a duplicate email)
#: and must then be a 400/409.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def admin_user(db):
    """The admin of the seeded demo organization, whom the fuzzer signs in as."""
    demo_seed()
    return User.objects.get(email=DEMO_EMAIL)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms(case, admin_user):
    """Each operation answers generated input without 5xx and as its schema says."""
    # A fresh token per request: logout and password change may revoke the previous one.
    _, key = token_create(user=admin_user, name="fuzz")
    case.call_and_validate(headers={"Authorization": f"Token {key}"}, checks=CHECKS)
