"""Bad input changes nothing: property-based (hypothesis) tests feed every POST
endpoint of the application, the Django admin's forms, and every filter (GET) form
generated inputs — huge strings, unicode, control
characters, SQL and template injection, wrong types (several values for one field,
numbers, dates in odd forms), missing and unknown fields — as the user who may use
the page. Every answer must be a page, never a server error; and unless the answer
is the page's own success (a redirect onward, or a revealed value), the database
must be exactly as it was.

The field names come from each form itself (the GET page's inputs), or from the
page that posts to it; ``EXAMPLES`` inputs per endpoint (200 in ``make test``)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import roles
from cases.models import Notice
from safety import notices, services
from safety.models import CourtOrderHold
from tests.conftest import verified_client
from tests.factories import UnitFactory, UserFactory, full_case
from tests.security.fingerprint import database_fingerprint

EXAMPLES = 200


NASTY = [
    "'; DROP TABLE cases_case; --",
    "' OR '1'='1",
    "{{ 7|add:7 }}{% debug %}",
    "${7*7}<%= 7*7 %>",
    "<script>alert(1)</script>",
    "\x00\x01\x02\x1b[31m",
    "\u202e\u200b\ufeff",
    "Ωμέγα 名字 🙂",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "2026-02-30",
    "31/12/2026",
    "9999-12-31",
    "0001-01-01",
    "00000000-0000-0000-0000-000000000000",
    "on",
    "true",
    "",
    " ",
]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=12000),
    st.integers().map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.just("x" * 100_000),
)


def _field_values(names):
    """A POST body: some of the form's fields (each one value or several), and
    perhaps an unknown one."""
    fields = st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(VALUES, st.lists(VALUES, min_size=2, max_size=3)) for name in names
        },
    )
    extra = st.dictionaries(st.sampled_from(["unknown", "id", "pk", "case"]), VALUES, max_size=1)
    return st.builds(lambda a, b: {**b, **a}, fields, extra)


def _succeeded(response) -> bool:
    if response.status_code == 302:
        return not response["Location"].startswith("/accounts/sign-in")
    return b'id="revealed-value"' in response.content


@pytest.fixture
def world(db):
    supervisor = UserFactory(username="bi-boss", role=roles.SUPERVISOR)
    admin = UserFactory(username="bi-admin", role=roles.ADMINISTRATOR, is_staff=True)
    worker = UserFactory(username="bi-worker", role=roles.CASEWORKER)
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(worker)
    case = full_case(caseworker=worker, unit=unit)
    cp = case.participants.get(role="custodial_parent").person
    point = cp.contact_points.get()
    fvi = services.fvi_set(user=worker, person=cp, reason="dv_disclosed")
    removal = services.fvi_removal_request(user=worker, fvi=fvi, reason="Order ended.")
    hold = CourtOrderHold.objects.create(
        case=case, remedy="", ordered_on=dt.date(2026, 1, 5), recorded_by=worker
    )
    notice = Notice.objects.create(
        case=case,
        remedy="lien",
        notice_type="lien_notice",
        recipient="other_parent",
        due_on=dt.date(2026, 12, 1),
    )
    notices.gate_pending([notice.pk])
    c, p = case.pk, cp.pk
    endpoints = {
        # name: (who posts, URL, the page whose form posts there)
        "cases:search": (worker, reverse("cases:search"), None),
        "cases:break_glass": (worker, reverse("cases:break_glass"), None),
        "cases:open": (worker, reverse("cases:open"), None),
        "cases:edit": (worker, reverse("cases:edit", args=[c]), None),
        "cases:participant_add": (worker, reverse("cases:participant_add", args=[c]), None),
        "cases:assign": (supervisor, reverse("cases:assign", args=[c]), None),
        "cases:contact_add": (worker, reverse("cases:contact_add", args=[c, p]), None),
        "cases:person_edit": (worker, reverse("cases:person_edit", args=[c, p]), None),
        "cases:contact_end": (worker, reverse("cases:contact_end", args=[c, point.pk]), None),
        "cases:order_record": (worker, reverse("cases:order_record", args=[c]), None),
        "cases:note_add": (worker, reverse("cases:note_add", args=[c]), None),
        "cases:contact_reveal": (worker, reverse("cases:contact_reveal", args=[c, point.pk]), None),
        "cases:ssn_reveal": (worker, reverse("cases:ssn_reveal", args=[c, p]), None),
        "safety:fvi_set": (worker, reverse("safety:fvi_set", args=[c, p]), None),
        "safety:fvi_removal_request": (
            worker,
            reverse("safety:fvi_removal_request", args=[c, fvi.pk]),
            None,
        ),
        "safety:fvi_removal_approve": (
            supervisor,
            reverse("safety:fvi_removal_approve", args=[c, removal.pk]),
            None,
        ),
        "safety:fvi_removal_cancel": (
            worker,
            reverse("safety:fvi_removal_cancel", args=[c, removal.pk]),
            reverse("cases:detail", args=[c]),
        ),
        "safety:review": (worker, reverse("safety:review", args=[c]), None),
        "safety:acp": (worker, reverse("safety:acp", args=[c, p]), None),
        "safety:plan": (worker, reverse("safety:plan", args=[c]), None),
        "safety:court_hold_add": (worker, reverse("safety:court_hold_add", args=[c]), None),
        "safety:court_hold_lift": (
            worker,
            reverse("safety:court_hold_lift", args=[c, hold.pk]),
            None,
        ),
        "safety:notice_keep": (
            supervisor,
            reverse("safety:notice_keep", args=[notice.pk]),
            reverse("safety:notice_review", args=[notice.pk]),
        ),
        "safety:notice_cancel": (
            supervisor,
            reverse("safety:notice_cancel", args=[notice.pk]),
            reverse("safety:notice_review", args=[notice.pk]),
        ),
        "safety:notice_release": (
            supervisor,
            reverse("safety:notice_release", args=[notice.pk]),
            reverse("safety:notice_review", args=[notice.pk]),
        ),
        "accounts:login": (None, reverse("accounts:login"), None),
        "accounts:otp": ("password-only", reverse("accounts:otp"), None),
        "accounts:enrol": ("no-device", reverse("accounts:enrol"), None),
        "set_language": (None, reverse("set_language"), reverse("accounts:login")),
        "audit:index": (supervisor, reverse("audit:index"), None),
        "audit:person": (supervisor, reverse("audit:person", args=[p]), None),
        "audit:staff": (supervisor, reverse("audit:staff", args=[worker.pk]), None),
        # The Django admin's forms an administrator fills in.
        "admin:accounts_user_add": (admin, reverse("admin:accounts_user_add"), None),
        "admin:cases_office_add": (admin, reverse("admin:cases_office_add"), None),
        "admin:cases_unit_add": (admin, reverse("admin:cases_unit_add"), None),
        "admin:accounts_user_change": (
            admin,
            reverse("admin:accounts_user_change", args=[worker.pk]),
            None,
        ),
    }
    searches = {
        # GET forms (filters): name -> (who, URL)
        "cases:caseload": (worker, reverse("cases:caseload")),
        "safety:held_notices": (supervisor, reverse("safety:held_notices")),
        "safety:notice_runs": (supervisor, reverse("safety:notice_runs")),
        "audit:index": (supervisor, reverse("audit:index")),
        "audit:person": (supervisor, reverse("audit:person", args=[p])),
        "audit:staff": (supervisor, reverse("audit:staff", args=[worker.pk])),
    }
    return {"endpoints": endpoints, "searches": searches, "worker": worker}


def _names(client, url, form_page):
    """The field names the form at ``url`` submits, read from the page."""
    html = client.get(form_page or url).content.decode()
    if form_page:  # only the form that posts to url
        forms = re.findall(r"<form[^>]*action=\"([^\"]*)\"[^>]*>(.*?)</form>", html, re.S)
        html = " ".join(body for action, body in forms if action == url)
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html))
    return sorted(names - {"csrfmiddlewaretoken"})


# Every POST endpoint outside the admin must be here (checked below).
ENDPOINTS = [
    "cases:search",
    "cases:break_glass",
    "cases:open",
    "cases:edit",
    "cases:participant_add",
    "cases:assign",
    "cases:contact_add",
    "cases:person_edit",
    "cases:contact_end",
    "cases:order_record",
    "cases:note_add",
    "cases:contact_reveal",
    "cases:ssn_reveal",
    "safety:fvi_set",
    "safety:fvi_removal_request",
    "safety:fvi_removal_approve",
    "safety:fvi_removal_cancel",
    "safety:review",
    "safety:acp",
    "safety:plan",
    "safety:court_hold_add",
    "safety:court_hold_lift",
    "safety:notice_keep",
    "safety:notice_cancel",
    "safety:notice_release",
    "accounts:login",
    "accounts:otp",
    "accounts:enrol",
    "set_language",
    "audit:index",
    "audit:person",
    "audit:staff",
]
# Forms that are a single button (only unknown fields can be sent to them).
BUTTON_ONLY = {"safety:fvi_removal_cancel"}
# POST endpoints with no form to fuzz: signing out takes no input.
NO_INPUT = {"accounts:logout"}


def _client(who):
    from django.test import Client

    from tests.conftest import password_only_client

    if who is None:
        return Client()
    if who == "password-only":
        return password_only_client(UserFactory(username="bi-half", role=roles.CASEWORKER))
    if who == "no-device":
        user = UserFactory(username="bi-new", role=roles.CASEWORKER)
        TOTPDevice.objects.filter(user=user).delete()
        return password_only_client(user)
    return verified_client(who)


# The Django admin's forms (fuzzed too; the admin is not in the endpoint check).
ADMIN_FORMS = [
    "admin:accounts_user_add",
    "admin:accounts_user_change",
    "admin:cases_office_add",
    "admin:cases_unit_add",
]
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "cases:caseload",
        "safety:held_notices",
        "safety:notice_runs",
        "audit:index",
        "audit:person",
        "audit:staff",
    ],
)
def test_bad_query_strings_get_a_page_and_change_nothing(world, name):
    """The filter (GET) forms: generated query strings, including the page number."""
    who, url = world["searches"][name]
    client = _client(who)
    names = sorted(set(_names(client, url, None)) | {"page"})
    tried = []

    @SETTINGS
    @given(query=_field_values(names))
    def get(query):
        before = database_fingerprint()
        response = client.get(url, query)
        tried.append(1)
        assert response.status_code < 500, (name, query)
        assert b"Traceback" not in response.content
        assert database_fingerprint() == before, (name, sorted(query))

    get()
    assert len(tried) >= EXAMPLES


@pytest.mark.django_db
@pytest.mark.parametrize("name", ENDPOINTS + ADMIN_FORMS)
def test_bad_input_gets_a_page_and_changes_nothing(world, name):
    who, url, form_page = world["endpoints"][name]
    client = _client(who)
    names = _names(client, url, form_page)
    assert names or name in BUTTON_ONLY, f"{name}: no form fields found"
    tried = []

    @SETTINGS
    @given(body=_field_values(names))
    def post(body):
        before = database_fingerprint()
        response = client.post(url, body)
        tried.append(1)
        assert response.status_code < 500, (name, body)
        assert b"Traceback" not in response.content
        if not _succeeded(response):
            assert database_fingerprint() == before, (name, sorted(body), response.status_code)

    post()
    assert len(tried) >= EXAMPLES


def _methods(view) -> set[str]:
    """The methods a view allows, read from Django's require_http_methods wrapper."""
    function = view
    while function is not None:
        for cell in getattr(function, "__closure__", None) or ():
            value = cell.cell_contents
            if (
                isinstance(value, list)
                and value
                and all(isinstance(m, str) and m.isupper() for m in value)
            ):
                return set(value)
        function = getattr(function, "__wrapped__", None)
    return set()


def test_every_post_endpoint_is_fuzzed():
    from tests.urlsweep import all_routes

    posting = {
        route.name
        for route in all_routes()
        if not route.name.startswith("admin:") and "POST" in _methods(route.callback)
    }
    assert "cases:note_add" in posting and "accounts:logout" in posting  # the reader works
    assert posting - set(ENDPOINTS) - NO_INPUT == set()
    assert set(ENDPOINTS) - posting == {"set_language"}  # Django's own view, not wrapped


@pytest.mark.django_db
def test_the_fingerprint_sees_a_change(world):
    before = database_fingerprint()
    case = full_case(caseworker=world["worker"])
    assert database_fingerprint() != before
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET status = 'closed' WHERE id = %s", [case.pk])
    assert database_fingerprint() != before
