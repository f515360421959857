"""Queries per page (issue 7, figure 5): each main page makes the same number of
database queries with 10 rows of data behind it as with 1,000, and at most 15.

Rows: the cases in the caseload and the unit (every one matching the name
searched), held notices in the unit, notice runs, audit records, and on the one
case opened: people, contact details, notes, timeline events and held notices.
With QUERY_COUNTS set to a file, the counts are written there as JSON
(benchmarks/run.py reports them in docs/performance.md)."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import audit
from cases.models import (
    Case,
    CaseEvent,
    CaseNote,
    Notice,
    Participant,
    ParticipantRole,
    Person,
)
from safety.models import NoticeRun
from tests.conftest import verified_client
from tests.factories import UnitFactory, contact_point, full_case

LIMIT = 15
SIZES = (10, 1000)
NAME = "Querycount"


@pytest.fixture
def scene(caseworker, supervisor):
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(caseworker)
    case = full_case(caseworker=caseworker, unit=unit, cp_last_name=NAME)
    notice = Notice.objects.create(
        case=case,
        remedy="income_withholding",
        notice_type="income_withholding_notice",
        recipient="employer",
        status="held",
        hold_reasons=["fvi"],
        due_on=dt.date(2026, 1, 1),
    )
    return {"unit": unit, "case": case, "notice": notice, "rows": 1}


def _grow(scene, rows: int, caseworker) -> None:
    """Bring every list behind the pages up to ``rows`` rows."""
    add = rows - scene["rows"]
    scene["rows"] = rows
    unit, case = scene["unit"], scene["case"]
    start = Case.objects.count()
    cases = Case.objects.bulk_create(
        Case(
            number=f"QC-{start + i:06d}",
            office=unit.office,
            unit=unit,
            caseworker=caseworker,
            opened_on=dt.date(2024, 1, 1),
        )
        for i in range(add)
    )
    people = Person.objects.bulk_create(
        Person(first_name=f"Row{i}", last_name=NAME) for i in range(2 * add)
    )
    Participant.objects.bulk_create(
        [
            Participant(case=c, person=p, role=ParticipantRole.CUSTODIAL_PARENT)
            for c, p in zip(cases, people[:add], strict=True)
        ]
        + [Participant(case=case, person=p, role=ParticipantRole.CHILD) for p in people[add:]]
    )
    for person in people[add : add + min(add, 200)]:
        contact_point(person, "7 Bulk Street")  # sealed one by one: 200 is plenty
    Notice.objects.bulk_create(
        Notice(
            case=c,
            remedy="income_withholding",
            notice_type="income_withholding_notice",
            recipient="employer",
            status="held",
            hold_reasons=["fvi"],
            due_on=dt.date(2026, 1, 2) + dt.timedelta(days=i),
        )
        for i, c in enumerate([*cases, *[case] * add])
    )
    CaseNote.objects.bulk_create(
        CaseNote(case=case, author=caseworker, body="n") for _ in range(add)
    )
    CaseEvent.objects.bulk_create(CaseEvent(case=case, kind="edited") for _ in range(add))
    NoticeRun.objects.bulk_create(NoticeRun(trigger="nightly") for _ in range(add))
    for _ in range(add):
        audit.audit_record(kind=audit.Kind.SIGN_IN_VERIFIED, actor=caseworker)


def _pages(scene) -> dict[str, tuple[str, str, dict | None]]:
    """Page -> (who, url, POST data or None for GET)."""
    case, notice = scene["case"], scene["notice"]
    return {
        "home (caseworker)": ("caseworker", reverse("home"), None),
        "home (supervisor)": ("supervisor", reverse("home"), None),
        "caseload (caseworker)": ("caseworker", reverse("cases:caseload"), None),
        "caseload (supervisor)": ("supervisor", reverse("cases:caseload"), None),
        "case search by name": ("caseworker", reverse("cases:search"), {"name": NAME}),
        "case page": ("caseworker", reverse("cases:detail", args=[case.pk]), None),
        "held notices": ("supervisor", reverse("safety:held_notices"), None),
        "held notice review": (
            "supervisor",
            reverse("safety:notice_review", args=[notice.pk]),
            None,
        ),
        "notice runs": ("supervisor", reverse("safety:notice_runs"), None),
        "audit trail": ("supervisor", reverse("audit:index"), None),
    }


# Savepoint bookkeeping is not counted: under the test's transaction every atomic
# block is a savepoint, where in production the outer one is the driver's
# BEGIN/COMMIT, which sends no statement of its own.
BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def _count(client, url: str, data: dict | None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data) if data is not None else client.get(url)
    assert response.status_code == 200, url
    return sum(not q["sql"].startswith(BOOKKEEPING) for q in queries.captured_queries)


def test_each_main_page_makes_as_many_queries_for_1000_rows_as_for_10(
    scene, caseworker, supervisor
):
    clients = {"caseworker": verified_client(caseworker), "supervisor": verified_client(supervisor)}
    counts: dict[str, dict[int, int]] = {}
    for rows in SIZES:
        _grow(scene, rows, caseworker)
        # Statistics as autovacuum keeps them in production: the rows made here sit
        # in the test's own transaction, which autovacuum never sees, and after a
        # suite that has churned these tables the planner would otherwise take
        # them for empty and pick nested loops that run for minutes. (The counts
        # do not depend on it; the time does.)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_case, cases_person, cases_participant, cases_notice")
        for page, (who, url, data) in _pages(scene).items():
            counts.setdefault(page, {})[rows] = _count(clients[who], url, data)
    if os.environ.get("QUERY_COUNTS"):
        with open(os.environ["QUERY_COUNTS"], "w") as handle:
            json.dump({"limit": LIMIT, "sizes": SIZES, "pages": counts}, handle)
    grows = {page: c for page, c in counts.items() if c[SIZES[0]] != c[SIZES[1]]}
    too_many = {page: c for page, c in counts.items() if max(c.values()) > LIMIT}
    assert grows == {}, f"queries grow with the data: {grows}"
    assert too_many == {}, f"more than {LIMIT} queries: {too_many}"
