"""(Transactional: the nightly task queues real messages on the real broker.)

Seeded canary values (an address, a phone number, an SSN) never appear in a Celery
task's arguments, a log line, a delivered document to the other parent, an error
page, or the audit trail. (pg_dump: tests/cases/test_intake.py; pages
for users without access: tests/security/test_authorization_matrix.py.)"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging

import pytest
import redis
from django.conf import settings
from django.test import Client

from accounts.models import AuditEvent
from cases.models import Remedy
from safety import pipeline, tasks
from safety.models import SafetyReview
from tests.conftest import verified_client
from tests.factories import UserFactory, contact_point, full_case

ADDRESS = "4417 Canary Finch Lane\nLarkspur, NM 87011"  # synthetic
PHONE = "505-555-0199"  # 555-01xx: reserved for fiction
SSN = "900-77-4321"  # 900-series: never issued
CANARIES = ["Canary Finch", "Larkspur", "555-0199", "5550199", "900-77-4321", "900774321"]


def _clean(text: str, where: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{canary!r} found in {where}"


@pytest.fixture
def seeded(db):
    worker = UserFactory(username="leak-worker", role="caseworker")
    case = full_case(caseworker=worker, address=ADDRESS, ssn=SSN)
    survivor = case.participants.get(role="custodial_parent").person
    contact_point(survivor, PHONE, kind="phone")
    SafetyReview.objects.create(case=case, outcome="no_concerns", reviewed_by=worker)
    Remedy.objects.filter(case=case).update(next_action_on=dt.date(2026, 1, 1))
    return worker, case


@pytest.mark.django_db(transaction=True)
def test_no_canary_in_task_arguments_logs_documents_or_the_audit_trail(seeded, caplog, outbox):
    worker, case = seeded
    caplog.set_level(logging.DEBUG)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")
    # The nightly task as beat runs it: it queues its chunks on the broker.
    tasks.notice_cycle()
    queued = broker.lrange("celery", 0, -1)
    assert queued, "the cycle queued no chunk"
    for raw in queued:
        message = json.loads(raw)
        body = base64.b64decode(message["body"]).decode()
        _clean(raw.decode(), "a queued message")
        _clean(body, "a task's arguments")
        args = json.loads(body)[0]
        assert all(isinstance(i, int) for i in args[0])  # notice ids only
    broker.delete("celery")
    # Deliver what was queued, as a worker would, and read what went out.
    for chunk in pipeline.released_chunks():
        pipeline.dispatch_chunk(chunk)
    documents = list(outbox.glob("notice-*.html"))
    assert len(documents) == 2
    for path in documents:
        _clean(path.read_text(), path.name)
    # A reveal by the caseworker (allowed, recorded), then the trail and the logs.
    survivor = case.participants.get(role="custodial_parent").person
    point = survivor.contact_points.get(kind="residential")
    from django.urls import reverse

    client = verified_client(worker)
    page = client.post(
        reverse("cases:contact_reveal", args=[case.pk, point.pk]), {"reason": "safety"}
    )
    assert "Canary Finch" in page.content.decode()  # the canary is real: she may see it
    trail = json.dumps(list(AuditEvent.objects.values("kind", "detail")), default=str)
    _clean(trail, "the audit trail")
    for record in caplog.records:
        _clean(record.getMessage(), f"a log line from {record.name}")


@pytest.mark.django_db
def test_no_canary_on_error_pages(seeded, settings):
    worker, case = seeded
    client = verified_client(worker)
    for url in (
        f"/cases/{case.pk}/contacts/not-a-uuid/reveal/",
        f"/cases/{case.pk + 999}/",
        "/cases/search/?q=%3Cscript%3E",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404)
        _clean(response.content.decode(), f"the page at {url}")
    anonymous = Client().get(f"/cases/{case.pk}/")
    _clean(anonymous.content.decode(), "the sign-in redirect")
