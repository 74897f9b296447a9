"""Tests of session lifetime: idle timeout, absolute lifetime, and the session cookie's flags."""

import datetime

from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from valar.core.middleware import SEEN_RESOLUTION_SECONDS, SESSION_SEEN, SESSION_STARTED
from valar.core.testing import ApiTestCase
from valar.core.testing.cases import DEFAULT_PASSWORD

ME_URL = "/api/v1/auth/me/"


class SessionLifetimeTests(ApiTestCase):
    """A signed-in session ends after inactivity and at its absolute lifetime."""

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.session_login(self.user)

    def set_session(self, *, started_ago: datetime.timedelta, seen_ago: datetime.timedelta):
        now = timezone.now().timestamp()
        session = self.client.session
        session[SESSION_STARTED] = now - started_ago.total_seconds()
        session[SESSION_SEEN] = now - seen_ago.total_seconds()
        session.save()

    def test_sign_in_stamps_the_session_start_and_last_activity(self):
        session = self.client.session
        now = timezone.now().timestamp()
        self.assertAlmostEqual(session[SESSION_STARTED], now, delta=30)
        self.assertAlmostEqual(session[SESSION_SEEN], now, delta=30)

    def test_a_fresh_session_continues(self):
        self.assertEqual(self.client.get(ME_URL).status_code, 200)
        self.assertEqual(self.client.get(ME_URL).json()["email"], self.user.email)

    def test_a_session_idle_longer_than_the_timeout_is_signed_out(self):
        idle = settings.SESSION_IDLE_TIMEOUT
        self.set_session(started_ago=idle * 2, seen_ago=idle + datetime.timedelta(minutes=1))
        self.assert_problem(self.client.get(ME_URL), 401)
        self.assert_problem(self.client.get(ME_URL), 401)

    def test_a_session_idle_just_under_the_timeout_continues_and_its_activity_is_refreshed(self):
        idle = settings.SESSION_IDLE_TIMEOUT
        self.set_session(started_ago=idle, seen_ago=idle - datetime.timedelta(minutes=5))
        self.assertEqual(self.client.get(ME_URL).status_code, 200)
        seen = self.client.session[SESSION_SEEN]
        self.assertAlmostEqual(seen, timezone.now().timestamp(), delta=30)

    def test_activity_is_not_rewritten_more_often_than_the_resolution(self):
        recent = datetime.timedelta(seconds=SEEN_RESOLUTION_SECONDS / 2)
        self.set_session(started_ago=recent, seen_ago=recent)
        before = self.client.session[SESSION_SEEN]
        self.assertEqual(self.client.get(ME_URL).status_code, 200)
        self.assertEqual(self.client.session[SESSION_SEEN], before)

    def test_a_session_older_than_the_absolute_lifetime_is_signed_out_even_if_active(self):
        lifetime = settings.SESSION_ABSOLUTE_LIFETIME
        self.set_session(
            started_ago=lifetime + datetime.timedelta(minutes=1),
            seen_ago=datetime.timedelta(seconds=1),
        )
        self.assert_problem(self.client.get(ME_URL), 401)

    def test_a_session_just_under_the_absolute_lifetime_continues(self):
        lifetime = settings.SESSION_ABSOLUTE_LIFETIME
        self.set_session(
            started_ago=lifetime - datetime.timedelta(minutes=5),
            seen_ago=datetime.timedelta(seconds=1),
        )
        self.assertEqual(self.client.get(ME_URL).status_code, 200)

    def test_the_defaults_are_eight_hours_idle_and_fourteen_days_absolute(self):
        self.assertEqual(settings.SESSION_IDLE_TIMEOUT, datetime.timedelta(hours=8))
        self.assertEqual(settings.SESSION_ABSOLUTE_LIFETIME, datetime.timedelta(days=14))

    @override_settings(SESSION_IDLE_TIMEOUT=datetime.timedelta(minutes=10))
    def test_the_idle_timeout_follows_the_setting(self):
        self.set_session(
            started_ago=datetime.timedelta(hours=1), seen_ago=datetime.timedelta(minutes=11)
        )
        self.assert_problem(self.client.get(ME_URL), 401)

    @override_settings(SESSION_ABSOLUTE_LIFETIME=datetime.timedelta(hours=1))
    def test_the_absolute_lifetime_follows_the_setting(self):
        self.set_session(started_ago=datetime.timedelta(minutes=61), seen_ago=datetime.timedelta(0))
        self.assert_problem(self.client.get(ME_URL), 401)

    def test_a_session_signed_in_without_stamps_gets_them_on_its_next_request(self):
        session = self.client.session
        del session[SESSION_STARTED]
        del session[SESSION_SEEN]
        session.save()
        self.assertEqual(self.client.get(ME_URL).status_code, 200)
        session = self.client.session
        self.assertIn(SESSION_STARTED, session)
        self.assertIn(SESSION_SEEN, session)


class SessionCookieTests(ApiTestCase):
    """The session cookie set at sign-in is HttpOnly and SameSite=Lax."""

    def test_the_session_cookie_is_httponly_and_samesite_lax(self):
        user = self.make_user()
        csrf = self.csrf_token()
        response = self.client.post(
            "/api/v1/auth/login/",
            {"email": user.email, "password": DEFAULT_PASSWORD},
            HTTP_X_CSRFTOKEN=csrf,
        )
        self.assertEqual(response.status_code, 200)
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")
        self.assertEqual(int(cookie["max-age"]), settings.SESSION_COOKIE_AGE)

    def test_the_cookie_cannot_outlive_the_absolute_lifetime(self):
        self.assertLessEqual(
            settings.SESSION_COOKIE_AGE, settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()
        )
        self.assertTrue(settings.SESSION_COOKIE_HTTPONLY)
        self.assertEqual(settings.SESSION_COOKIE_SAMESITE, "Lax")
