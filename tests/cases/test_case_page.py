"""The case page: everything on it, addresses masked, reveal recorded, scope
enforced with 404, and a query count that does not grow with the case."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import roles
from cases.models import (
    CaseEvent,
    CaseNote,
    ContactPoint,
    Participant,
    ParticipantRole,
    Person,
    ProtectedValueAccess,
)
from tests.conftest import password_only_client, verified_client
from tests.factories import UnitFactory, UserFactory, contact_point, full_case

pytestmark = pytest.mark.django_db
CANARY = "99 Canary Crescent, Hiddenville"  # synthetic


@pytest.fixture
def unit(supervisor):
    return UnitFactory(supervisor=supervisor)


@pytest.fixture
def case(caseworker, unit):
    return full_case(caseworker=caseworker, unit=unit, address=CANARY)


def _address(case) -> ContactPoint:
    return ContactPoint.objects.get(person__participations__case=case, kind="residential")


def _urls(case) -> dict[str, str]:
    point = _address(case)
    cp = Participant.objects.get(case=case, role=ParticipantRole.CUSTODIAL_PARENT).person
    return {
        "detail": reverse("cases:detail", args=[case.pk]),
        "reveal": reverse("cases:contact_reveal", args=[case.pk, point.pk]),
        "ssn": reverse("cases:ssn_reveal", args=[case.pk, cp.pk]),
        "edit": reverse("cases:edit", args=[case.pk]),
        "participants": reverse("cases:participant_add", args=[case.pk]),
        "assign": reverse("cases:assign", args=[case.pk]),
        "contact": reverse("cases:contact_add", args=[case.pk, cp.pk]),
        "order": reverse("cases:order_record", args=[case.pk]),
        "note": reverse("cases:note_add", args=[case.pk]),
        "person": reverse("cases:person_edit", args=[case.pk, cp.pk]),
        "end": reverse("cases:contact_end", args=[case.pk, point.pk]),
    }


def test_case_page_shows_the_case_with_addresses_masked(caseworker, case):
    response = verified_client(caseworker).get(_urls(case)["detail"])
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html
    for text in (
        "Custodial parent",
        "Noncustodial parent",
        "Child",
        "$350.00",
        "Monthly",
        "Income withholding",
        "Passport denial",
        "Synthetic County Family Court",
    ):
        assert text in html, text
    assert CANARY not in html and "Canary" not in html
    assert "900-55-1234" not in html and "1234" not in html
    assert "••••••" in html


def test_reveal_asks_for_a_reason_then_shows_and_records(caseworker, case, caplog):
    urls = _urls(case)
    client = verified_client(caseworker)
    form = client.get(urls["reveal"])
    assert form.status_code == 200
    assert CANARY not in form.content.decode()
    assert not ProtectedValueAccess.objects.exists()

    no_reason = client.post(urls["reveal"], {})
    assert "Choose the reason you need to see this." in no_reason.content.decode()
    other_blank = client.post(urls["reveal"], {"reason": "other", "reason_text": "  "})
    assert "Explain why you need to see it." in other_blank.content.decode()
    junk = client.post(urls["reveal"], {"reason": "'; DROP TABLE cases_case; --"})
    assert junk.status_code == 200 and CANARY not in junk.content.decode()
    assert not ProtectedValueAccess.objects.exists()

    with caplog.at_level(logging.DEBUG):
        shown = client.post(urls["reveal"], {"reason": "safety"})
    assert shown.status_code == 200
    assert CANARY in shown.content.decode()
    assert CANARY not in caplog.text
    access = ProtectedValueAccess.objects.get()
    assert (access.user, access.case, access.contact_point) == (caseworker, case, _address(case))
    assert access.reason == "safety" and access.field == "contact:residential"
    assert CaseEvent.objects.filter(case=case, kind="contact_revealed", actor=caseworker).exists()
    # The next page load is masked again.
    assert CANARY not in client.get(urls["detail"]).content.decode()


def test_ssn_shows_only_the_last_four_digits(caseworker, case):
    response = verified_client(caseworker).post(_urls(case)["ssn"], {"reason": "verify"})
    html = response.content.decode()
    assert "•••-••-1234" in html
    assert "900-55" not in html and "90055" not in html
    assert ProtectedValueAccess.objects.get().field == "ssn:last4"


def test_a_contact_point_of_someone_not_on_the_case_is_404(caseworker, case, unit):
    elsewhere = full_case(caseworker=caseworker, unit=unit, address="5 Elsewhere Road")
    foreign = _address(elsewhere)
    url = reverse("cases:contact_reveal", args=[case.pk, foreign.pk])
    assert verified_client(caseworker).post(url, {"reason": "safety"}).status_code == 404
    assert not ProtectedValueAccess.objects.exists()


# --- Personas: works for the assigned caseworker and the unit supervisor; 404 for
# everyone else signed in; anonymous to sign-in; unverified to the code page.
OUTSIDERS = ["other caseworker", "other supervisor", "administrator", "auditor", "no role"]


def _outsider(kind: str):
    role = {
        "other caseworker": roles.CASEWORKER,
        "other supervisor": roles.SUPERVISOR,
        "administrator": roles.ADMINISTRATOR,
        "auditor": roles.AUDITOR,
        "no role": None,
    }[kind]
    user = UserFactory(
        username=f"out-{kind.replace(' ', '-')}", role=role, is_staff=role == roles.ADMINISTRATOR
    )
    if kind == "other supervisor":
        UnitFactory(supervisor=user)
        full_case(caseworker=None, unit=user.supervised_units.get())
    return user


CASE_PAGES = [
    "detail",
    "reveal",
    "ssn",
    "edit",
    "participants",
    "assign",
    "contact",
    "order",
    "note",
]
TEAM = [(page, who) for page in CASE_PAGES for who in ("caseworker", "supervisor")]


@pytest.mark.parametrize(("page", "who"), TEAM)
def test_case_pages_work_for_the_case_team(page, who, caseworker, supervisor, case):
    user = caseworker if who == "caseworker" else supervisor
    response = verified_client(user).get(_urls(case)[page])
    # Assignment is the supervisor's: the assigned caseworker gets 404 like anyone else.
    expected = 404 if (page, who) == ("assign", "caseworker") else 200
    assert response.status_code == expected


@pytest.mark.parametrize("page", CASE_PAGES)
@pytest.mark.parametrize("kind", OUTSIDERS)
def test_case_pages_are_404_for_everyone_else(page, kind, case):
    client = verified_client(_outsider(kind))
    url = _urls(case)[page]
    assert client.get(url).status_code == 404
    if page != "detail":
        assert client.post(url, {"reason": "safety"}).status_code == 404
    assert not ProtectedValueAccess.objects.exists()


def test_missing_and_not_yours_look_the_same(caseworker, case):
    outsider = verified_client(_outsider("other caseworker"))
    not_yours = outsider.get(_urls(case)["detail"])
    missing = outsider.get(reverse("cases:detail", args=[case.pk + 10_000]))
    assert not_yours.status_code == missing.status_code == 404

    def page(response, pk):
        html = response.content.decode().replace(str(pk), "")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert page(not_yours, case.pk) == page(missing, case.pk + 10_000)


@pytest.mark.parametrize("page", CASE_PAGES)
def test_case_pages_redirect_anonymous_and_unverified(page, caseworker, case):
    url = _urls(case)[page]
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/sign-in/")
    unverified = password_only_client(caseworker if page != "assign" else case.unit.supervisor)
    unverified = unverified.get(url)
    assert unverified.status_code == 302
    assert unverified["Location"].startswith("/accounts/sign-in/code/")


def test_case_pages_wrong_method_and_csrf(caseworker, case):
    urls = _urls(case)
    client = verified_client(caseworker)
    assert client.post(urls["detail"]).status_code == 405
    assert client.put(urls["reveal"]).status_code == 405
    strict = verified_client(caseworker, Client(enforce_csrf_checks=True))
    response = strict.post(urls["reveal"], {"reason": "safety"})
    assert response.status_code == 403
    assert CANARY not in response.content.decode()
    assert not ProtectedValueAccess.objects.exists()
    for page in ("edit", "participants", "contact", "order", "note", "person", "end"):
        assert strict.post(urls[page], {"status": "closed"}).status_code == 403
        assert client.put(urls[page]).status_code == 405
    case.refresh_from_db()
    assert case.status == "open"


def test_case_page_queries_do_not_grow_with_the_case(caseworker, case):
    client = verified_client(caseworker)
    url = _urls(case)["detail"]

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    small = count()
    people = Person.objects.bulk_create(
        Person(first_name=f"Extra{i}", last_name="Testperson") for i in range(495)
    )
    Participant.objects.bulk_create(
        Participant(case=case, person=p, role=ParticipantRole.CHILD) for p in people
    )
    for person in people[:20]:
        contact_point(person, "7 Bulk Street")
    CaseNote.objects.bulk_create(
        CaseNote(case=case, author=caseworker, body="n") for _ in range(50)
    )
    CaseEvent.objects.bulk_create(CaseEvent(case=case, kind="edited") for _ in range(80))
    assert count() == small  # at most 15: tests/test_queries_per_page.py
    assert small <= 25


def test_a_value_that_will_not_open_gets_a_clear_page_and_is_recorded(caseworker, case, caplog):
    from safety.protected import Sealed

    point = _address(case)
    prefix, key_id, body = point.value.token.split(".", 2)
    ContactPoint.objects.filter(pk=point.pk).update(
        value=Sealed(f"{prefix}.{key_id}.{body[:-4]}AAAA")
    )
    with caplog.at_level(logging.DEBUG):
        response = verified_client(caseworker).post(_urls(case)["reveal"], {"reason": "safety"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This value cannot be opened" in html
    assert "Traceback" not in html and body[:20] not in html
    access = ProtectedValueAccess.objects.get()
    assert access.outcome == "failed" and access.user == caseworker
    assert CANARY not in caplog.text


def test_the_case_page_says_when_older_notes_are_not_shown(caseworker, case):
    CaseNote.objects.bulk_create(
        CaseNote(case=case, author=caseworker, body="n") for _ in range(25)
    )
    html = verified_client(caseworker).get(_urls(case)["detail"]).content.decode()
    assert "Showing the latest 20 of 25 notes." in html
