"""Deny by default: every URL has an access rule, and nothing but the allow-list
answers an anonymous or password-only (unverified) client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.access import rule_for
from tests.conftest import password_only_client
from tests.urlsweep import all_routes

# URL names that may answer without a verified session.
ANONYMOUS_ALLOWED = {"accounts:login", "healthz", "set_language"}
# Additionally reachable once the password step is passed (the second-factor pages).
UNVERIFIED_ALLOWED = ANONYMOUS_ALLOWED | {"accounts:otp", "accounts:enrol", "accounts:logout"}

ROUTES = all_routes()


def test_sweep_covers_the_whole_site():
    names = {r.name for r in ROUTES}
    # The sweep reaches our own views and the admin's.
    assert {"home", "cases:caseload", "accounts:login", "admin:index"} <= names
    assert len(ROUTES) > 20


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_every_url_has_an_access_rule(route):
    assert rule_for(route.callback) is not None, f"{route.name} ({route.path}) has no access rule"


def _refused(response, allowed_redirects: tuple[str, ...]) -> bool:
    if response.status_code in (403, 404):
        return True
    if response.status_code == 302:
        return response["Location"].split("?")[0] in allowed_redirects
    return False


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_reaches_nothing_outside_the_allow_list(client, route, method):
    if route.name in ANONYMOUS_ALLOWED:
        return
    response = getattr(client, method)(route.path)
    assert _refused(response, (reverse("accounts:login"),)), (
        f"{method.upper()} {route.path} answered anonymous with {response.status_code}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_password_only_session_reaches_nothing(caseworker, admin_user, route, method):
    """The MFA bypass test: a password-only session, even an administrator's,
    is sent to the code page (or refused) everywhere but the allow-list."""
    if route.name in UNVERIFIED_ALLOWED:
        return
    for user in (caseworker, admin_user):
        client = password_only_client(user)
        response = getattr(client, method)(route.path)
        assert _refused(response, (reverse("accounts:otp"),)), (
            f"{method.upper()} {route.path} answered unverified {user.username} "
            f"with {response.status_code}"
        )
