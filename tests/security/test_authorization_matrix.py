"""The authorization matrix: every URL the resolver knows x eight personas x
{GET, POST}, against one table of expected outcomes (``MATRIX``).

Personas (the table's columns, in this order):

    anonymous         no session
    unverified        the case's own caseworker, password only (no one-time code)
    caseworker_own    the caseworker the case is assigned to
    caseworker_other  a caseworker of another unit, with a case of their own
    supervisor_own    the supervisor of the case's unit
    supervisor_other  the supervisor of the other unit
    administrator     role administrator and is_staff (the Django admin's user)
    auditor           role auditor

Outcomes:

    OK         any 2xx, or a 3xx that is the view's own redirect (anything but the
               access rule's redirect to sign-in or to the code page, which always
               carries ``?next=``)
    NOT_FOUND  404 (need to know: refusals never say a thing exists, never 403)
    SIGN_IN    302 to /accounts/sign-in/?next=...
    CODE       302 to /accounts/sign-in/code/?next=...
    METHOD     405 (only ever for someone the view's role rule lets in: the method
               check sits inside the access rule, so an outsider still gets 404)

One world (``world``) is built once for the module inside a transaction that is
rolled back at the end; every request runs in a savepoint rolled back after it,
so a POST that does change something (cancelling a removal request is one button)
cannot leak into the next check. Every URL points at a real object of that world
(``row(at=...)``), so an OK means the page really served that object. POSTs send
no data: a form answers with its errors (OK). No request changes the database
(compared table by table with the world as built), except an empty POST that is a
complete answer (``EMPTY_POST_ACTS``), and only when it answers OK.

The Django admin is one group (``ADMIN_GROUP``): protect_patterns gives every
admin view the DJANGO_ADMIN rule, so only a verified administrator with is_staff
gets past it. Its routes are sampled, not walked: every admin route without URL
parameters (index, login/logout, password change, jsi18n, autocomplete, each
model's list and add pages), the app list of ``accounts`` and the change page of a
real staff account (``ADMIN_SAMPLE``). Rows for admin names in ``MATRIX`` are the
few where the administrator's answer differs from the group's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from accounts import roles
from cases.models import Notice, ParticipantRole
from safety import notices, runs, services
from safety.models import FviRemovalRequest, NoticeRun
from tests.conftest import password_only_client, verified_client
from tests.factories import UnitFactory, UserFactory, full_case
from tests.security.fingerprint import database_fingerprint
from tests.urlsweep import all_routes

# --- Personas and outcomes ---------------------------------------------------------

PERSONAS = (
    "anonymous",
    "unverified",
    "caseworker_own",
    "caseworker_other",
    "supervisor_own",
    "supervisor_other",
    "administrator",
    "auditor",
)
METHODS = ("GET", "POST")

OK = "OK"
NOT_FOUND = "NOT_FOUND"
SIGN_IN = "SIGN_IN"
CODE = "CODE"
METHOD = "METHOD"

SIGN_IN_PATH = "/accounts/sign-in/"
CODE_PATH = "/accounts/sign-in/code/"


def row(*, at: dict[str, str] | None = None, get: tuple, post: tuple) -> dict:
    """One URL's expectations: ``get`` and ``post`` list one outcome per persona, in
    PERSONAS order; ``at`` maps the URL's parameters to objects of the world."""
    assert len(get) == len(post) == len(PERSONAS)
    return {
        "at": at or {},
        "GET": dict(zip(PERSONAS, get, strict=True)),
        "POST": dict(zip(PERSONAS, post, strict=True)),
    }


# What a URL's parameters point at (attributes of World).
CASE = {"case_id": "case"}
PERSON = {"case_id": "case", "person_id": "custodial_parent"}
CONTACT = {"case_id": "case", "contact_id": "contact"}
FVI = {"case_id": "case", "fvi_id": "fvi"}
REMOVAL = {"case_id": "case", "request_id": "removal"}
HOLD = {"case_id": "case", "hold_id": "hold"}
NOTICE = {"notice_id": "notice"}
RUN = {"run_id": "run"}

# --- The table -----------------------------------------------------------------------
# Columns: anonymous, unverified, caseworker_own, caseworker_other, supervisor_own,
#          supervisor_other, administrator, auditor

# Every admin route: the DJANGO_ADMIN rule, then the admin's own answer.
ADMIN_GROUP = row(
    get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
    post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
)
# Admin pages of models the administrator has no permission for (case records:
# least privilege; groups; the failure log; add pages of authenticators and
# lockouts). Refused like everything else: 404, not the admin's own 403.
ADMIN_REFUSED = row(
    get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
)
# Admin views that answer GET only.
ADMIN_GET_ONLY = row(
    get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
    post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, METHOD, NOT_FOUND),
)

MATRIX = {
    # Public pages: anyone.
    "healthz": row(
        get=(OK, OK, OK, OK, OK, OK, OK, OK),
        post=(METHOD, METHOD, METHOD, METHOD, METHOD, METHOD, METHOD, METHOD),
    ),
    "set_language": row(
        get=(OK, OK, OK, OK, OK, OK, OK, OK),
        post=(OK, OK, OK, OK, OK, OK, OK, OK),
    ),
    # The password form; a verified session is sent on to the home page.
    "accounts:login": row(
        get=(OK, OK, OK, OK, OK, OK, OK, OK),
        post=(OK, OK, OK, OK, OK, OK, OK, OK),
    ),
    # The second-factor pages: a password is enough. The set-up page sends someone
    # who has a device to the code page (without ?next=: the view's own redirect).
    "accounts:otp": row(
        get=(SIGN_IN, OK, OK, OK, OK, OK, OK, OK),
        post=(SIGN_IN, OK, OK, OK, OK, OK, OK, OK),
    ),
    "accounts:enrol": row(
        get=(SIGN_IN, OK, OK, OK, OK, OK, OK, OK),
        post=(SIGN_IN, OK, OK, OK, OK, OK, OK, OK),
    ),
    "accounts:logout": row(
        get=(SIGN_IN, METHOD, METHOD, METHOD, METHOD, METHOD, METHOD, METHOD),
        post=(SIGN_IN, OK, OK, OK, OK, OK, OK, OK),
    ),
    # Any verified member of staff.
    "home": row(
        get=(SIGN_IN, CODE, OK, OK, OK, OK, OK, OK),
        post=(SIGN_IN, CODE, METHOD, METHOD, METHOD, METHOD, METHOD, METHOD),
    ),
    # Caseworkers and supervisors, each in their own scope.
    "cases:caseload": row(
        get=(SIGN_IN, CODE, OK, OK, OK, OK, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, METHOD, METHOD, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
    ),
    "cases:search": row(
        get=(SIGN_IN, CODE, OK, OK, OK, OK, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, OK, OK, OK, NOT_FOUND, NOT_FOUND),
    ),
    "cases:break_glass": row(
        get=(SIGN_IN, CODE, OK, OK, OK, OK, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, OK, OK, OK, NOT_FOUND, NOT_FOUND),
    ),
    # Intake: caseworkers only.
    "cases:open": row(
        get=(SIGN_IN, CODE, OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    # One case: its caseworker and its unit's supervisor; everyone else 404.
    "cases:detail": row(
        at=CASE,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, METHOD, METHOD, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
    ),
    "cases:edit": row(
        at=CASE,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "cases:participant_add": row(
        at=CASE,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "cases:order_record": row(
        at=CASE,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "cases:note_add": row(
        at=CASE,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    # Assigning: the unit's supervisor only.
    "cases:assign": row(
        at=CASE,
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "cases:person_edit": row(
        at=PERSON,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "cases:contact_add": row(
        at=PERSON,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "cases:ssn_reveal": row(
        at=PERSON,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "cases:contact_end": row(
        at=CONTACT,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "cases:contact_reveal": row(
        at=CONTACT,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    # Safety pages of one case: the case team in scope.
    "safety:fvi_set": row(
        at=PERSON,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "safety:acp": row(
        at=PERSON,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "safety:fvi_removal_request": row(
        at=FVI,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    # Approving a removal: a supervisor of the case.
    "safety:fvi_removal_approve": row(
        at=REMOVAL,
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    # A one-button form: the empty POST is the whole action.
    "safety:fvi_removal_cancel": row(
        at=REMOVAL,
        get=(SIGN_IN, CODE, METHOD, METHOD, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "safety:review": row(
        at=CASE,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "safety:plan": row(
        at=CASE,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "safety:court_hold_add": row(
        at=CASE,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "safety:court_hold_lift": row(
        at=HOLD,
        get=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    # Held notices: supervisors, each seeing their units' notices only.
    "safety:held_notices": row(
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
    ),
    "safety:notice_review": row(
        at=NOTICE,
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
    ),
    "safety:notice_keep": row(
        at=NOTICE,
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "safety:notice_cancel": row(
        at=NOTICE,
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    "safety:notice_release": row(
        at=NOTICE,
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    ),
    # Notice runs are agency-wide counts (no case, notice or person): any supervisor.
    "safety:notice_runs": row(
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
    ),
    "safety:notice_run_progress": row(
        at=RUN,
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, METHOD, METHOD, NOT_FOUND, NOT_FOUND),
    ),
    # The audit trail: supervisors (their units' people and staff) and auditors (all).
    # (POST: the case-number lookup, and a trail's download, which needs a code.)
    "audit:index": row(
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, OK, NOT_FOUND, OK),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, OK, NOT_FOUND, OK),
    ),
    "audit:person": row(
        at={"person_id": "custodial_parent"},
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, OK),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, OK),
    ),
    "audit:staff": row(
        at={"user_id": "caseworker_own"},
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, OK),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, OK),
    ),
    # The Django admin: ADMIN_GROUP, except where the administrator's answer differs.
    "admin:logout": row(
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, METHOD, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
    ),
    "admin:accounts_user_change": row(
        at={"object_id": "caseworker_own"},
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
    ),
    "admin:app_list": row(
        at={"app_label": "admin_app_label"},
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
    ),
    "admin:jsi18n": ADMIN_GET_ONLY,
    "admin:password_change_done": ADMIN_GET_ONLY,
    # Without its parameters the autocomplete refuses (the admin's PermissionDenied).
    "admin:autocomplete": row(
        get=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
        post=(SIGN_IN, CODE, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, METHOD, NOT_FOUND),
    ),
    "admin:auth_group_changelist": ADMIN_REFUSED,
    "admin:auth_group_add": ADMIN_REFUSED,
    "admin:otp_totp_totpdevice_add": ADMIN_REFUSED,
    "admin:axes_accessattempt_add": ADMIN_REFUSED,
    "admin:axes_accesslog_add": ADMIN_REFUSED,
    "admin:axes_accessfailurelog_changelist": ADMIN_REFUSED,
    "admin:axes_accessfailurelog_add": ADMIN_REFUSED,
    "admin:cases_case_changelist": ADMIN_REFUSED,
    "admin:cases_case_add": ADMIN_REFUSED,
    "admin:cases_person_changelist": ADMIN_REFUSED,
    "admin:cases_person_add": ADMIN_REFUSED,
    "admin:cases_contactpoint_changelist": ADMIN_REFUSED,
    "admin:cases_contactpoint_add": ADMIN_REFUSED,
}

# Where an empty POST is a complete answer, so it may change the database when
# (and only when) it answers OK: cancelling a removal is one button; the safety
# plan's fields are all checkboxes or optional (empty: nothing held, no pause).
EMPTY_POST_ACTS = {"safety:fvi_removal_cancel", "safety:plan"}


# --- The routes ----------------------------------------------------------------------

ROUTES = all_routes()
ROUTE_NAMES = {route.name for route in ROUTES}
ADMIN_PREFIX = "admin:"


def _admin_sample() -> list[str]:
    """Admin routes without URL parameters, plus the admin names in MATRIX."""
    names = []
    for route in ROUTES:
        if not route.name.startswith(ADMIN_PREFIX) or route.name in names:
            continue
        try:
            reverse(route.name)
        except NoReverseMatch:
            continue  # needs parameters
        names.append(route.name)
    extra = [name for name in MATRIX if name.startswith(ADMIN_PREFIX) and name not in names]
    return names + extra


OUR_NAMES = sorted(n for n in ROUTE_NAMES if not n.startswith(ADMIN_PREFIX))
ADMIN_SAMPLE = _admin_sample()
CHECKED_NAMES = sorted({*OUR_NAMES, *(n for n in MATRIX if not n.startswith(ADMIN_PREFIX))})
URLS = CHECKED_NAMES + ADMIN_SAMPLE
CHECKS = [(name, persona, method) for name in URLS for persona in PERSONAS for method in METHODS]


def expected(name: str, persona: str, method: str) -> str:
    if name in MATRIX:
        return MATRIX[name][method][persona]
    assert name.startswith(ADMIN_PREFIX), f"{name} is not in MATRIX"
    return ADMIN_GROUP[method][persona]


# --- The world -------------------------------------------------------------------------


@dataclass
class World:
    caseworker_own: object
    caseworker_other: object
    supervisor_own: object
    supervisor_other: object
    administrator: object
    auditor: object
    case: object
    other_case: object
    custodial_parent: object
    contact: object
    fvi: object
    removal: object
    hold: object
    acp: object
    notice: object
    run: object
    sessions: dict  # persona -> session key (no entry for anonymous)
    state: str  # the database fingerprint every check starts from
    admin_app_label: str = "accounts"  # the app list sampled in the admin


def _build_world() -> World:
    supervisor_own = UserFactory(username="mx-sup-own", role=roles.SUPERVISOR)
    supervisor_other = UserFactory(username="mx-sup-other", role=roles.SUPERVISOR)
    caseworker_own = UserFactory(username="mx-cw-own", role=roles.CASEWORKER)
    caseworker_other = UserFactory(username="mx-cw-other", role=roles.CASEWORKER)
    administrator = UserFactory(username="mx-admin", role=roles.ADMINISTRATOR, is_staff=True)
    auditor = UserFactory(username="mx-auditor", role=roles.AUDITOR)

    unit_a = UnitFactory(supervisor=supervisor_own)
    unit_a.caseworkers.add(caseworker_own)
    unit_b = UnitFactory(supervisor=supervisor_other)
    unit_b.caseworkers.add(caseworker_other)

    case = full_case(caseworker=caseworker_own, unit=unit_a)
    # The other unit has a case too, so its people's own scope is not empty.
    other_case = full_case(
        caseworker=caseworker_other, unit=unit_b, cp_last_name="Otherlast", ssn="900-66-4321"
    )
    custodial_parent = case.participants.get(role=ParticipantRole.CUSTODIAL_PARENT).person
    contact = custodial_parent.contact_points.get()
    fvi = services.fvi_set(user=caseworker_own, person=custodial_parent, reason="dv_disclosed")
    removal = services.fvi_removal_request(user=caseworker_own, fvi=fvi, reason="Order ended.")
    hold = services.court_hold_add(
        user=caseworker_own, case=case, remedy="", ordered_on=dt.date(2026, 1, 5)
    )
    acp = services.acp_record(
        user=caseworker_own,
        case=case,
        person=custodial_parent,
        program_name="Safe at Home",
        participant_id="SAH-000123",
        substitute_address="PO Box 100, Synthetic City",
        certified_until=dt.date(2030, 1, 1),
    )
    notice = Notice.objects.create(
        case=case,
        remedy="lien",
        notice_type="lien_notice",
        recipient="other_parent",
        due_on=dt.date(2026, 12, 1),
    )
    notices.gate_pending([notice.pk])
    notice.refresh_from_db()
    assert notice.status == "held"
    run = runs.run_start(trigger=NoticeRun.Trigger.NIGHTLY)

    people = {
        "caseworker_own": caseworker_own,
        "caseworker_other": caseworker_other,
        "supervisor_own": supervisor_own,
        "supervisor_other": supervisor_other,
        "administrator": administrator,
        "auditor": auditor,
    }
    sessions = {name: _session_key(verified_client(user)) for name, user in people.items()}
    sessions["unverified"] = _session_key(password_only_client(caseworker_own))
    return World(
        **people,
        case=case,
        other_case=other_case,
        custodial_parent=custodial_parent,
        contact=contact,
        fvi=fvi,
        removal=removal,
        hold=hold,
        acp=acp,
        notice=notice,
        run=run,
        sessions=sessions,
        state=database_fingerprint(),
    )


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, built once in a transaction that is rolled back after the module
    (each test's own transaction nests inside it as a savepoint)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = _build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


# --- Asking ---------------------------------------------------------------------------


def _url(world: World, name: str) -> str:
    at = MATRIX[name]["at"] if name in MATRIX else {}
    kwargs = {}
    for parameter, attribute in at.items():
        target = getattr(world, attribute)
        kwargs[parameter] = target if isinstance(target, str) else target.pk
    return reverse(name, kwargs=kwargs)


def _client(world: World, persona: str) -> Client:
    client = Client()  # no CSRF enforcement: CSRF has its own tests
    if persona != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    return client


def outcome(response) -> str:
    """What the response was, in the table's words (or the status when it is
    none of them)."""
    status = response.status_code
    if 200 <= status < 300:
        return OK
    if status in (301, 302, 303, 307, 308):
        location = urlsplit(response["Location"])
        sent_by_the_rule = "next" in parse_qs(location.query)
        if sent_by_the_rule and location.path == SIGN_IN_PATH:
            return SIGN_IN
        if sent_by_the_rule and location.path == CODE_PATH:
            return CODE
        return OK
    if status == 404:
        return NOT_FOUND
    if status == 405:
        return METHOD
    return f"HTTP {status}"


@dataclass(frozen=True)
class Answer:
    outcome: str
    status: int
    location: str
    changed: bool  # the database differs from the world's
    leaked: tuple[str, ...] = ()  # canaries found in the body


# Sealed values of the case's custodial parent (full_case's defaults): shown to no
# one on any page reached here (a reveal needs a reason, which these requests never
# give). Her name: shown only to the case team.
SEALED = ("1 Synthetic Way", "900-55-1234", "900551234")
NAME = "Testlast"
CASE_TEAM = {"caseworker_own", "supervisor_own"}


def _leaks(persona: str, body: bytes) -> tuple[str, ...]:
    text = body.decode("utf-8", "replace")
    canaries = SEALED if persona in CASE_TEAM else (*SEALED, NAME)
    return tuple(c for c in canaries if c in text)


def ask(world: World, name: str, persona: str, method: str, *, compare=True) -> Answer:
    """One request, in a savepoint rolled back afterwards; ``compare``: also
    whether it changed the database."""
    url = _url(world, name)
    with transaction.atomic():
        client = _client(world, persona)
        response = client.get(url) if method == "GET" else client.post(url, {})
        changed = compare and database_fingerprint() != world.state
        transaction.set_rollback(True)
    body = b"" if getattr(response, "streaming", False) else response.content
    return Answer(
        outcome(response),
        response.status_code,
        response.get("Location", ""),
        changed,
        _leaks(persona, body),
    )


# --- Tests ----------------------------------------------------------------------------


def test_the_table_has_every_url_and_only_urls():
    ours = {name for name in ROUTE_NAMES if not name.startswith(ADMIN_PREFIX)}
    missing = sorted(ours - set(MATRIX))
    not_urls = sorted(set(MATRIX) - ROUTE_NAMES)
    assert not missing, f"URLs missing from MATRIX: {missing}"
    assert not not_urls, f"MATRIX names that are not URLs: {not_urls}"
    # The admin group is sampled, and the sample reaches into it.
    assert {"admin:index", "admin:accounts_user_changelist"} <= set(ADMIN_SAMPLE)


@pytest.mark.django_db
def test_every_url_points_at_the_world(world):
    """Each row's ``at`` names exactly the URL's parameters."""
    wrong = []
    for name in URLS:
        try:
            _url(world, name)
        except NoReverseMatch:
            wrong.append(name)
    assert wrong == [], f"row(at=...) does not fit the URL's parameters: {wrong}"


def test_the_table_never_lets_a_signed_out_session_in():
    """The table itself keeps to deny-by-default: only the sign-in pages and the
    public ones answer anonymous or password-only sessions."""
    anonymous_ok = {"healthz", "set_language", "accounts:login"}
    unverified_ok = anonymous_ok | {"accounts:otp", "accounts:enrol", "accounts:logout"}
    for name, expectations in MATRIX.items():
        for method in METHODS:
            if expectations[method]["anonymous"] == OK:
                assert name in anonymous_ok, (name, method)
            if expectations[method]["unverified"] == OK:
                assert name in unverified_ok, (name, method)


@pytest.mark.django_db
def test_each_check_starts_from_the_world_as_built(world):
    """The comparison sees a change, and the savepoint undoes it: cancelling the
    removal request changes the database, and the next check finds it open again."""
    for _ in range(2):
        answer = ask(world, "safety:fvi_removal_cancel", "caseworker_own", "POST")
        assert (answer.outcome, answer.changed) == (OK, True)
        assert database_fingerprint() == world.state
        assert FviRemovalRequest.objects.get(pk=world.removal.pk).cancelled_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "persona", "method"), CHECKS, ids=[f"{n}|{p}|{m}" for n, p, m in CHECKS]
)
def test_the_answer_is_the_tables(world, name, persona, method):
    want = expected(name, persona, method)
    answer = ask(world, name, persona, method)
    assert answer.outcome == want, (
        f"{method} {name} as {persona}: expected {want}, got {answer.outcome} "
        f"({answer.status} {answer.location})"
    )
    assert answer.leaked == (), f"{method} {name} as {persona} showed {answer.leaked}"
    if answer.changed:
        assert method == "POST" and name in EMPTY_POST_ACTS and want == OK, (
            f"{method} {name} as {persona} ({answer.status}) changed the database"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("size", [f"{len(URLS)} URLs x {len(PERSONAS)} personas x 2 methods"])
def test_no_refused_persona_gets_a_2xx(world, size, capsys):
    """One summary over every cell the table refuses (NOT_FOUND, SIGN_IN, CODE,
    METHOD), asked again: not one answers 2xx or with an onward redirect."""
    leaks, checked = [], 0
    for name, persona, method in CHECKS:
        if expected(name, persona, method) == OK:
            continue
        answer = ask(world, name, persona, method, compare=False)
        checked += 1
        if answer.outcome == OK:
            leaks.append(f"{method} {name} as {persona}: {answer.status}")
    with capsys.disabled():
        print(f"\nauthorization matrix: {len(CHECKS)} checks ({size}); {checked} refusals")
    assert leaks == [], leaks


@pytest.mark.django_db
def test_the_canaries_are_real(world):
    """The case team does see her name (so its absence elsewhere means something),
    and the leak check finds a canary where there is one."""
    with transaction.atomic():
        page = _client(world, "caseworker_own").get(_url(world, "cases:detail"))
        transaction.set_rollback(True)
    assert NAME in page.content.decode()
    assert _leaks("auditor", page.content) == (NAME,)
