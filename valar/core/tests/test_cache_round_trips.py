"""Redis round trips per request, counted on the real client; per-organization version scopes."""

from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from valar.core import entries, tenancy
from valar.core.policy import Role
from valar.core.testing import ApiTestCase
from valar.core.testing.redis import redis_round_trips, skip_without_redis
from valar.core.testing.resources import TenantFixtureMixin

URL = "/api/v1/tasks/"


@skip_without_redis
class RoundTripTests(TenantFixtureMixin, ApiTestCase):
    """A session request makes at most 3 Redis round trips, a token request at most 2.

    The session with the runtime configuration's version (one ``MGET``); the versions with
    the user and membership entries (one ``MGET``); the rate limit's counter (one pipeline,
    which reads the configuration's version too). A token request has no session and its
    user comes with the token from the database.
    """

    module = "tasks"

    def setUp(self) -> None:
        """Sign the worker in by session and warm the versions (created on first read)."""
        super().setUp()
        self.session = self.client
        self.session_login(self.users[Role.WORKER], client=self.session)
        self.token = self.clients[Role.MANAGER]
        for client in (self.session, self.token):
            self.assertEqual(client.get(URL).status_code, 200)

    def count(self, client, **headers) -> list[str]:
        """The round trips of one list request (which must answer 200)."""
        with redis_round_trips() as trips:
            response = client.get(URL, **headers)
        self.assertEqual(response.status_code, 200, response.content)
        return trips

    def test_a_session_request_makes_at_most_three_round_trips(self):
        trips = self.count(self.session)
        self.assertLessEqual(len(trips), 3, trips)
        self.assertEqual(trips[0], "MGET", trips)  # the session and the configuration version

    def test_a_token_request_makes_at_most_two_round_trips(self):
        trips = self.count(self.token)
        self.assertLessEqual(len(trips), 2, trips)

    def test_a_process_without_its_copy_still_reads_the_entries_in_the_same_round_trips(self):
        entries.clear_local()
        self.assertLessEqual(len(self.count(self.session)), 3)
        entries.clear_local()
        self.assertLessEqual(len(self.count(self.token)), 2)

    def test_requests_without_a_session_or_tenant_read_the_version_in_their_pipeline(self):
        for client, url in ((self.token, "/api/v1/auth/me/"), (APIClient(), "/api/v1/")):
            with redis_round_trips() as trips:
                self.assertEqual(client.get(url).status_code, 200)
            self.assertEqual(len(trips), 1, trips)
            self.assertTrue(trips[0].startswith("PIPELINE(") and trips[0].endswith(",GET)"))

    def test_a_configuration_change_costs_no_round_trip_to_the_next_request(self):
        from valar.core import sysconfig
        from valar.ops.services import config_update

        config_update(actor=self.users[Role.ADMIN], changes={"page_size": 7})
        sysconfig.clear_local()  # as another process, whose copy predates the change
        trips = self.count(self.session)
        self.assertLessEqual(len(trips), 3, trips)
        sysconfig.clear_local()
        response = self.token.get(URL)
        self.assertEqual(response.status_code, 200)
        config_update(actor=self.users[Role.ADMIN], changes={"throttle_user": "999/min"})
        trips = self.count(self.token)
        self.assertLessEqual(len(trips), 2, trips)

    def test_naming_the_organization_costs_no_extra_round_trip(self):
        self.count(self.session, HTTP_X_ORGANIZATION=self.org.slug)  # stores its entry
        trips = self.count(self.session, HTTP_X_ORGANIZATION=self.org.slug)
        self.assertLessEqual(len(trips), 3, trips)


class VersionScopeTests(TenantFixtureMixin, ApiTestCase):
    """One organization's change invalidates its members' cached memberships, no one else's."""

    module = "tasks"

    def membership_reads(self, client) -> int:
        """How many statements one list request sends that read memberships."""
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(client.get(URL).status_code, 200)
        return sum(
            'FROM "organizations_membership"' in query["sql"] for query in queries.captured_queries
        )

    def test_a_rename_in_one_organization_leaves_the_others_entries_valid(self):
        ours, theirs = self.clients[Role.MANAGER], self.other_client
        self.membership_reads(ours)
        self.membership_reads(theirs)
        self.assertEqual(self.membership_reads(theirs), 0)  # warm: from the cache

        self.org.name = "Renamed"
        self.org.save()

        self.assertEqual(self.membership_reads(theirs), 0)
        self.assertEqual(self.membership_reads(ours), 1)

    def test_a_renamed_organization_is_seen_at_once_by_its_members(self):
        manager = self.users[Role.MANAGER]
        self.assertEqual(self.resolve(manager).organization.name, "Org")
        self.org.name = "Renamed"
        self.org.save()
        self.assertEqual(self.resolve(manager).organization.name, "Renamed")

    @staticmethod
    def resolve(user):
        """The tenant a fresh request of ``user`` resolves (through the cache)."""
        request = RequestFactory().get(URL)
        request.user = user
        return tenancy.resolve(request)
