"""Persona tests for every page: works for the roles it is for; any other member of
staff gets 404; anonymous is sent to sign in; a password-only session is sent to
the code page; a wrong method is 405; CSRF is enforced on POST.

Every URL outside the admin must be listed in PAGES or in NOT_A_PAGE, so a new view
cannot land without its persona tests.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import roles
from tests.conftest import password_only_client, verified_client
from tests.factories import UserFactory
from tests.urlsweep import all_routes

pytestmark = pytest.mark.django_db

STAFF = {
    "caseworker": roles.CASEWORKER,
    "supervisor": roles.SUPERVISOR,
    "administrator": roles.ADMINISTRATOR,
    "auditor": roles.AUDITOR,
    "no-role": None,
}

# url name -> (method to load it, personas it is for, text the page must show)
PAGES = {
    "home": ("get", {"caseworker", "supervisor", "administrator", "auditor"}, "Welcome"),
    "cases:caseload": ("get", {"caseworker", "supervisor"}, "caseload"),
    "cases:search": ("get", {"caseworker", "supervisor"}, "Search cases"),
    "cases:open": ("get", {"caseworker"}, "Open a case"),
    "cases:break_glass": ("get", {"caseworker", "supervisor"}, "Open a case outside your caseload"),
    "safety:held_notices": ("get", {"supervisor"}, "Held notices"),
    "safety:notice_runs": ("get", {"supervisor"}, "Notice runs"),
    "audit:index": ("get", {"supervisor", "auditor"}, "Audit trail"),
}
# Methods each page answers; any other is 405.
METHODS = {
    "cases:search": {"get", "post"},
    "cases:open": {"get", "post"},
    "cases:break_glass": {"get", "post"},
    "audit:index": {"get", "post"},
}
# Pages about one case: persona-tested with real cases in tests/cases/test_case_page.py.
CASE_PAGES = {
    "cases:detail",
    "cases:contact_reveal",
    "cases:ssn_reveal",
    "cases:edit",
    "cases:participant_add",
    "cases:assign",
    "cases:contact_add",
    "cases:order_record",
    "cases:note_add",
    "cases:person_edit",
    "cases:contact_end",
    # FVI pages: tests/safety/test_fvi.py
    "safety:fvi_set",
    "safety:fvi_removal_request",
    "safety:fvi_removal_approve",
    "safety:fvi_removal_cancel",
    # Holds pages: tests/safety/test_holds_pages.py
    "safety:review",
    "safety:plan",
    "safety:court_hold_add",
    "safety:court_hold_lift",
    "safety:acp",  # tests/safety/test_acp.py
    # Held-notice review and decisions: tests/safety/test_held_notices.py and
    # tests/safety/test_notice_release.py
    "safety:notice_review",
    "safety:notice_keep",
    "safety:notice_cancel",
    "safety:notice_release",
    "safety:notice_run_progress",  # one run's counts: tests/safety/test_notice_runs.py
    # One person's or one staff member's audit trail: tests/accounts/test_audit_views.py
    "audit:person",
    "audit:staff",
}
# Public or second-factor pages, tested in test_sign_in.py / test_health.py / test_i18n.py.
NOT_A_PAGE = {
    "accounts:login",
    "accounts:otp",
    "accounts:enrol",
    "accounts:logout",
    "healthz",
    "set_language",
}

CASES = [(name, persona) for name in PAGES for persona in STAFF]


def _persona(name: str):
    role = STAFF[name]
    return UserFactory(
        username=f"persona-{name}", role=role, is_staff=(role == roles.ADMINISTRATOR)
    )


def test_every_view_outside_the_admin_is_listed():
    names = {r.name for r in all_routes() if not r.name.startswith("admin:")}
    assert names - set(PAGES) - NOT_A_PAGE - CASE_PAGES == set()


@pytest.mark.parametrize(("name", "persona"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_page_answers_its_personas_and_hides_from_others(name, persona):
    method, allowed, text = PAGES[name]
    client = verified_client(_persona(persona))
    response = getattr(client, method)(reverse(name))
    if persona in allowed:
        assert response.status_code == 200
        assert text.lower() in response.content.decode().lower()
    else:
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_sign_in_with_next(name):
    url = reverse(name)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("name", PAGES)
def test_unverified_is_sent_to_the_code_page(name):
    _, allowed, _ = PAGES[name]
    client = password_only_client(_persona(sorted(allowed)[0]))
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp") + "?next=")


@pytest.mark.parametrize("name", PAGES)
def test_wrong_method_is_405(name):
    method, allowed, _ = PAGES[name]
    client = verified_client(_persona(sorted(allowed)[0]))
    answers = METHODS.get(name, {method})
    for wrong in {"get", "post", "put", "delete"} - answers:
        assert getattr(client, wrong)(reverse(name)).status_code == 405, wrong
    assert client.delete(reverse(name)).status_code == 405


@pytest.mark.parametrize("name", PAGES)
def test_csrf_is_enforced(name):
    _, allowed, _ = PAGES[name]
    client = verified_client(_persona(sorted(allowed)[0]), Client(enforce_csrf_checks=True))
    response = client.post(reverse(name))
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


@pytest.mark.parametrize(
    "url_name", ["accounts:login", "accounts:otp", "accounts:logout", "set_language"]
)
def test_csrf_is_enforced_on_the_sign_in_forms(url_name, caseworker):
    client = password_only_client(caseworker, Client(enforce_csrf_checks=True))
    response = client.post(reverse(url_name), {"username": "x", "password": "y", "code": "123456"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    # The session was not ended by a forged sign-out.
    assert client.session.get("_auth_user_id") == str(caseworker.pk)


def test_security_headers_on_a_signed_in_page(caseworker_client):
    response = caseworker_client.get(reverse("home"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert response["X-Request-ID"]


def test_error_pages_show_no_technical_detail(caseworker_client):
    response = caseworker_client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "Traceback" not in html


@pytest.mark.parametrize(
    ("persona", "is_staff", "expected"),
    [
        ("administrator", True, 200),
        ("administrator", False, 404),  # the role alone is not enough
        ("caseworker", True, 404),  # nor is the is_staff flag alone
        ("supervisor", False, 404),
        ("auditor", False, 404),
    ],
)
def test_django_admin_is_for_verified_administrators_only(persona, is_staff, expected):
    user = UserFactory(username=f"adm-{persona}-{is_staff}", role=STAFF[persona], is_staff=is_staff)
    response = verified_client(user).get("/admin/")
    assert response.status_code == expected
    if expected == 200:
        assert "Safe Access administration" in response.content.decode()
    # A password-only administrator is sent to the code page, not the admin's own login.
    response = password_only_client(user).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp"))
