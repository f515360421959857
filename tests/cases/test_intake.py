"""Intake through the real forms: a case with its people and addresses; every kind
of bad input gets a message at the field and saves nothing; a canary address saved
through the forms is nowhere in a pg_dump or the logs."""

from __future__ import annotations

import logging
import os
import subprocess

import pytest
from django.db import connection
from django.urls import reverse

from accounts import roles
from cases.models import Case, CaseEvent, ContactPoint, Participant, Person
from safety import protected
from tests.conftest import verified_client
from tests.factories import OfficeFactory, UnitFactory, UserFactory, full_case

OPEN = reverse("cases:open")
CANARY_STREET = "4321 Canary Hollow Road"  # synthetic
CANARY_PHONE = "555-010-7788"
CANARY_SSN = "900-77-4242"


def _form(home_unit, **changes) -> dict:
    data = {
        "number": "NM-2026-0001",
        "office": home_unit.office_id,
        "unit": home_unit.pk,
        "programs": ["program_tanf", "program_medicaid"],
        "opened_on": "3/2/2026",
        "cp_role": "custodial_parent",
        "cp_first_name": "Ana",
        "cp_last_name": "Testperson",
        "cp_date_of_birth": "4/28/1990",
        "cp_ssn": CANARY_SSN,
        "address_line1": CANARY_STREET,
        "address_city": "Testville",
        "address_state": "nm",
        "address_zip": "87001",
        "phone": CANARY_PHONE,
        "email": "ana@example.invalid",
        "ncp_role": "noncustodial_parent",
        "ncp_first_name": "Bo",
        "ncp_last_name": "Testperson",
        "ncp_date_of_birth": "",
        "ncp_ssn": "",
        "child_first_name": "Cy",
        "child_last_name": "Testperson",
        "child_date_of_birth": "1/5/2019",
    }
    data.update(changes)
    return data


@pytest.fixture
def unit(db, supervisor, caseworker):
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(caseworker)
    return unit


@pytest.mark.django_db
def test_a_caseworker_opens_a_case_with_its_people(caseworker, unit, caplog):
    client = verified_client(caseworker)
    assert client.get(OPEN).status_code == 200
    with caplog.at_level(logging.DEBUG):
        response = client.post(OPEN, _form(unit))
    assert response.status_code == 302, response.context["form"].errors
    case = Case.objects.get(number="NM-2026-0001")
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.caseworker == caseworker and case.unit == unit
    assert case.program_tanf and case.program_medicaid and not case.program_snap
    roles_on_case = sorted(Participant.objects.filter(case=case).values_list("role", flat=True))
    assert roles_on_case == ["child", "custodial_parent", "noncustodial_parent"]
    cp = Person.objects.get(participations__case=case, participations__role="custodial_parent")
    assert protected.reveal(cp, "ssn") == CANARY_SSN
    kinds = {p.kind: protected.reveal(p, "value") for p in ContactPoint.objects.filter(person=cp)}
    assert kinds["residential"] == f"{CANARY_STREET}\nTestville, NM 87001"
    assert kinds["phone"] == CANARY_PHONE
    assert CaseEvent.objects.filter(case=case, kind="opened").exists()
    for secret in (CANARY_STREET, CANARY_PHONE, CANARY_SSN):
        assert secret not in caplog.text
    page = client.get(response["Location"]).content.decode()
    assert "Case NM-2026-0001 is open." in page
    for secret in (CANARY_STREET, CANARY_PHONE, CANARY_SSN, "Canary"):
        assert secret not in page


BAD = [
    ({"opened_on": "2/30/2026"}, "opened_on", "Enter a real date"),
    ({"opened_on": "1/1/2999"}, "opened_on", "opening date cannot be in the future"),
    ({"cp_date_of_birth": "13/13/1990"}, "cp_date_of_birth", "Enter a real date"),
    ({"child_date_of_birth": "1/1/2999"}, "child_date_of_birth", "cannot be in the future"),
    ({"cp_ssn": "000-12-3456"}, "cp_ssn", "not a possible SSN"),
    ({"cp_ssn": "666-12-3456"}, "cp_ssn", "not a possible SSN"),
    ({"cp_ssn": "900-00-3456"}, "cp_ssn", "not a possible SSN"),
    ({"cp_ssn": "900-12-0000"}, "cp_ssn", "not a possible SSN"),
    ({"cp_ssn": "12345"}, "cp_ssn", "9 digits"),
    ({"cp_ssn": "900-12-345x"}, "cp_ssn", "9 digits"),
    ({"ncp_ssn": CANARY_SSN}, "ncp_ssn", "same SSN"),
    ({"cp_first_name": "", "cp_last_name": ""}, "cp_first_name", "required"),
    ({"cp_role": "noncustodial_parent"}, "cp_role", "Select a valid choice"),
    ({"address_zip": "8700"}, "address_zip", "5-digit ZIP"),
    ({"address_city": ""}, "address_city", "Complete the address"),
    ({"address_state": "N1"}, "address_state", "2-letter state"),
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"number": ""}, "number", "Enter the case number."),
    ({"number": "x" * 40}, "number", "at most 20"),
    ({"cp_first_name": "x" * 1000}, "cp_first_name", "at most 100"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"), BAD, ids=[b[1] + "-" + str(i) for i, b in enumerate(BAD)]
)
def test_bad_input_gets_a_message_at_the_field_and_saves_nothing(
    caseworker, unit, changes, field, message
):
    before = (Case.objects.count(), Person.objects.count(), ContactPoint.objects.count())
    response = verified_client(caseworker).post(OPEN, _form(unit, **changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert f'id="id_{field}-error"' in response.content.decode()
    assert (Case.objects.count(), Person.objects.count(), ContactPoint.objects.count()) == before


@pytest.mark.django_db
def test_duplicate_case_number_and_wrong_unit(caseworker, unit):
    client = verified_client(caseworker)
    assert client.post(OPEN, _form(unit)).status_code == 302
    again = client.post(OPEN, _form(unit, number="nm-2026-0001"))
    assert "A case with this number exists already." in again.content.decode()
    # A caseworker in units of two offices must pick a unit of the chosen office.
    second = UnitFactory(office=OfficeFactory(code="OFZ", county="Elsewhere"))
    second.caseworkers.add(caseworker)
    wrong = client.post(OPEN, _form(unit, number="NM-2", office=second.office_id))
    assert "Choose a unit of the selected office." in wrong.content.decode()
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_person_cannot_be_added_twice_in_the_same_role(caseworker, unit):
    case = full_case(caseworker=caseworker, unit=unit)
    url = reverse("cases:participant_add", args=[case.pk])
    client = verified_client(caseworker)
    child = {
        "role": "child",
        "person_first_name": "Dee",
        "person_last_name": "Testperson",
        "person_date_of_birth": "2/2/2020",
        "person_ssn": "900-88-1111",
    }
    assert client.post(url, child).status_code == 302
    count = Participant.objects.filter(case=case).count()
    by_ssn = client.post(url, {**child, "person_first_name": "Other"})
    assert "already on the case in this role" in by_ssn.content.decode()
    by_name = client.post(url, {**child, "person_ssn": ""})
    assert "already on the case in this role" in by_name.content.decode()
    assert Participant.objects.filter(case=case).count() == count
    # The same person in another role is allowed (a caretaker who is also named as a child is
    # unusual, but roles are the agency's to record).
    other_role = client.post(
        url, {**child, "role": "caretaker", "person_date_of_birth": "2/2/1960"}
    )
    assert other_role.status_code == 302


@pytest.mark.django_db
def test_editing_a_case_checks_the_closing_date(caseworker, unit):
    case = full_case(caseworker=caseworker, unit=unit)
    url = reverse("cases:edit", args=[case.pk])
    client = verified_client(caseworker)
    no_date = client.post(url, {"status": "closed", "closed_on": ""})
    assert "Enter the date the case closed." in no_date.content.decode()
    too_early = client.post(url, {"status": "closed", "closed_on": "1/1/2020"})
    assert "cannot close before it opened" in too_early.content.decode()
    case.refresh_from_db()
    assert case.status == "open" and case.closed_on is None
    done = client.post(
        url, {"status": "closed", "closed_on": "6/1/2025", "programs": ["program_snap"]}
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == "closed" and case.program_snap and not case.program_tanf
    assert CaseEvent.objects.filter(case=case, kind="edited").exists()


@pytest.mark.django_db
def test_supervisor_reassigns_a_case(supervisor, caseworker, unit):
    case = full_case(caseworker=caseworker, unit=unit)
    newcomer = UserFactory(username="cw-new-owner", role=roles.CASEWORKER)
    elsewhere = UserFactory(username="cw-other-unit", role=roles.CASEWORKER)
    UnitFactory().caseworkers.add(elsewhere)
    unit.caseworkers.add(newcomer)
    client = verified_client(supervisor)
    url = reverse("cases:assign", args=[case.pk])
    bad = client.post(url, {"caseworker": "999999"})
    assert "Select a valid choice" in bad.content.decode()
    not_a_worker = client.post(url, {"caseworker": supervisor.pk})
    assert "Select a valid choice" in not_a_worker.content.decode()
    # A caseworker of another unit cannot be given this unit's case.
    other_unit = client.post(url, {"caseworker": elsewhere.pk})
    assert "Select a valid choice" in other_unit.content.decode()
    case.refresh_from_db()
    assert case.caseworker == caseworker
    assert client.post(url, {"caseworker": newcomer.pk}).status_code == 302
    case.refresh_from_db()
    assert case.caseworker == newcomer
    assert (
        verified_client(caseworker).get(reverse("cases:detail", args=[case.pk])).status_code == 404
    )
    assert verified_client(newcomer).get(reverse("cases:detail", args=[case.pk])).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_canary_saved_through_the_forms_is_not_in_a_database_dump(caseworker, unit, tmp_path):
    response = verified_client(caseworker).post(OPEN, _form(unit))
    assert response.status_code == 302
    db = connection.settings_dict
    dump = tmp_path / "dump.sql"
    subprocess.run(
        [
            "/usr/lib/postgresql/15/bin/pg_dump",
            "--no-owner",
            "-h",
            db["HOST"],
            "-p",
            str(db["PORT"]),
            "-U",
            db["USER"],
            "-f",
            str(dump),
            db["NAME"],
        ],
        env={**os.environ, "PGPASSWORD": db["PASSWORD"] or ""},
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = dump.read_text(errors="replace")
    assert "NM-2026-0001" in text  # the dump has the case...
    assert "Testperson" in text  # ...and the names, which are not protected
    for secret in (
        CANARY_STREET,
        "Canary",
        CANARY_PHONE,
        "0107788",
        CANARY_SSN,
        "900774242",
        "87001",
    ):
        assert secret not in text, secret


@pytest.mark.django_db
def test_contact_details_are_added_sealed_and_checked(caseworker, unit, caplog):
    case = full_case(caseworker=caseworker, unit=unit)
    person = case.participants.get(role="noncustodial_parent").person
    url = reverse("cases:contact_add", args=[case.pk, person.pk])
    client = verified_client(caseworker)
    good = {
        "kind": "residential",
        "value": "8 Canary Bend\nTestville, NM 87002",
        "valid_from": "1/2/2026",
        "source": "court",
    }
    for changes, message in [
        ({"value": "8 Canary Bend"}, "city, state and ZIP on the next"),
        ({"kind": "phone", "value": "call me"}, "phone number with area code"),
        ({"kind": "email", "value": "nope@"}, "valid email"),
        ({"valid_from": "1/2/2999"}, "cannot be in the future"),
        ({"kind": "fax"}, "Select a valid choice"),
        ({"value": ""}, "Enter the details."),
    ]:
        response = client.post(url, {**good, **changes})
        assert response.status_code == 200
        assert message in response.content.decode(), changes
    assert not ContactPoint.objects.filter(person=person).exists()
    with caplog.at_level(logging.DEBUG):
        assert client.post(url, good).status_code == 302
    point = ContactPoint.objects.get(person=person)
    assert protected.reveal(point, "value") == good["value"]
    assert point.created_by == caseworker and point.source == "court"
    assert "Canary" not in caplog.text
    assert "Canary" not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    # Someone not on the case: 404.
    stranger = Person.objects.create(first_name="Not", last_name="Onthecase")
    assert client.get(reverse("cases:contact_add", args=[case.pk, stranger.pk])).status_code == 404


@pytest.mark.django_db
def test_orders_and_notes(caseworker, unit):
    case = full_case(caseworker=caseworker, unit=unit)
    client = verified_client(caseworker)
    order_url = reverse("cases:order_record", args=[case.pk])
    bad = client.post(
        order_url,
        {
            "amount": "-5",
            "frequency": "monthly",
            "arrears": "0",
            "court": "X",
            "order_date": "1/1/2026",
        },
    )
    assert "greater than or equal to 0" in bad.content.decode()
    ok = client.post(
        order_url,
        {
            "amount": "410.50",
            "frequency": "biweekly",
            "arrears": "0",
            "court": "Sample Court",
            "order_date": "2/1/2026",
        },
    )
    assert ok.status_code == 302
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "$410.50" in page and "Every two weeks" in page

    note_url = reverse("cases:note_add", args=[case.pk])
    assert "Write the note." in client.post(note_url, {"body": "  "}).content.decode()
    assert client.post(note_url, {"body": "Called the office <b>today</b>."}).status_code == 302
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Called the office &lt;b&gt;today&lt;/b&gt;." in page
    assert CaseEvent.objects.filter(case=case, kind="note_added").exists()


@pytest.mark.django_db
def test_a_caseworker_opens_cases_only_in_their_own_units(caseworker, unit):
    foreign = UnitFactory()
    response = verified_client(caseworker).post(
        OPEN, _form(unit, unit=foreign.pk, office=foreign.office_id)
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_flag_follows_the_ssn_to_a_new_record(caseworker, unit):
    from safety.models import FamilyViolenceIndicator

    first = full_case(caseworker=caseworker, unit=unit)
    survivor = first.participants.get(role="custodial_parent").person  # SSN 900-55-1234
    FamilyViolenceIndicator.objects.create(
        person=survivor, reason="protective_order", set_by=caseworker
    )
    client = verified_client(caseworker)
    assert client.post(OPEN, _form(unit, cp_ssn="900-55-1234")).status_code == 302
    second = Case.objects.get(number="NM-2026-0001")
    new_record = second.participants.get(role="custodial_parent").person
    assert new_record.pk != survivor.pk  # not linked: her other details stay off this case
    fvi = FamilyViolenceIndicator.objects.get(person=new_record)
    assert fvi.reason == "protective_order" and fvi.removed_at is None
    flagged = client.get(reverse("cases:caseload"), {"flag": "yes"}).context["cases"]
    assert second.number in [c.number for c in flagged]
    # Nothing of her other record shows on the new case.
    assert (
        not ContactPoint.objects.filter(person=new_record)
        .exclude(pk__in=ContactPoint.objects.filter(person=new_record, created_by=caseworker))
        .exists()
    )


@pytest.mark.django_db
def test_duplicates_without_ssn_or_birth_date_and_across_sides(caseworker, unit):
    case = full_case(caseworker=caseworker, unit=unit)
    url = reverse("cases:participant_add", args=[case.pk])
    client = verified_client(caseworker)
    child = {
        "role": "child",
        "person_first_name": "Eli",
        "person_last_name": "Testperson",
        "person_date_of_birth": "",
        "person_ssn": "",
    }
    assert client.post(url, child).status_code == 302
    again = client.post(url, child)
    assert "already on the case in this role" in again.content.decode()
    with_dob = client.post(url, {**child, "person_date_of_birth": "3/3/2021"})
    assert "already on the case in this role" in with_dob.content.decode()
    # The custodial parent's SSN given to a new noncustodial parent.
    ncp = {
        "role": "noncustodial_parent",
        "person_first_name": "Zed",
        "person_last_name": "Testperson",
        "person_date_of_birth": "",
        "person_ssn": "900-55-1234",
    }
    crossed = client.post(url, ncp)
    assert "other side of this case" in crossed.content.decode()
    assert Participant.objects.filter(case=case, role="child").count() == 2


@pytest.mark.django_db
def test_never_issued_ssns_are_refused_outside_demo_and_test(caseworker, unit, settings):
    settings.ACCEPT_TEST_SSNS = False
    response = verified_client(caseworker).post(OPEN, _form(unit, cp_ssn="900-12-3456"))
    assert "not a possible SSN" in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_implausible_old_dates_are_refused(caseworker, unit):
    client = verified_client(caseworker)
    for field, value in (("cp_date_of_birth", "1/1/0001"), ("opened_on", "6/1/1960")):
        response = client.post(OPEN, _form(unit, **{field: value}))
        assert "Check the year" in response.content.decode(), field
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_long_form_errors_are_summarised_and_linked(caseworker, unit):
    response = verified_client(caseworker).post(OPEN, _form(unit, cp_ssn="12", address_zip="1"))
    html = response.content.decode()
    assert 'id="error-summary"' in html and "There are problems with 2 answers" in html
    assert 'href="#div_id_cp_ssn"' in html and 'id="div_id_cp_ssn"' in html


@pytest.mark.django_db
def test_correcting_a_person_and_ending_an_address(caseworker, unit, caplog):
    case = full_case(caseworker=caseworker, unit=unit)
    cp = case.participants.get(role="custodial_parent").person
    client = verified_client(caseworker)
    url = reverse("cases:person_edit", args=[case.pk, cp.pk])
    bad = client.post(url, {"first_name": "", "last_name": "X", "new_ssn": "666-00-0000"})
    html = bad.content.decode()
    assert "This field is required" in html and "not a possible SSN" in html
    cp.refresh_from_db()
    assert protected.reveal(cp, "ssn") == "900-55-1234"
    with caplog.at_level(logging.DEBUG):
        ok = client.post(
            url,
            {
                "first_name": "Anna",
                "last_name": "Testperson",
                "date_of_birth": "4/28/1988",
                "new_ssn": "900-66-4321",
            },
        )
    assert ok.status_code == 302
    cp.refresh_from_db()
    assert cp.first_name == "Anna" and protected.reveal(cp, "ssn") == "900-66-4321"
    assert "900-66-4321" not in caplog.text
    event = CaseEvent.objects.filter(case=case, kind="edited").latest("id")
    assert "4321" not in str(event.detail) and "ssn" in event.detail["fields"]

    point = ContactPoint.objects.get(person=cp)
    end = reverse("cases:contact_end", args=[case.pk, point.pk])
    early = client.post(end, {"valid_to": "1/1/2020"})
    assert "cannot be before the start date" in early.content.decode()
    assert client.post(end, {"valid_to": "2/1/2026"}).status_code == 302
    point.refresh_from_db()
    assert str(point.valid_to) == "2026-02-01"
    assert protected.reveal(point, "value") == "1 Synthetic Way"
