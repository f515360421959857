"""Address Confidentiality Program enrolments: recorded with the participant id
sealed, shown on the case page, and staff prompted before certification ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from safety import protected
from safety.models import AddressConfidentialityEnrollment
from tests.conftest import verified_client
from tests.factories import UnitFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(caseworker, supervisor):
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(caseworker)
    return full_case(caseworker=caseworker, unit=unit)


def _url(case):
    return reverse(
        "safety:acp", args=[case.pk, case.participants.get(role="custodial_parent").person.pk]
    )


def _date(days):
    return (timezone.localdate() + dt.timedelta(days=days)).strftime("%m/%d/%Y")


def test_enrolment_is_recorded_sealed_and_prompted_before_it_ends(caseworker, case):
    client = verified_client(caseworker)
    bad = client.post(
        _url(case),
        {
            "program_name": "Safe at Home",
            "participant_id": "SAH-0042",
            "substitute_address": "PO Box 1, Capital City",
            "certified_until": _date(-1),
        },
    )
    assert "already ended" in bad.content.decode()
    ok = client.post(
        _url(case),
        {
            "program_name": "Safe at Home",
            "participant_id": "SAH-0042",
            "substitute_address": "PO Box 1, Capital City",
            "certified_until": _date(30),
        },
    )
    assert ok.status_code == 302
    enrollment = AddressConfidentialityEnrollment.objects.get()
    assert protected.reveal(enrollment, "participant_id") == "SAH-0042"
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Enrolled in Safe at Home" in page and "ends soon" in page
    assert "SAH-0042" not in page
    caseload = client.get(reverse("cases:caseload")).content.decode()
    assert 'id="acp-expiring"' in caseload and case.number in caseload

    AddressConfidentialityEnrollment.objects.update(
        certified_until=timezone.localdate() + dt.timedelta(days=400)
    )
    assert 'id="acp-expiring"' not in client.get(reverse("cases:caseload")).content.decode()


def test_acp_page_is_404_outside_the_case_team(case):
    outsider = UserFactory(username="acp-out", role=roles.CASEWORKER)
    client = verified_client(outsider)
    assert client.get(_url(case)).status_code == 404
    assert client.post(_url(case), {"program_name": "x"}).status_code == 404
    assert not AddressConfidentialityEnrollment.objects.exists()
    assert 'id="acp-expiring"' not in client.get(reverse("cases:caseload")).content.decode()
