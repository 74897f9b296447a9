"""The harness itself: the server answers, both demo users sign in over the API, Chromium loads
the console's page."""

from playwright.sync_api import expect

from e2e.conftest import api_get, csrf_headers


class TestHarness:
    """What every console test relies on."""

    def test_both_demo_users_sign_in_over_the_api(self, new_context, admin, client):
        """The admin's printed password and the client's reset one start sessions."""
        for account in (admin, client):
            context = new_context()
            assert context.request.get("/api/v1/auth/csrf/").status == 200
            response = context.request.post(
                "/api/v1/auth/login/",
                data={"email": account.email, "password": account.password},
                headers=csrf_headers(context),
            )
            assert response.status == 200, response.text()
            assert api_get(context, "auth/me/")["email"] == account.email

    def test_chromium_loads_the_console_page(self, new_context):
        """``/app/`` answers 200 in Chromium and its script renders the sign-in form."""
        page = new_context().new_page()
        response = page.goto("/app/")
        assert response is not None and response.status == 200
        assert "Chrome/" in page.evaluate("navigator.userAgent")
        expect(page.locator("form#signin")).to_be_visible()
