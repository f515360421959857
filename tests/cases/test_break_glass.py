"""Break the glass: a case outside one's scope opens only with a reason from a list
and an explanation; access lasts BREAK_GLASS_MINUTES, is on the timeline and in the
audit trail, and the unit's supervisor sees it on their home page. Without it,
outside cases are 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import AuditEvent
from cases.models import BreakGlassAccess, CaseEvent
from tests.conftest import password_only_client, verified_client
from tests.factories import UnitFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db
URL = reverse("cases:break_glass")


@pytest.fixture
def outside_case(supervisor):
    """A case of another caseworker, in a unit the fixture supervisor runs."""
    other = UserFactory(username="bg-owner", role=roles.CASEWORKER)
    return full_case(caseworker=other, unit=UnitFactory(supervisor=supervisor))


def _answers(case, **overrides):
    return {
        "number": case.number.lower(),  # typed in any case
        "reason": "covering",
        "reason_text": "Maria is out; the custodial parent is on the phone.",
        **overrides,
    }


def test_an_outside_case_opens_only_with_a_reason_and_for_a_while(
    caseworker, supervisor, outside_case, settings
):
    detail = reverse("cases:detail", args=[outside_case.pk])
    client = verified_client(caseworker)
    assert client.get(detail).status_code == 404
    for missing, message in (
        ({"reason": ""}, "Choose the reason you need this case."),
        ({"reason_text": "  "}, "Explain why you need this case."),
        ({"number": "ZZ-0000"}, "No case has that number."),
        ({"reason": "bored"}, "Select a valid choice."),
    ):
        page = client.post(URL, _answers(outside_case, **missing))
        assert page.status_code == 200 and message in page.content.decode()
    assert not BreakGlassAccess.objects.exists()
    assert client.get(detail).status_code == 404

    opened = client.post(URL, _answers(outside_case))
    assert opened.status_code == 302 and opened["Location"] == detail
    page = client.get(detail).content.decode()
    assert "This case is outside your caseload" in page and "Covering for an absent" in page
    grant = BreakGlassAccess.objects.get()
    minutes = (grant.expires_at - grant.granted_at).total_seconds() / 60
    assert round(minutes) == settings.BREAK_GLASS_MINUTES
    event = CaseEvent.objects.get(case=outside_case, kind="break_glass")
    assert event.actor == caseworker and event.detail["reason"] == "covering"
    audited = AuditEvent.objects.get(kind="break_glass")
    assert (audited.actor_id, audited.case_id) == (caseworker.pk, outside_case.pk)
    assert "Maria" not in str(audited.detail)  # the explanation stays in the grant
    # Case pages that hang off the case open too, while it lasts.
    assert client.get(reverse("cases:note_add", args=[outside_case.pk])).status_code == 200
    # The unit's supervisor is told on their home page.
    home = verified_client(supervisor).get(reverse("home")).content.decode()
    assert 'id="break-glass-alert"' in home and outside_case.number in home
    assert "Maria is out" in home
    # After the window, 404 again.
    BreakGlassAccess.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(detail).status_code == 404


def test_the_grant_is_the_users_own_and_nobody_elses(caseworker, outside_case):
    verified_client(caseworker).post(URL, _answers(outside_case))
    colleague = UserFactory(username="bg-colleague", role=roles.CASEWORKER)
    detail = reverse("cases:detail", args=[outside_case.pk])
    assert verified_client(colleague).get(detail).status_code == 404


def test_a_case_in_ones_own_caseload_needs_no_glass_broken(caseworker):
    mine = full_case(caseworker=caseworker)
    response = verified_client(caseworker).post(URL, _answers(mine))
    assert response["Location"] == reverse("cases:detail", args=[mine.pk])
    assert not BreakGlassAccess.objects.exists()


def test_a_number_that_is_no_case_is_recorded_too(caseworker):
    verified_client(caseworker).post(URL, {**_answers(full_case()), "number": "NO-SUCH-1"})
    assert AuditEvent.objects.filter(kind="break_glass_no_case", actor=caseworker).exists()


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.ADMINISTRATOR])
def test_roles_without_cases_cannot_break_the_glass(role, outside_case):
    user = UserFactory(username=f"bg-{role}", role=role, is_staff=role == roles.ADMINISTRATOR)
    client = verified_client(user)
    assert client.get(URL).status_code == 404
    assert client.post(URL, _answers(outside_case)).status_code == 404
    assert not BreakGlassAccess.objects.exists()


def test_anonymous_unverified_wrong_method_and_csrf(caseworker, outside_case):
    anonymous = Client().post(URL, _answers(outside_case))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/sign-in/")
    unverified = password_only_client(caseworker).post(URL, _answers(outside_case))
    assert unverified["Location"].startswith("/accounts/sign-in/code/")
    assert verified_client(caseworker).put(URL).status_code == 405
    strict = verified_client(caseworker, Client(enforce_csrf_checks=True))
    assert strict.post(URL, _answers(outside_case)).status_code == 403
    assert not BreakGlassAccess.objects.exists()
