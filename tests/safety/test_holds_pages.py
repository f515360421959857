"""Recording a safety review, the survivor's safety plan and court holds through
their pages: each applies at once through the gate, and is the case team's only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import roles
from cases.models import CaseEvent
from safety import gate
from safety.models import CourtOrderHold, SafetyPlan
from tests.conftest import password_only_client, verified_client
from tests.factories import UnitFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(caseworker, supervisor):
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(caseworker)
    return full_case(caseworker=caseworker, unit=unit)


def test_review_plan_and_court_hold_drive_the_gate(caseworker, case):
    client = verified_client(caseworker)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "No safety review recorded" in page
    assert gate.decide(case.pk, "passport_denial").reasons == ("not_screened",)

    review = reverse("safety:review", args=[case.pk])
    assert "Choose the outcome" in client.post(review, {}).content.decode()
    assert client.post(review, {"outcome": "concerns"}).status_code == 302
    assert gate.decide(case.pk, "passport_denial").reasons == ()

    plan = reverse("safety:plan", args=[case.pk])
    bad = client.post(plan, {"held": ["nonsense"]})
    assert "Select a valid choice" in bad.content.decode()
    assert (
        client.post(
            plan,
            {
                "held": ["license_suspension", "general_notices"],
                "survivor_words": "Not my licence, he drives for work",
            },
        ).status_code
        == 302
    )
    assert gate.decide(case.pk, "license_suspension").reasons == ("safety_plan",)
    assert gate.decide(case.pk, "general_notices").reasons == ("safety_plan",)
    assert gate.decide(case.pk, "passport_denial").reasons == ()
    # Taking a hold off must be confirmed: a blank submission lifts nothing.
    blank = client.post(plan, {})
    assert "takes off: General notices to the other parent, License suspension" in (
        blank.content.decode()
    )
    assert gate.decide(case.pk, "license_suspension").reasons == ("safety_plan",)
    # Pausing holds everything; un-pausing releases what the plan does not hold.
    client.post(plan, {"held": ["license_suspension"], "pause": "on", "confirm_lift": "on"})
    assert gate.decide(case.pk, "passport_denial").reasons == ("survivor_pause",)
    refused = client.post(plan, {"held": ["license_suspension"]})
    assert "This takes off: the pause" in refused.content.decode()
    assert gate.decide(case.pk, "passport_denial").reasons == ("survivor_pause",)
    client.post(plan, {"held": ["license_suspension"], "confirm_lift": "on"})
    assert gate.decide(case.pk, "passport_denial").reasons == ()
    assert SafetyPlan.objects.get(case=case).pause_requested_at is None

    add = reverse("safety:court_hold_add", args=[case.pk])
    assert (
        "cannot be in the future"
        in client.post(add, {"remedy": "", "ordered_on": "1/1/2999"}).content.decode()
    )
    assert (
        client.post(
            add, {"remedy": "", "ordered_on": "3/1/2026", "note": "Docket 26-FC-1"}
        ).status_code
        == 302
    )
    assert gate.decide(case.pk, "passport_denial").reasons == ("court_order",)
    hold = CourtOrderHold.objects.get()
    lift = reverse("safety:court_hold_lift", args=[case.pk, hold.pk])
    early = client.post(lift, {"lifted_on": "1/1/2026"})
    assert "cannot be lifted before it was ordered" in early.content.decode()
    assert client.post(lift, {"lifted_on": "4/1/2026"}).status_code == 302
    assert gate.decide(case.pk, "passport_denial").reasons == ()

    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert {
        "safety_reviewed",
        "safety_plan_changed",
        "court_hold_added",
        "court_hold_lifted",
    } <= kinds
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'id="gate-table"' in page and "Licence suspension" not in page


@pytest.mark.parametrize(
    "role", [roles.CASEWORKER, roles.SUPERVISOR, roles.ADMINISTRATOR, roles.AUDITOR]
)
def test_hold_pages_are_404_outside_the_case_team(role, case, caseworker):
    hold = CourtOrderHold.objects.create(case=case, ordered_on="2026-01-01", recorded_by=caseworker)
    outsider = UserFactory(username=f"hp-{role}", role=role, is_staff=role == roles.ADMINISTRATOR)
    client = verified_client(outsider)
    for url in (
        reverse("safety:review", args=[case.pk]),
        reverse("safety:plan", args=[case.pk]),
        reverse("safety:court_hold_add", args=[case.pk]),
        reverse("safety:court_hold_lift", args=[case.pk, hold.pk]),
    ):
        assert client.get(url).status_code == 404
        assert (
            client.post(
                url, {"outcome": "no_concerns", "lifted_on": "2/1/2026", "ordered_on": "1/1/2026"}
            ).status_code
            == 404
        )
    assert CourtOrderHold.objects.get().lifted_on is None
    assert not case.safety_reviews.exists()


def test_hold_pages_redirect_anonymous_unverified_and_enforce_csrf(caseworker, case):
    url = reverse("safety:plan", args=[case.pk])
    assert Client().get(url)["Location"].startswith("/accounts/sign-in/")
    assert (
        password_only_client(caseworker).get(url)["Location"].startswith("/accounts/sign-in/code/")
    )
    strict = verified_client(caseworker, Client(enforce_csrf_checks=True))
    assert strict.post(url, {"pause": "on"}).status_code == 403
    assert verified_client(caseworker).delete(url).status_code == 405
    assert not SafetyPlan.objects.exists()
