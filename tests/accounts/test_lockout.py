"""Account lockout (django-axes): 5 failed passwords lock a username for 30 minutes,
whether or not the username exists, and the message never says which."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
LOCKED = "Too many failed sign-in attempts."


def _attempt(username, password="wrong-password-1", client=None):
    return (client or Client()).post(LOGIN, {"username": username, "password": password})


@pytest.fixture
def worker():
    return UserFactory(username="cw-lock", role=roles.CASEWORKER)


def test_four_failures_then_the_right_password_still_signs_in(worker, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _attempt(worker.username).status_code == 200
    response = _attempt(worker.username, TEST_PASSWORD)
    assert response.status_code == 302
    # Success resets the count.
    assert not AccessAttempt.objects.filter(username=worker.username).exists()


@pytest.mark.parametrize("username", ["cw-lock", "nobody-by-this-name"])
def test_the_fifth_failure_locks_the_username(worker, settings, username):
    responses = [_attempt(username) for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert all(LOCKED not in r.content.decode() for r in responses[:-1])
    locked = responses[-1]
    assert locked.status_code == 403
    assert LOCKED in locked.content.decode()
    assert "30 minutes" in locked.content.decode()

    # While locked, even the right password is refused, from any browser.
    again = Client()
    response = _attempt(username, TEST_PASSWORD, client=again)
    assert response.status_code == 403
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in again.session


def test_lockout_answers_are_the_same_for_real_and_unknown_usernames(worker, settings):
    def locked_page(username):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            response = _attempt(username)
        return response.status_code, response.content.decode().count(LOCKED)

    assert locked_page(worker.username) == locked_page("nobody-by-this-name")


def test_lockout_is_per_username(worker, settings):
    colleague = UserFactory(username="cw-colleague", role=roles.CASEWORKER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(worker.username)
    # Same office, same address: the colleague is not locked out.
    assert _attempt(colleague.username, TEST_PASSWORD).status_code == 302


def test_lock_lifts_after_the_cool_off_and_not_before(worker, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(worker.username)
    cool_off = settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(username=worker.username)

    attempts.update(attempt_time=timezone.now() - cool_off + timedelta(minutes=1))
    assert _attempt(worker.username, TEST_PASSWORD).status_code == 403

    attempts.update(attempt_time=timezone.now() - cool_off - timedelta(minutes=1))
    assert _attempt(worker.username, TEST_PASSWORD).status_code == 302


def test_the_password_is_never_stored_with_the_failed_attempt(worker):
    _attempt(worker.username, "Secret-Typo-Password-77")
    attempt = AccessAttempt.objects.get(username=worker.username)
    assert "Secret-Typo-Password-77" not in attempt.post_data
    assert "Secret-Typo-Password-77" not in attempt.get_data
