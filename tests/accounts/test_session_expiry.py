"""Signed-in sessions end after 15 minutes idle or 12 hours in all, at the boundary."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.middleware import ACTIVITY_RESOLUTION, SESSION_LAST_SEEN, SESSION_STARTED
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

HOME = reverse("home")
LOGIN = reverse("accounts:login")
EXPIRED = "Your session has expired."


def _aged(client, *, idle: float, age: float):
    session = client.session
    now = time.time()
    session[SESSION_STARTED] = now - age
    session[SESSION_LAST_SEEN] = now - idle
    session.save()
    return session.session_key


@pytest.mark.parametrize(
    ("idle", "age", "expired"),
    [
        (0, 0, False),
        ("idle-5", 0, False),  # just under the idle limit
        ("idle+5", 0, True),  # just over it
        (0, "absolute-60", False),  # active all day, just under 12 hours
        (0, "absolute+5", True),  # active all day, just over 12 hours
    ],
    ids=["fresh", "idle-just-under", "idle-just-over", "absolute-just-under", "absolute-just-over"],
)
def test_session_expiry_boundaries(caseworker, settings, idle, age, expired):
    def seconds(value):
        if isinstance(value, str):
            base, sign, delta = value.partition("+") if "+" in value else value.partition("-")
            limit = {
                "idle": settings.SESSION_IDLE_TIMEOUT,
                "absolute": settings.SESSION_ABSOLUTE_TIMEOUT,
            }[base]
            return limit + int(delta) if sign == "+" else limit - int(delta)
        return value

    client = verified_client(caseworker)
    key = _aged(client, idle=seconds(idle), age=seconds(age))
    response = client.get(HOME)
    if not expired:
        assert response.status_code == 200
        return
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    # The server-side session is gone, not merely forgotten by the browser.
    assert not Session.objects.filter(session_key=key).exists()
    assert EXPIRED in client.get(response["Location"]).content.decode()
    # The old cookie value cannot be replayed.
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert client.get(HOME).status_code == 302


def test_activity_keeps_an_idle_session_alive(caseworker, settings):
    client = verified_client(caseworker)
    _aged(client, idle=settings.SESSION_IDLE_TIMEOUT - 5, age=settings.SESSION_IDLE_TIMEOUT * 2)
    assert client.get(HOME).status_code == 200
    last_seen = client.session[SESSION_LAST_SEEN]
    assert time.time() - last_seen < 5
    assert client.get(HOME).status_code == 200


def test_activity_is_recorded_at_most_once_a_minute(caseworker):
    """A page within a minute of the last recorded activity does not write the
    session (one UPDATE fewer per page); after a minute it does."""
    client = verified_client(caseworker)
    _aged(client, idle=ACTIVITY_RESOLUTION - 10, age=ACTIVITY_RESOLUTION)
    before = client.session[SESSION_LAST_SEEN]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    assert client.session[SESSION_LAST_SEEN] == before
    assert not [
        q for q in queries.captured_queries if "UPDATE" in q["sql"] and "django_session" in q["sql"]
    ]
    _aged(client, idle=ACTIVITY_RESOLUTION + 1, age=ACTIVITY_RESOLUTION * 2)
    assert client.get(HOME).status_code == 200
    assert time.time() - client.session[SESSION_LAST_SEEN] < 5


def test_a_page_refreshing_itself_never_keeps_an_idle_session_alive(supervisor, settings):
    client = verified_client(supervisor)
    idle = settings.SESSION_IDLE_TIMEOUT - 5
    _aged(client, idle=idle, age=idle)
    before = client.session[SESSION_LAST_SEEN]
    runs = reverse("safety:notice_runs")
    assert client.get(runs, headers={"X-Background-Refresh": "1"}).status_code == 200
    assert client.session[SESSION_LAST_SEEN] == before
    # Ten seconds later (past the idle limit), the next refresh finds it expired.
    _aged(client, idle=settings.SESSION_IDLE_TIMEOUT + 5, age=idle + 10)
    expired = client.get(runs, headers={"X-Background-Refresh": "1"})
    assert expired.status_code == 302 and expired["Location"].startswith(LOGIN)


def test_session_cookie_settings(settings):
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")
    # The cookie itself never outlives the absolute limit.
    assert settings.SESSION_COOKIE_AGE <= settings.SESSION_ABSOLUTE_TIMEOUT
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
