"""Demo data, and `make run` itself: it serves the site with a worker and beat,
the demo caseworker signs in with password and TOTP and sees an empty caseload,
and Ctrl-C stops the worker and beat it started."""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.demo import DEMO_PASSWORD, DEMO_STAFF
from accounts.models import User
from tests.conftest import totp_code

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_seed_demo_creates_staff_of_every_role_who_can_sign_in(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    for username, role, *_ in DEMO_STAFF:
        user = User.objects.get(username=username)
        assert user.has_role(role)
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        assert f"{username}" in out
        client = Client()
        client.post("/accounts/sign-in/", {"username": username, "password": DEMO_PASSWORD})
        response = client.post("/accounts/sign-in/code/", {"code": totp_code(device)})
        assert response.status_code == 302, username
        assert client.get("/").status_code == 200
    assert {role for _, role, *_ in DEMO_STAFF} == set(roles.ALL_ROLES)

    caseworker = User.objects.get(username="caseworker")
    supervisor = User.objects.get(username="supervisor")
    from cases.selectors import case_search_for_user, cases_visible_to

    assert cases_visible_to(caseworker).count() == 12
    assert cases_visible_to(supervisor).count() == 18
    assert case_search_for_user(caseworker, name="Rodrigez")

    # Again with --if-empty: nothing changes.
    before = sorted(User.objects.values_list("pk", "password"))
    call_command("seed_demo", "--if-empty")
    assert sorted(User.objects.values_list("pk", "password")) == before
    assert "not loaded again" in capsys.readouterr().out
    # Without --if-empty it refuses to overwrite.
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("seed_demo")


@pytest.mark.django_db
def test_demo_commands_refuse_without_demo_tools(settings):
    settings.DEMO_TOOLS = False
    with pytest.raises(CommandError, match="DEMO_TOOLS"):
        call_command("seed_demo")
    with pytest.raises(CommandError, match="demo settings only"):
        call_command("demo_otp_code", "caseworker")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """Every descendant process of ``pid``."""
    out = subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True, check=True
    ).stdout
    parents: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = (int(x) for x in line.split())
        parents.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def test_make_run_serves_the_site_and_the_demo_caseworker_signs_in(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "run.log").open("w")
    run = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path):
        with opener.open(base + path, timeout=10) as response:
            return response.status, response.geturl(), response.read().decode()

    def post(path, fields):
        token = next(c.value for c in jar if c.name == "sa_csrftoken")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(base + path, data=data, headers={"Referer": base + path})
        with opener.open(request, timeout=10) as response:
            return response.status, response.geturl(), response.read().decode()

    try:
        deadline = time.time() + 180
        health = None
        while time.time() < deadline:
            assert run.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    health = json.loads(response.read())
                if health.get("worker_heartbeat_age_seconds") is not None:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        assert health and health["status"] == "ok", (tmp_path / "run.log").read_text()[-3000:]
        # Beat sent a heartbeat at start and the worker ran it.
        assert health["worker_heartbeat_age_seconds"] is not None

        status, url, page = get("/cases/")
        assert url.startswith(base + "/accounts/sign-in/")
        status, url, page = post(
            "/accounts/sign-in/?next=/cases/",
            {"username": "caseworker", "password": DEMO_PASSWORD, "next": "/cases/"},
        )
        assert "/accounts/sign-in/code/" in url, page[:2000]
        code = subprocess.run(
            ["make", "-s", "otp", "ACCOUNT=caseworker"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        ).stdout.split()[0]
        status, url, page = post(url.removeprefix(base), {"code": code, "next": "/cases/"})
        assert url == base + "/cases/", page[:2000]
        assert "My caseload" in page
        assert "12 cases" in page and "DEMO-2025-0001" in page
        name = re.search(r'id="signed-in-as">([^<]+)<', page).group(1)
        assert "Casey Demo-Worker" in html.unescape(name)
        output = (tmp_path / "run.log").read_text()
        assert "Sign in as one of the demo staff" in output
        assert DEMO_PASSWORD in output

        started = _children(run.pid)
        assert len(started) >= 3  # at least the shell, worker, beat and web server
    finally:
        os.killpg(run.pid, signal.SIGINT)
        try:
            run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            raise
    time.sleep(1)
    left = [pid for pid in started if _alive(pid)]
    assert left == [], f"make run left processes behind: {left}"
    assert "Stopping the Celery worker and beat" in (tmp_path / "run.log").read_text()
