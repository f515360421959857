"""/healthz against the real services, and a real Celery worker running a task."""

from __future__ import annotations

import json
import socket
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from config.celery import app as celery_app
from config.tasks import heartbeat

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_health_reports_ok_with_no_secrets():
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    text = response.content.decode()
    assert settings.SECRET_KEY not in text
    assert "127.0.0.1" not in text
    assert "no-store" in response["Cache-Control"]


def test_health_is_503_when_redis_is_unreachable(settings):
    port = _closed_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body == {**body, "status": "unavailable", "redis": "unreachable", "database": "ok"}
    assert str(port) not in response.content.decode()


def test_health_only_answers_get():
    assert Client().post("/healthz").status_code == 405
    assert Client().put("/healthz").status_code == 405


def test_a_real_worker_runs_the_heartbeat_through_redis():
    cache.delete(settings.HEARTBEAT_CACHE_KEY)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        sent = time.time()
        heartbeat.delay()
        deadline = time.time() + 20
        while cache.get(settings.HEARTBEAT_CACHE_KEY) is None and time.time() < deadline:
            time.sleep(0.1)
    beat = cache.get(settings.HEARTBEAT_CACHE_KEY)
    assert beat is not None and beat >= sent - 1
    response = Client().get("/healthz")
    assert json.loads(response.content)["worker_heartbeat_age_seconds"] <= 25


def test_nightly_task_deletes_expired_sessions_only():
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from config.celery import app as celery
    from config.tasks import clear_expired_sessions

    now = timezone.now()
    Session.objects.create(session_key="a" * 32, session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="b" * 32, session_data="", expire_date=now + timedelta(1))
    clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]
    assert (
        celery.conf.beat_schedule["clear-expired-sessions"]["task"] == clear_expired_sessions.name
    )
