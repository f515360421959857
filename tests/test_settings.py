"""Production settings refuse to start without their secrets; key parsing; Celery."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.celery import app as celery_app
from config.keys import parse_field_keys

ROOT = Path(__file__).resolve().parent.parent
KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()

PRODUCTION_ENV = {
    "SECRET_KEY": "dummy-secret-key-for-a-settings-test-only-0123456789abcdefghijkl",
    "ALLOWED_HOSTS": "safe-access.example.gov",
    "DATABASE_URL": "postgres://app:pw@db.invalid:5432/safe_access",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "FIELD_ENCRYPTION_KEYS": f"k1:{KEY}",
}


def _load_production(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print('DEBUG', settings.DEBUG, 'HSTS', settings.SECURE_HSTS_SECONDS)"
    )
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_starts_with_every_required_value_and_debug_off():
    result = _load_production(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout
    assert "HSTS 63072000" in result.stdout


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _load_production(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr
    # The error names the missing variable, never another one's value.
    for name, value in env.items():
        if name != "ALLOWED_HOSTS":
            assert value not in result.stderr, f"{name}'s value leaked into the error"


def test_parse_field_keys_keeps_order_newest_first():
    other = base64.urlsafe_b64encode(bytes(32)).decode()
    keys = parse_field_keys(f"new:{KEY}, old:{other}")
    assert list(keys) == ["new", "old"]
    assert keys["new"] == bytes(range(32))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "at least one key"),
        ("nocolon", "must look like"),
        (f"bad id!:{KEY}", "must look like"),
        ("k1:***not-base64***", "not valid base64"),
        ("k1:" + base64.urlsafe_b64encode(bytes(16)).decode(), "32 bytes"),
        (f"k1:{KEY},k1:{KEY}", "repeats key id"),
    ],
)
def test_parse_field_keys_rejects_bad_values_without_echoing_key_material(raw, message):
    with pytest.raises(ImproperlyConfigured) as error:
        parse_field_keys(raw)
    assert message in str(error.value)
    assert KEY not in str(error.value)


def test_celery_is_configured_for_safe_delivery():
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.result_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    # Redelivery of an unacknowledged task must wait longer than any task may run.
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.broker_url == settings.REDIS_URL
    assert "worker-heartbeat" in conf.beat_schedule
