"""The audit trail's pages: who viewed or changed a person's data (never their name
or a protected value), what a member of staff did, filters that refuse bad input
and then show no records, a CSV export that is itself recorded before it streams
and cannot smuggle a formula into a spreadsheet, a query count that does not grow
with the page, and scope: supervisors see their units, auditors everything, anyone
else a 404."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.audit import Kind, audit_record
from accounts.audit_views import CSV_HEADER, csv_cell
from accounts.models import AuditEvent
from cases.models import ContactPoint, Participant, ParticipantRole
from tests.conftest import password_only_client, totp_code, verified_client
from tests.factories import ParticipantFactory, UnitFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db
CANARY = "77 Canary Lane, Nowhereton"  # synthetic
SURVIVOR_LAST = "Quillfeather"  # synthetic
INDEX = reverse("audit:index")


@pytest.fixture
def unit(supervisor, caseworker):
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(caseworker)
    return unit


@pytest.fixture
def case(caseworker, unit):
    return full_case(caseworker=caseworker, unit=unit, address=CANARY, cp_last_name=SURVIVOR_LAST)


@pytest.fixture
def survivor(case):
    return Participant.objects.get(case=case, role=ParticipantRole.CUSTODIAL_PARENT).person


@pytest.fixture
def revealed(caseworker, case, survivor):
    """The caseworker reveals the survivor's address through the real page."""
    point = ContactPoint.objects.get(person=survivor, kind="residential")
    url = reverse("cases:contact_reveal", args=[case.pk, point.pk])
    response = verified_client(caseworker).post(url, {"reason": "safety"})
    assert response.status_code == 200 and CANARY in response.content.decode()
    return AuditEvent.objects.get(kind="contact_revealed", actor=caseworker)


@pytest.fixture
def other_case():
    """A case of another unit, with its own supervisor and caseworker."""
    other_worker = UserFactory(username="cw-other", role=roles.CASEWORKER)
    other_unit = UnitFactory(supervisor=UserFactory(username="sup-other", role=roles.SUPERVISOR))
    other_unit.caseworkers.add(other_worker)
    return full_case(caseworker=other_worker, unit=other_unit, cp_last_name="Otherunitname")


def _person_url(person) -> str:
    return reverse("audit:person", args=[person.pk])


def _staff_url(user) -> str:
    return reverse("audit:staff", args=[user.pk])


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def _no_survivor_data(text: str, survivor) -> None:
    assert CANARY not in text and "Canary" not in text
    assert survivor.first_name not in text and SURVIVOR_LAST not in text
    assert "900-55" not in text


# --- The person's trail ----------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["supervisor", "auditor"])
def test_person_trail_shows_who_revealed_the_survivors_address(
    request, viewer, caseworker, case, survivor, revealed
):
    response = verified_client(request.getfixturevalue(viewer)).get(_person_url(survivor))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Who viewed or changed this person's data</h1>" in html
    assert f"Custodial parent on case {case.number}" in html
    row = response.context["rows"][0]
    assert row["seq"] == revealed.seq
    assert (row["username"], row["full_name"]) == ("cw-test", caseworker.get_full_name())
    assert row["what"] == "Protected value revealed" and row["case_number"] == case.number
    assert ("Reason", "Safety planning with the survivor") in row["detail"]
    assert ("Field", "Residential address") in row["detail"]
    for text in ("cw-test", caseworker.get_full_name(), case.number, "Protected value revealed"):
        assert text in html, text
    _no_survivor_data(html, survivor)


def test_index_lists_a_cases_people_by_role_and_links_their_trails(
    supervisor, caseworker, case, survivor
):
    ParticipantFactory(case=case, role=ParticipantRole.CHILD)  # a second child
    response = verified_client(supervisor).post(INDEX, {"number": f" {case.number.lower()} "})
    assert response.status_code == 200
    html = response.content.decode()
    labels = [label for label, _person in response.context["participants"]]
    assert labels == ["Custodial parent", "Noncustodial parent", "Child 1", "Child 2"]
    assert _person_url(survivor) in html
    for participant in Participant.objects.filter(case=case).select_related("person"):
        assert str(participant.person_id) in html
        assert participant.person.first_name not in html
        assert participant.person.last_name not in html
    _no_survivor_data(html, survivor)
    # The staff list: the supervisor and their unit's caseworker, with staff names.
    assert _staff_url(supervisor) in html and _staff_url(caseworker) in html
    assert caseworker.get_full_name() in html


@pytest.mark.parametrize("number", ["", "NO-SUCH-1", "other"])
def test_index_does_not_reveal_whether_a_case_exists(supervisor, case, other_case, number):
    """A missing number and another unit's case read the same."""
    number = other_case.number if number == "other" else number
    response = verified_client(supervisor).post(INDEX, {"number": number})
    assert response.status_code == 200
    html = response.content.decode()
    expected = (
        "Enter a case number." if not number else "No case with that number that you can audit."
    )
    assert expected in html and 'id="error-summary"' in html
    assert 'id="case-people"' not in html
    for participant in Participant.objects.filter(case=other_case):
        assert str(participant.person_id) not in html
    assert "cw-other" not in html and "sup-other" not in html


# --- A member of staff's trail ----------------------------------------------------------


def test_staff_trail_and_only_what_they_viewed(supervisor, caseworker, case, survivor, revealed):
    audit_record(kind=Kind.SIGN_OUT, actor=caseworker)
    client = verified_client(supervisor)
    everything = client.get(_staff_url(caseworker))
    assert everything.status_code == 200
    html = everything.content.decode()
    assert "What cw-test viewed or changed" in html
    kinds = [row["what"] for row in everything.context["rows"]]
    assert kinds == ["Signed out", "Protected value revealed"]  # newest first
    reveal_row = everything.context["rows"][1]
    assert reveal_row["person_linked"] and reveal_row["case_number"] == case.number
    assert _person_url(survivor) in html
    _no_survivor_data(html, survivor)

    assert 'href="?kind=contact_revealed" id="only-viewed"' in html
    viewed = client.get(_staff_url(caseworker), {"kind": "contact_revealed"})
    assert [row["seq"] for row in viewed.context["rows"]] == [revealed.seq]
    assert 'id="only-viewed" aria-current="true"' in viewed.content.decode()


def test_null_actor_reads_unknown_account_or_system(auditor, survivor):
    audit_record(kind=Kind.SIGN_IN_FAILED, person_id=survivor.pk, known_user=False)
    audit_record(kind="staff_created", person_id=survivor.pk, staff=1, roles_added=["auditor"])
    rows = verified_client(auditor).get(_person_url(survivor)).context["rows"]
    assert [(r["username"], r["what"]) for r in rows] == [
        ("System", "Staff account created"),
        ("Unknown account", "Sign-in failed"),
    ]
    assert ("Roles added", "Auditor") in rows[0]["detail"]
    assert ("Known account", "No") in rows[1]["detail"]


# --- Filters ------------------------------------------------------------------------------


def test_filters_by_date_and_event_type(supervisor, caseworker, survivor, revealed):
    audit_record(kind=Kind.SIGN_OUT, actor=caseworker, person_id=survivor.pk)
    day = timezone.localtime(revealed.occurred_at).date()
    before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    client = verified_client(supervisor)

    def seqs(**params):
        response = client.get(_person_url(survivor), params)
        assert response.status_code == 200 and not response.context["form"].errors
        return [row["seq"] for row in response.context["rows"]]

    both = seqs()
    assert len(both) == 2 and both[1] == revealed.seq
    assert seqs(date_from=day.isoformat(), date_to=day.isoformat()) == both
    assert seqs(date_from=day.strftime("%m/%d/%Y")) == both
    assert seqs(date_from=after.isoformat()) == []
    assert seqs(date_to=before.isoformat()) == []
    assert seqs(kind="contact_revealed") == [revealed.seq]
    assert seqs(kind="sign_out", date_from=day.isoformat()) == [both[0]]
    assert seqs(kind="note_added") == []
    empty = client.get(_person_url(survivor), {"date_from": after.isoformat()})
    assert "No records match." in empty.content.decode()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "2026-03-10", "date_to": "2026-03-09"}, "date_to", "on or after the start"),
        ({"date_from": "2026-02-30"}, "date_from", "Enter a real date"),
        ({"date_to": "yesterday"}, "date_to", "Enter a real date"),
        ({"kind": "drop_table"}, "kind", "Choose an event type from the list."),
    ],
)
def test_bad_filters_show_the_message_and_no_records(
    supervisor, survivor, revealed, params, field, message
):
    client = verified_client(supervisor)
    response = client.get(_person_url(survivor), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in str(response.context["form"].errors[field])
    assert message in html and 'id="error-summary"' in html and 'aria-invalid="true"' in html
    assert response.context["rows"] == [] and 'id="trail"' not in html
    assert "cw-test" not in html and 'id="trail-invalid"' in html
    # Nor is anything exported with them, even with a good code.
    export = client.post(_person_url(survivor), {**params, "export-code": _code(supervisor)})
    assert export.status_code == 200 and not export.streaming
    assert not AuditEvent.objects.filter(kind="audit_export").exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_extreme_dates_are_answered(auditor, survivor, revealed, day):
    client = verified_client(auditor)
    for params in ({"date_from": day}, {"date_to": day}):
        response = client.get(_person_url(survivor), params)
        assert response.status_code == 200
        shown = [row["seq"] for row in response.context["rows"]]
        expected_all = (day == "0001-01-01") == ("date_from" in params)
        assert shown == ([revealed.seq] if expected_all else [])


def _code(user) -> str:
    return totp_code(TOTPDevice.objects.get(user=user))


# --- CSV export ---------------------------------------------------------------------------


def test_csv_export_is_recorded_before_it_streams(supervisor, caseworker, case, survivor, revealed):
    sneaky = UserFactory(username="+sneaky", role=roles.CASEWORKER)
    audit_record(kind="=2+5", actor=sneaky, person_id=survivor.pk, case_id=case.pk, field="@x")
    client = verified_client(supervisor)
    # A download needs a fresh one-time code: without one, nothing is exported.
    refused = client.post(_person_url(survivor), {"export-code": "000000"})
    assert not refused.streaming and "That code is not valid" in refused.content.decode()
    assert not AuditEvent.objects.filter(kind="audit_export").exists()
    TOTPDevice.objects.filter(user=supervisor).update(throttling_failure_count=0)
    response = client.post(_person_url(survivor), {"export-code": _code(supervisor)})
    # Recorded before a single row is read.
    export = AuditEvent.objects.get(kind="audit_export")
    assert (export.actor, export.person_id, export.case_id) == (supervisor, survivor.pk, None)
    assert export.detail["subject"] == "person" and export.detail["subject_id"] == str(survivor.pk)
    assert export.detail["rows"] == 2
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f"attachment; filename=audit-person-{survivor.pk}.csv"
    assert "no-store" in response["Cache-Control"]

    rows = _csv(response)
    assert rows[0] == CSV_HEADER
    assert len(rows) == 3  # the export's own record came after the count: not in it
    injected, reveal = rows[1], rows[2]
    assert injected[3] == "'+sneaky" and injected[4] == "'=2+5"
    assert json.loads(injected[8]) == {"field": "@x"}
    assert reveal[0] == str(revealed.seq) and reveal[1].endswith("+00:00")
    assert reveal[2:5] == [str(caseworker.pk), "cw-test", "contact_revealed"]
    assert reveal[5:8] == [str(case.pk), case.number, str(survivor.pk)]
    assert json.loads(reveal[8])["reason"] == "safety"
    _no_survivor_data("\n".join(",".join(r) for r in rows), survivor)
    # The export is now on the person's trail itself.
    trail = verified_client(supervisor).get(_person_url(survivor)).context["rows"]
    assert trail[0]["what"] == "Audit trail exported" and trail[0]["username"] == "sup-test"


def test_staff_csv_export_follows_the_filters(auditor, caseworker, revealed):
    audit_record(kind=Kind.SIGN_OUT, actor=caseworker)
    response = verified_client(auditor).post(
        _staff_url(caseworker), {"kind": "contact_revealed", "export-code": _code(auditor)}
    )
    assert (
        response["Content-Disposition"] == f"attachment; filename=audit-staff-{caseworker.pk}.csv"
    )
    rows = _csv(response)
    assert [r[0] for r in rows[1:]] == [str(revealed.seq)]
    export = AuditEvent.objects.get(kind="audit_export")
    assert export.person_id is None and export.actor == auditor
    assert export.detail["subject"] == "staff" and export.detail["subject_id"] == caseworker.pk
    assert export.detail["rows"] == 1 and export.detail["event_kind"] == "contact_revealed"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_never_start_a_formula(start):
    assert csv_cell(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"
    assert csv_cell("plain") == "plain" and csv_cell(None) == "" and csv_cell(12) == "12"


# --- Queries ------------------------------------------------------------------------------


def _events(n: int, *, survivor, actor=None) -> None:
    """n records on different cases, each by a different member of staff."""
    cases = [full_case() for _ in range(3)]
    for i in range(n):
        audit_record(
            kind="contact_revealed" if i % 2 else Kind.SIGN_OUT,
            actor=actor or UserFactory(role=roles.CASEWORKER, device=False),
            case_id=cases[i % 3].pk,
            person_id=survivor.pk,
            field="contact:residential",
            reason="safety",
        )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_person_page_queries_do_not_grow_with_the_records(auditor, survivor):
    client = verified_client(auditor)
    _events(5, survivor=survivor)
    few = _queries(client, _person_url(survivor))
    _events(45, survivor=survivor)
    many = _queries(client, _person_url(survivor))
    assert len(client.get(_person_url(survivor)).context["rows"]) == 50
    assert many == few


def test_staff_page_queries_do_not_grow_with_the_records(auditor, caseworker, survivor):
    client = verified_client(auditor)
    _events(5, survivor=survivor, actor=caseworker)
    few = _queries(client, _staff_url(caseworker))
    _events(45, survivor=survivor, actor=caseworker)
    assert _queries(client, _staff_url(caseworker)) == few


# --- Scope ----------------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["other supervisor", "caseworker", "administrator", "no role"])
def test_outsiders_get_404(caseworker, case, survivor, revealed, other_case, outsider):
    user = {
        "other supervisor": lambda: other_case.unit.supervisor,
        "caseworker": lambda: caseworker,
        "administrator": lambda: UserFactory(role=roles.ADMINISTRATOR, is_staff=True),
        "no role": lambda: UserFactory(),
    }[outsider]()
    client = verified_client(user)
    for url in (_person_url(survivor), _staff_url(caseworker)):
        for response in (client.get(url), client.post(url, {"export-code": "123456"})):
            assert response.status_code == 404, url
            assert "Page not found" in response.content.decode()
    index = client.post(INDEX, {"number": case.number})
    if outsider == "other supervisor":
        html = index.content.decode()
        assert index.status_code == 200
        assert "No case with that number that you can audit." in html
        assert str(survivor.pk) not in html and "cw-test" not in html
    else:
        assert index.status_code == 404
    assert not AuditEvent.objects.filter(kind="audit_export").exists()


def test_a_supervisor_sees_only_their_units(supervisor, caseworker, survivor, other_case, revealed):
    client = verified_client(supervisor)
    assert client.get(_staff_url(supervisor)).status_code == 200
    assert client.get(_staff_url(caseworker)).status_code == 200
    other_worker = other_case.caseworker
    other_person = Participant.objects.filter(case=other_case).first().person
    for url in (
        _staff_url(other_worker),
        _staff_url(other_case.unit.supervisor),
        _person_url(other_person),
        reverse("audit:person", args=["00000000-0000-0000-0000-000000000001"]),
        reverse("audit:staff", args=[999999]),
    ):
        assert client.get(url).status_code == 404, url
    staff_listed = {m.pk for m in client.get(INDEX).context["members"]}
    assert staff_listed == {supervisor.pk, caseworker.pk}


def test_an_auditor_sees_everything(auditor, caseworker, survivor, other_case, admin_user):
    client = verified_client(auditor)
    other_person = Participant.objects.filter(case=other_case).first().person
    for url in (
        _person_url(survivor),
        _person_url(other_person),
        _staff_url(caseworker),
        _staff_url(other_case.caseworker),
        _staff_url(admin_user),
        _staff_url(auditor),
    ):
        assert client.get(url).status_code == 200, url
    found = client.post(INDEX, {"number": other_case.number})
    assert len(found.context["participants"]) == 3
    assert other_case.caseworker.username in found.content.decode()


# --- Access --------------------------------------------------------------------------------


def test_anonymous_password_only_and_wrong_method(supervisor, caseworker, survivor):
    for url in (INDEX, _person_url(survivor), _staff_url(caseworker)):
        anonymous = Client().post(url, {"export-code": "123456"})
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/sign-in/?next=")
        unverified = password_only_client(supervisor).get(url)
        assert unverified.status_code == 302
        assert unverified["Location"].startswith("/accounts/sign-in/code/")
        client = verified_client(supervisor)
        for method in ("put", "delete"):
            assert getattr(client, method)(url).status_code == 405, (url, method)
        strict = verified_client(supervisor, Client(enforce_csrf_checks=True))
        assert strict.post(url).status_code == 403
    assert not AuditEvent.objects.filter(kind="audit_export").exists()


def test_nav_and_home_link_to_the_audit_trail(supervisor, auditor, caseworker):
    for user, shown in ((supervisor, True), (auditor, True), (caseworker, False)):
        html = verified_client(user).get(reverse("home")).content.decode()
        assert (f'href="{INDEX}"' in html) is shown, user.username
    assert (
        "No audit reports are available yet."
        not in verified_client(auditor).get(reverse("home")).content.decode()
    )
