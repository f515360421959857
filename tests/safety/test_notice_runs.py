"""Notice runs: what a run records from the nightly task (on a real Celery worker),
from the command, and from chunks finishing at once on several connections; and
the supervisors' progress page, its JSON and its script in a real browser.

(Transactional where notices are delivered: delivery only runs outside a
transaction, as in a worker; and where other threads must see the rows.)"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
import time
from collections import Counter
from io import StringIO

import pytest
from axe_playwright_python.sync_playwright import Axe
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from accounts import roles
from cases.models import Notice, Remedy
from config.celery import app as celery_app
from safety import runs
from safety.models import FamilyViolenceIndicator, NoticeRun, SafetyReview
from safety.tasks import notice_cycle
from tests.conftest import password_only_client, verified_client
from tests.factories import UserFactory, full_case

LIST = reverse("safety:notice_runs")
RUN_FIELDS = ("state", "chunks_done", "chunks_total", "sent", "held_at_send", "blocked", "failed")


def _progress_url(run_id: int) -> str:
    return reverse("safety:notice_run_progress", args=[run_id])


def _due_case(worker, *, screened=True, flag=False):
    """A case with two remedies due, screened (released) or not (held), flagged or not."""
    case = full_case(caseworker=worker)
    Remedy.objects.filter(case=case).update(next_action_on=dt.date(2026, 1, 1))
    if screened:
        SafetyReview.objects.create(case=case, outcome="no_concerns", reviewed_by=worker)
    if flag:
        FamilyViolenceIndicator.objects.create(
            person=case.participants.get(role="custodial_parent").person,
            reason="dv_disclosed",
            set_by=worker,
        )
    return case


def _gated_run(chunks_total: int, **fields) -> NoticeRun:
    run = runs.run_start(trigger=fields.pop("trigger", NoticeRun.Trigger.NIGHTLY))
    runs.run_gated(
        run=run,
        generated=fields.pop("generated", 10),
        gate_counts=fields.pop("gate_counts", Counter({"released": 8, "held:fvi": 2})),
        chunks_total=chunks_total,
    )
    if fields:
        NoticeRun.objects.filter(pk=run.pk).update(**fields)
        run.refresh_from_db()
    return run


def _state_and_counts(run: NoticeRun) -> tuple:
    run.refresh_from_db()
    return tuple(getattr(run, field) for field in RUN_FIELDS)


def _wait_for(predicate, seconds: float = 60) -> None:
    """Wait for work on another thread (not a timing assertion: the outcome is
    asserted afterwards, however long it took)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.2)


# Recording a run -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chunks", [2, 16])
def test_chunks_finishing_at_once_on_several_connections_add_up_and_finish_once(chunks):
    run = _gated_run(chunks)
    outcome = Counter(
        {"sent": 3, "held": 1, "leak_blocked": 2, "render_failed": 1, "failed": 1, "skipped": 4}
    )
    finished, errors, start = [], [], threading.Barrier(chunks)

    def chunk_done():
        try:
            start.wait(30)
            finished.append(runs.run_chunk_done(run_id=run.pk, chunk_counts=outcome))
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=chunk_done) for _ in range(chunks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(finished) == [False] * (chunks - 1) + [True]
    assert _state_and_counts(run) == (
        "finished",
        chunks,
        chunks,
        3 * chunks,
        chunks,
        3 * chunks,
        chunks,
    )
    assert run.finished_at is not None
    finished_at = run.finished_at
    # A chunk delivered a second time (at least once) only skips: it neither counts
    # past the total nor finishes the run again.
    assert runs.run_chunk_done(run_id=run.pk, chunk_counts=Counter({"skipped": 4})) is False
    assert _state_and_counts(run)[:4] == ("finished", chunks, chunks, 3 * chunks)
    assert run.finished_at == finished_at


@pytest.mark.django_db
def test_a_run_with_nothing_to_send_is_finished_when_gated():
    run = _gated_run(0, generated=3, gate_counts=Counter({"held:fvi": 2, "held:court_order": 1}))
    assert run.state == "finished" and run.finished_at is not None
    assert (run.generated, run.released, run.held) == (3, 0, {"court_order": 1, "fvi": 2})


@pytest.mark.django_db
def test_a_chunk_of_a_failed_run_adds_its_counts_but_does_not_finish_it():
    run = _gated_run(1)
    runs.run_failed(run_id=run.pk)
    assert runs.run_chunk_done(run_id=run.pk, chunk_counts=Counter({"sent": 5})) is False
    assert _state_and_counts(run) == ("failed", 1, 1, 5, 0, 0, 0)
    # A finished or failed run is never failed (again) or reopened.
    failed_at = run.finished_at
    runs.run_failed(run_id=run.pk)
    run.refresh_from_db()
    assert run.finished_at == failed_at
    assert runs.run_chunk_done(run_id=0, chunk_counts=Counter({"sent": 1})) is False


@pytest.mark.django_db
def test_a_synchronous_run_shows_its_chunks_then_all_its_counts():
    run = runs.run_start(trigger=NoticeRun.Trigger.COMMAND)
    runs.run_chunks_progress(run_id=run.pk, chunks_done=1, chunks_total=3)
    assert _state_and_counts(run) == ("dispatching", 1, 3, 0, 0, 0, 0)
    runs.run_completed(
        run_id=run.pk,
        counts=Counter(
            {"generated": 7, "released": 5, "held:fvi": 2, "sent": 4, "render_failed": 1}
        ),
        chunks_total=3,
    )
    assert _state_and_counts(run) == ("finished", 3, 3, 4, 0, 1, 0)
    assert (run.generated, run.released, run.held) == (7, 5, {"fvi": 2})


@pytest.mark.django_db(transaction=True)
def test_the_nightly_task_on_a_real_worker_records_what_happened_to_the_notices(outbox, settings):
    settings.NOTICE_DISPATCH_CHUNK = 1  # one chunk task per released notice
    worker = UserFactory(username="nr-celery")
    free = _due_case(worker)
    _due_case(worker, flag=True)
    _due_case(worker, screened=False)
    # Released by the gate, then held at rendering: a type the renderer does not know.
    Notice.objects.create(
        case=free,
        remedy="income_withholding",
        notice_type="no_such_template",
        recipient="employer",
        due_on=dt.date(2025, 12, 1),
    )
    celery_app.control.purge()  # nothing left over from an interrupted run of this suite
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        notice_cycle.delay()
        _wait_for(lambda: NoticeRun.objects.filter(state__in=["finished", "failed"]).exists())
    run = NoticeRun.objects.get()
    assert (run.trigger, run.state) == ("nightly", "finished") and run.finished_at
    notices = Notice.objects.all()
    assert run.generated == 6  # two remedies on each of three cases
    gate_held = Counter(
        reason
        for notice in notices.filter(status="held")
        for reason in notice.hold_reasons
        if reason not in ("leak_blocked", "render_failed")
    )
    assert run.held == dict(gate_held) == {"fvi": 2, "not_screened": 2}
    assert run.sent == notices.filter(status="sent").count() == 2
    assert run.blocked == notices.filter(hold_reasons__contains=["render_failed"]).count() == 1
    assert run.released == run.sent + run.blocked == 3
    assert (run.held_at_send, run.failed) == (0, 0)
    assert run.chunks_total == run.chunks_done == 3


@pytest.mark.django_db
def test_a_nightly_cycle_that_stops_with_an_error_is_recorded_as_failed(settings):
    settings.NOTICE_DISPATCH_CHUNK = 0  # a broken setting: chunking the released notices fails
    with pytest.raises(ValueError):
        notice_cycle()
    run = NoticeRun.objects.get()
    assert (run.trigger, run.state) == ("nightly", "failed") and run.finished_at


@pytest.mark.django_db(transaction=True)
def test_the_command_records_its_run_and_prints_as_before(outbox, settings):
    settings.NOTICE_DISPATCH_CHUNK = 1
    worker = UserFactory(username="nr-command")
    _due_case(worker)
    _due_case(worker, flag=True)
    out = StringIO()
    call_command("run_notice_cycle", stdout=out)
    report = out.getvalue()
    assert "dispatched chunk 2 of 2" in report and "generated: 4" in report
    assert "held (fvi): 2" in report and "sent: 2" in report
    run = NoticeRun.objects.get()
    assert (run.trigger, run.state) == ("command", "finished") and run.finished_at
    assert (run.generated, run.released, run.held) == (4, 2, {"fvi": 2})
    assert _state_and_counts(run) == ("finished", 2, 2, 2, 0, 0, 0)
    assert Notice.objects.filter(status="sent").count() == 2
    # Nothing due the second time: a run with no chunks, finished.
    call_command("run_notice_cycle", stdout=StringIO())
    again = NoticeRun.objects.exclude(pk=run.pk).get()
    assert _state_and_counts(again) == ("finished", 0, 0, 0, 0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_command_that_stops_with_an_error_is_recorded_as_failed(settings):
    settings.NOTICE_DISPATCH_CHUNK = 0
    with pytest.raises(ValueError):
        call_command("run_notice_cycle", stdout=StringIO())
    run = NoticeRun.objects.get()
    assert (run.trigger, run.state) == ("command", "failed") and run.finished_at


# The progress page and its JSON --------------------------------------------------


@pytest.fixture
def some_runs(db):
    finished = _gated_run(
        2,
        gate_counts=Counter({"released": 8, "held:fvi": 4, "held:gate_error": 1}),
        chunks_done=2,
        sent=7,
        blocked=1,
        state="finished",
        finished_at=timezone.now(),
    )
    sending = _gated_run(8, chunks_done=3, sent=30, held_at_send=2)
    stalled = _gated_run(4, chunks_done=1)
    NoticeRun.objects.filter(pk=stalled.pk).update(
        started_at=timezone.now() - runs.STALE_AFTER - dt.timedelta(minutes=1)
    )
    command = runs.run_start(trigger=NoticeRun.Trigger.COMMAND)
    return {"finished": finished, "sending": sending, "stalled": stalled, "command": command}


def _row(html: str, run: NoticeRun) -> str:
    match = re.search(rf'<tr id="notice-run-{run.pk}".*?</tr>', html, re.S)
    assert match, f"no row for run {run.pk}"
    return match.group(0)


def test_the_supervisor_sees_each_run_with_its_progress_and_counts(supervisor, some_runs):
    response = verified_client(supervisor).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-live="polite"' in html and 'id="notice-runs-refresh"' in html
    assert "js/notice-runs.js" in html and 'id="notice-runs-text"' in html

    sending = _row(html, some_runs["sending"])
    assert f'data-progress-url="{_progress_url(some_runs["sending"].pk)}"' in sending
    assert 'value="3" max="8"' in sending and "3 of 8 batches sent" in sending
    assert f'aria-labelledby="notice-run-{some_runs["sending"].pk}-progress-text"' in sending
    assert "Sending" in sending and "Nightly schedule" in sending
    assert "Family violence indicator: 2" in sending

    finished = _row(html, some_runs["finished"])
    assert "data-progress-url" not in finished and "2 of 2 batches sent" in finished
    assert "Finished" in finished and "took 0:00:" in finished
    assert "Safety state could not be read: 1" in finished
    assert "Family violence indicator: 4" in finished

    stalled = _row(html, some_runs["stalled"])
    assert "No progress reported" in stalled and "data-progress-url" not in stalled
    some_runs["stalled"].refresh_from_db()
    assert some_runs["stalled"].state == "dispatching"  # shown as stalled, never changed

    command = _row(html, some_runs["command"])
    assert "Operator command" in command and "Counted when the run ends." in command


def test_without_an_active_run_the_page_loads_no_script(supervisor):
    _gated_run(0)
    html = verified_client(supervisor).get(LIST).content.decode()
    assert "0 of 0 batches sent" in html and "js/notice-runs.js" not in html


def test_runs_are_listed_twenty_to_a_page(supervisor):
    for _ in range(21):
        _gated_run(0)
    client = verified_client(supervisor)
    assert len(client.get(LIST).context["rows"]) == 20
    assert len(client.get(LIST, {"page": 2}).context["rows"]) == 1


def test_the_progress_json_carries_ids_and_counts_only(supervisor, some_runs):
    client = verified_client(supervisor)
    run = some_runs["sending"]
    response = client.get(_progress_url(run.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == {
        "id": run.pk,
        "trigger": "nightly",
        "state": "dispatching",
        "active": True,
        "stalled": False,
        "counts_at_end": False,
        "started_at": run.started_at.isoformat(),
        "finished_at": None,
        "duration_seconds": response.json()["duration_seconds"],
        "chunks_total": 8,
        "chunks_done": 3,
        "generated": 10,
        "released": 8,
        "held": {"fvi": 2},
        "sent": 30,
        "held_at_send": 2,
        "blocked": 0,
        "failed": 0,
    }
    stalled = client.get(_progress_url(some_runs["stalled"].pk)).json()
    assert (stalled["state"], stalled["active"], stalled["stalled"]) == ("dispatching", False, True)
    assert client.get(_progress_url(some_runs["command"].pk)).json()["counts_at_end"] is True
    assert client.get(_progress_url(999_999)).status_code == 404


@pytest.mark.parametrize("role", [roles.CASEWORKER, roles.AUDITOR, roles.ADMINISTRATOR])
def test_other_staff_get_404_on_the_page_and_the_json(role, some_runs):
    other = UserFactory(username=f"nr-{role}", role=role, is_staff=role == roles.ADMINISTRATOR)
    client = verified_client(other)
    for url in (LIST, _progress_url(some_runs["sending"].pk)):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.content.decode()


def test_anonymous_is_sent_to_sign_in(some_runs):
    for url in (LIST, _progress_url(some_runs["sending"].pk)):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_a_password_only_session_is_sent_to_the_code_page(supervisor, some_runs):
    client = password_only_client(supervisor)
    for url in (LIST, _progress_url(some_runs["sending"].pk)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:otp") + "?next=")


def test_get_only_and_csrf_protected(supervisor, some_runs):
    client = verified_client(supervisor)
    strict = verified_client(supervisor, Client(enforce_csrf_checks=True))
    for url in (LIST, _progress_url(some_runs["sending"].pk)):
        for method in ("post", "put", "delete"):
            assert getattr(client, method)(url).status_code == 405, (method, url)
        assert strict.post(url).status_code == 403
    some_runs["sending"].refresh_from_db()
    assert some_runs["sending"].chunks_done == 3


# The script, in a real browser ----------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_follows_an_active_run_until_it_finishes(live_server, supervisor):
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    args += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    run = _gated_run(3, chunks_done=1, sent=2)
    session = verified_client(supervisor).cookies["sa_session"].value
    errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        context = browser.new_context(base_url=live_server.url, locale="en-US")
        context.add_cookies([{"name": "sa_session", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(LIST)
            bar = page.locator(f"#notice-run-{run.pk}-progress")
            expect(bar).to_have_attribute("value", "1")
            expect(page.get_by_text("1 of 3 batches sent")).to_be_visible()
            # The rest of the chunks finish on the workers.
            runs.run_chunk_done(run_id=run.pk, chunk_counts=Counter({"sent": 2}))
            runs.run_chunk_done(run_id=run.pk, chunk_counts=Counter({"sent": 1, "held": 1}))
            live = page.locator("#notice-runs-announcer")
            expect(live).to_have_text(
                f"Notice run {run.pk}: Finished. 3 of 3 batches sent.", timeout=30_000
            )
            row = page.locator(f"#notice-run-{run.pk}")
            expect(bar).to_have_attribute("value", "3")
            expect(row.locator('[data-field="sent"]')).to_have_text("5")
            expect(row.locator('[data-field="held_at_send"]')).to_have_text("1")
            expect(row.locator('[data-field="state"]')).to_have_text("Finished")
            expect(row.locator('[data-field="finished"]')).to_contain_text("took 0:")
            expect(row).not_to_have_attribute("data-active", "")
            results = Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            assert errors == []  # a script blocked by the CSP would show here
        finally:
            # Playwright's sync API runs this block in a greenlet of its own, which
            # has its own database connection: close it, as a worker would.
            connection.close()
            context.close()
            browser.close()
