"""Figure 3: the web pages under load. Gunicorn on loopback (config.settings.local
with DEBUG off: the production middleware, ATOMIC_REQUESTS and persistent
connections; WhiteNoise from the finders) on the benchmark database. ``users``
signed-in users (sessions made server-side, second factor verified, as after a
real sign-in) each loop over their role's pages with think time; every page's
p50/p95/p99 and errors, beside a trivial signed-in page under the same load: a
caseworker's home page, which runs no query beyond the middleware's.
Target: p95 of each page ≤ 4 × the trivial page's p95, and no errors.

The load generator is ours (threads and requests, already a dependency), only
ever aimed at 127.0.0.1, bounded in time; it stops by itself."""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from benchmarks.common import Figure, say

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = "trivial signed-in page (caseworker home)"
HELD_DUE = "current_date + 3651"  # this run's held notices: deleted afterwards


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session(user) -> str:
    """A signed-in, verified session for ``user``; its key."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_STARTED] = session[SESSION_LAST_SEEN] = time.time()
    session.save()
    return session.session_key


def _scene(users: int) -> list[dict]:
    """The signed-in users and what each may open: caseworkers (three in four)
    with their own cases and a name to search, and supervisors with held
    notices in their unit."""
    from accounts.models import User

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.supervisor_id, c.caseworker_id, array_agg(c.id ORDER BY c.id) "
            "FROM cases_case c JOIN cases_unit u ON u.id = c.unit_id "
            "WHERE c.caseworker_id IS NOT NULL AND u.supervisor_id IS NOT NULL "
            "GROUP BY 1, 2"
        )
        rows = [(s, w, ids[:50]) for s, w, ids in cursor.fetchall()]
        # Held notices for the supervisors to review (this run's, deleted after).
        cursor.execute(
            f"""
            INSERT INTO cases_notice (case_id, remedy, notice_type, recipient, status,
                                      hold_reasons, data, due_on, created_at, decided_at)
            SELECT r.case_id, r.kind, r.kind || '_notice', 'other_parent', 'held',
                   '{{fvi}}', '{{}}', {HELD_DUE}, now(), now()
              FROM unnest(%s::bigint[]) AS picked(case_id)
              JOIN cases_remedy r ON r.case_id = picked.case_id
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 - a constant, no input
            [[ids[0] for _s, _w, ids in rows]],
        )
        cursor.execute(
            "SELECT c.unit_id, array_agg(n.id) FROM cases_notice n "  # noqa: S608 - constant
            f"JOIN cases_case c ON c.id = n.case_id WHERE n.due_on = {HELD_DUE} GROUP BY 1"
        )
        held_by_unit = dict(cursor.fetchall())
        cursor.execute(
            "SELECT c.id, c.unit_id, p.last_name FROM cases_case c "
            "JOIN cases_participant pa ON pa.case_id = c.id AND pa.role = 'custodial_parent' "
            "JOIN cases_person p ON p.id = pa.person_id WHERE c.id = ANY(%s)",
            [[i for _s, _w, ids in rows for i in ids[:5]]],
        )
        names = {case_id: last for case_id, _unit, last in cursor.fetchall()}
        cursor.execute(
            "SELECT u.supervisor_id, u.id FROM cases_unit u WHERE u.supervisor_id IS NOT NULL"
        )
        unit_of = dict(cursor.fetchall())
    people = User.objects.in_bulk({w for _s, w, _ids in rows} | {s for s, _w, _ids in rows})
    visitors, supervisors = [], sorted({s for s, _w, _ids in rows})
    for n in range(users):
        if n % 4 == 3:
            supervisor = supervisors[(n // 4) % len(supervisors)]
            held = held_by_unit.get(unit_of.get(supervisor), [])
            visitors.append(
                {"role": "supervisor", "session": _session(people[supervisor]), "held": held}
            )
        else:
            _s, worker, ids = rows[n % len(rows)]
            search = [names[i] for i in ids[:5] if i in names]
            visitors.append(
                {
                    "role": "caseworker",
                    "session": _session(people[worker]),
                    "cases": ids,
                    "names": search,
                }
            )
    return visitors


def _typo(name: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(name) - 1) if len(name) > 3 else 1
    return name[:at] + name[at + 1 :]


def _next_request(visitor: dict, rng: random.Random) -> tuple[str, str, dict | None]:
    """(page, path, POST data or None) for this visitor's next page."""
    if visitor["role"] == "caseworker":
        page = rng.choice([TRIVIAL, "caseload", "case page", "case search by name"])
        if page == TRIVIAL:
            return page, reverse("home"), None
        if page == "caseload":
            return page, reverse("cases:caseload"), None
        if page == "case page":
            return page, reverse("cases:detail", args=[rng.choice(visitor["cases"])]), None
        name = _typo(rng.choice(visitor["names"]), rng) if visitor["names"] else "Testlast"
        return page, reverse("cases:search"), {"name": name}
    page = rng.choice(
        [
            "supervisor home",
            "caseload (unit)",
            "held notices",
            "held notice review",
            "notice runs",
            "audit trail",
        ]
    )
    if page == "held notice review" and visitor["held"]:
        return page, reverse("safety:notice_review", args=[rng.choice(visitor["held"])]), None
    path = {
        "supervisor home": reverse("home"),
        "caseload (unit)": reverse("cases:caseload"),
        "held notices": reverse("safety:held_notices"),
        "held notice review": reverse("safety:held_notices"),
        "notice runs": reverse("safety:notice_runs"),
        "audit trail": reverse("audit:index"),
    }[page]
    return page, path, None


def _visit(base: str, visitor: dict, until: float, think: tuple[float, float], out: list, seed):
    rng = random.Random(seed)  # noqa: S311 - which page next, not a secret
    http = requests.Session()
    token = secrets.token_hex(16)  # 32 characters: a CSRF secret Django accepts
    http.cookies.set(settings.SESSION_COOKIE_NAME, visitor["session"])
    http.cookies.set(settings.CSRF_COOKIE_NAME, token)
    time.sleep(rng.uniform(0, think[1]))  # users arrive spread out
    while time.monotonic() < until:
        page, path, data = _next_request(visitor, rng)
        started = time.perf_counter()
        try:
            if data is None:
                response = http.get(base + path, allow_redirects=False, timeout=30)
            else:
                response = http.post(
                    base + path,
                    data={**data, "csrfmiddlewaretoken": token},
                    allow_redirects=False,
                    timeout=30,
                )
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        out.append((page, time.perf_counter() - started, ok))
        time.sleep(rng.uniform(*think))


def _load(base: str, visitors: list[dict], seconds: int, think, results: list, seed: int):
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_visit, args=(base, v, until, think, results, seed + n), daemon=True
        )
        for n, v in enumerate(visitors)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def measure(users: int, seconds: int, workers: int, think=(1.0, 3.0)) -> list[Figure]:
    visitors = _scene(users)
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not answer /healthz")
        say(
            f"  {users} users for {seconds} s on {workers} gunicorn workers, think "
            f"{think[0]:g}–{think[1]:g} s"
        )
        # A warm-up under the same load first (every worker imports and connects on
        # its first requests), not counted; then the measured run.
        _load(base, visitors, max(10, seconds // 6), think, [], seed=1000)
        results: list = []
        _load(base, visitors, seconds, think, results, seed=0)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM cases_notice WHERE due_on = {HELD_DUE}")  # noqa: S608
    by_page: dict[str, list] = {}
    for page, elapsed, ok in results:
        by_page.setdefault(page, []).append((elapsed, ok))
    if TRIVIAL not in by_page:
        raise RuntimeError("the trivial page was never requested")
    trivial_p95 = _percentile([e for e, _ok in by_page[TRIVIAL]], 95) * 1000
    figures = []
    for page in [TRIVIAL, *sorted(p for p in by_page if p != TRIVIAL)]:
        times = [e * 1000 for e, _ok in by_page[page]]
        errors = sum(not ok for _e, ok in by_page[page])
        p50, p95, p99 = (_percentile(times, q) for q in (50, 95, 99))
        figures.append(
            Figure(
                name=f"Under load: {page}",
                unit="ms (p95)",
                measured=p95,
                floor=None if page == TRIVIAL else trivial_p95,
                target=None if page == TRIVIAL else 4.0,
                note=f"p50 {p50:.0f}, p99 {p99:.0f} ms; {len(times):,} requests, "
                f"{errors} errors ({errors / len(times):.1%})",
            )
        )
    total = len(results)
    say(
        f"  {total:,} requests, {total / seconds:.1f}/s, "
        f"{sum(not ok for *_x, ok in results)} errors"
    )
    return figures
