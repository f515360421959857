"""Supervisors see the held notices of their units and can cancel one for good."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import roles
from cases.models import Notice
from safety import notices
from tests.conftest import verified_client
from tests.factories import UnitFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db
LIST = reverse("safety:held_notices")


@pytest.fixture
def held(caseworker, supervisor):
    unit = UnitFactory(supervisor=supervisor)
    case = full_case(caseworker=caseworker, unit=unit)  # never screened: held
    notice = Notice.objects.create(
        case=case,
        remedy="lien",
        notice_type="lien_notice",
        recipient="other_parent",
        due_on="2026-01-01",
    )
    notices.gate_pending()
    notice.refresh_from_db()
    assert notice.status == "held"
    return notice


def test_the_unit_supervisor_sees_and_cancels_a_held_notice(supervisor, held):
    client = verified_client(supervisor)
    page = client.get(LIST)
    html = page.content.decode()
    assert page.status_code == 200 and held.case.number in html
    assert "No safety review recorded" in html and "Lien" in html
    assert client.get(LIST, {"reason": "fvi"}).context["notices"].__len__() == 0
    url = reverse("safety:notice_cancel", args=[held.pk])
    client.post(url, {"reason": "  "})
    assert Notice.objects.get(pk=held.pk).status == "held"
    assert client.post(url, {"reason": "Survivor closed the case."}).status_code == 302
    assert Notice.objects.get(pk=held.pk).status == "cancelled"
    assert notices.mark_sent(held.pk) is False


@pytest.mark.parametrize(
    "role", [roles.CASEWORKER, roles.SUPERVISOR, roles.AUDITOR, roles.ADMINISTRATOR]
)
def test_others_see_nothing_and_cannot_cancel(role, held):
    other = UserFactory(username=f"hn-{role}", role=role, is_staff=role == roles.ADMINISTRATOR)
    client = verified_client(other)
    page = client.get(LIST)
    if role == roles.SUPERVISOR:
        assert page.status_code == 200 and held.case.number not in page.content.decode()
    else:
        assert page.status_code == 404
    response = client.post(reverse("safety:notice_cancel", args=[held.pk]), {"reason": "x"})
    assert response.status_code == 404
    assert Notice.objects.get(pk=held.pk).status == "held"


def test_cancel_is_post_only_and_csrf_protected(supervisor, held):
    url = reverse("safety:notice_cancel", args=[held.pk])
    assert verified_client(supervisor).get(url).status_code == 405
    strict = verified_client(supervisor, Client(enforce_csrf_checks=True))
    assert strict.post(url, {"reason": "x"}).status_code == 403
    assert Notice.objects.get(pk=held.pk).status == "held"
