"""Two sign-ins racing with one code: exactly one gets in."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from tests.conftest import totp_code
from tests.factories import TEST_PASSWORD, UserFactory


@pytest.mark.django_db(transaction=True)
def test_one_code_used_by_two_sessions_at_once_signs_in_only_one():
    user = UserFactory(username="cw-race", role=roles.CASEWORKER)
    clients = [Client(), Client(), Client(), Client()]
    for client in clients:
        client.post(
            reverse("accounts:login"), {"username": user.username, "password": TEST_PASSWORD}
        )
    code = totp_code(TOTPDevice.objects.get(user=user))
    start = threading.Barrier(len(clients))
    results: list[int] = []

    def attempt(client):
        try:
            start.wait()
            response = client.post(reverse("accounts:otp"), {"code": code})
            results.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [200, 200, 200, 302]
    assert sum(c.get(reverse("home")).status_code == 200 for c in clients) == 1
