"""schemathesis over every operation of the OpenAPI schema, in process, as a signed-in admin.

Every generated request must get an answer that is not a server error, whose status code is
documented, whose body and headers match the schema, that accepts what the schema calls valid
and refuses what it calls invalid (the checks, and the rules they cannot know, are in
``fuzz/checks.py``). A stateful run then follows the links schemathesis derives between
operations (create, then read, change and delete what was created), where the
``use_after_free`` and ``ensure_resource_availability`` checks have something to compare.
``FUZZ_EXAMPLES`` bounds the examples per operation (default 40) and ``FUZZ_STATEFUL_EXAMPLES``
the stateful scenarios (default 30, each at most ``FUZZ_STATEFUL_STEPS`` calls, default 10).
"""

import os

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, settings

from fuzz.checks import CHECKS, changes_configuration, configure
from valar.accounts.models import User
from valar.accounts.services import token_create
from valar.core import sysconfig
from valar.core.models import SystemSetting
from valar.ops.services import DEMO_EMAIL, demo_seed
from valar.wsgi import application

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "30"))
STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "10"))

schema = configure(schemathesis.openapi.from_wsgi("/api/schema/", application))


@pytest.fixture
def admin_user(db):
    """The admin of the seeded demo organization (a platform operator), whom the fuzzer is."""
    demo_seed()
    yield User.objects.get(email=DEMO_EMAIL)
    # The database rolls back under this process's copy of the runtime configuration.
    sysconfig.clear_local()


def restore_configuration() -> None:
    """Every runtime setting back to its default (the fuzzer is a platform operator)."""
    SystemSetting.objects.all().delete()
    sysconfig.bump()


def auth_headers(user: User) -> dict[str, str]:
    """A fresh token's header: logout and password change may revoke the previous one."""
    _, key = token_create(user=user, name="fuzz")
    return {"Authorization": f"Token {key}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms(case, admin_user):
    """Each operation answers generated input without 5xx and as its schema says."""
    try:
        case.call_and_validate(
            headers=auth_headers(admin_user),
            checks=CHECKS,
        )
    finally:
        if changes_configuration(case.operation.method, case.operation.path):
            restore_configuration()


def test_linked_operations_conform(admin_user):
    """Scenarios along the derived links: what was created is there until it is deleted."""

    class Workflow(schema.as_state_machine()):
        """The schema's state machine, signed in as the admin, with the shared checks."""

        def setup(self):
            """Start each scenario from the seeded state (replays must see the same data)."""
            self.savepoint = transaction.savepoint()

        def teardown(self):
            """Undo what the scenario wrote (the runtime configuration included)."""
            transaction.savepoint_rollback(self.savepoint)
            sysconfig.bump()
            sysconfig.clear_local()

        def get_call_kwargs(self, case):
            """Sign every call in with a fresh token."""
            return {"headers": auth_headers(admin_user)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            """Apply the shared checks, with the scenario's history for the stateful ones."""
            case.validate_response(
                response,
                checks=CHECKS,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
