"""The session's user as a cache entry: never the password hash, and nothing lost by that.

``accounts.middleware`` keeps the signed-in user in the cache (and in each process's copy)
with ``password`` deferred and the session hash beside it. These tests read what the cache
holds, and check that the session still authenticates from the entry, that a password change
(which needs the stored hash) still works, and that saving the cached user keeps the password.
"""

import pickle

from django.core.cache import cache

from valar.accounts.middleware import user_entry
from valar.accounts.models import User
from valar.core import entries
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD

ME_URL = "/api/v1/auth/me/"


class CachedUserEntryTests(ApiTestCase):
    """The user entry carries no password hash; sessions and password changes still work."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user("ada@example.com", first_name="Ada")
        self.csrf = self.session_login(self.user)

    def cached_entry(self):
        """The user's entry as the cache holds it (after one request filled it)."""
        self.assertEqual(self.client.get(ME_URL).status_code, 200)
        stored = cache.get(user_entry(self.user.pk)[0])
        self.assertIsNotNone(stored, "the session request stored no user entry")
        return stored

    def test_the_cache_holds_no_password_hash(self):
        stored = self.cached_entry()
        user, session_hash = stored[1]
        self.assertNotIn("password", user.__dict__)
        self.assertNotIn(self.user.password.encode(), pickle.dumps(stored))
        self.assertEqual(session_hash, self.user.get_session_auth_hash())

    def test_a_session_request_reads_no_user_row_once_cached(self):
        self.cached_entry()
        entries.clear_local()
        with self.assertNumQueries(0):
            self.assertEqual(self.client.get(ME_URL).json()["first_name"], "Ada")

    def test_a_password_change_checks_the_stored_hash_and_keeps_the_session(self):
        self.cached_entry()
        response = self.client.post(
            "/api/v1/auth/password/change/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "a-new-Long-passphrase-7"},
            HTTP_X_CSRFTOKEN=self.csrf,
        )
        self.assertIn(response.status_code, (200, 204), response.content)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password("a-new-Long-passphrase-7"))
        self.assertEqual(self.client.get(ME_URL).status_code, 200)

    def test_saving_the_cached_user_keeps_the_password(self):
        self.cached_entry()
        response = self.client.patch(ME_URL, {"first_name": "Augusta"}, HTTP_X_CSRFTOKEN=self.csrf)
        self.assertEqual(response.status_code, 200, response.content)
        stored = User.objects.get(pk=self.user.pk)
        self.assertEqual(stored.first_name, "Augusta")
        self.assertEqual(stored.password, self.user.password)
        self.assertTrue(stored.check_password(DEFAULT_PASSWORD))

    def test_a_changed_password_ends_the_session_even_with_the_entry_cached(self):
        self.cached_entry()
        other = User.objects.get(pk=self.user.pk)
        other.set_password("another-Long-passphrase-9")
        other.save()
        self.assertEqual(self.client.get(ME_URL).status_code, 401)
