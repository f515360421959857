"""The gate: every remedy is held by every hold source; unknown state holds;
a custodial parent's FVI protects her children on every case; errors hold."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cases.models import ParticipantRole, RemedyKind
from safety import gate
from safety.models import (
    GENERAL_NOTICES,
    CourtOrderHold,
    FamilyViolenceIndicator,
    GoodCauseClaim,
    SafetyPlan,
    SafetyPlanRemedy,
    SafetyReview,
)
from tests.factories import CaseFactory, ParticipantFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db

REMEDIES = [*RemedyKind.values, GENERAL_NOTICES]


@pytest.fixture
def worker():
    return UserFactory(username="gate-worker")


def _screened_case(worker):
    case = full_case(caseworker=worker)
    SafetyReview.objects.create(case=case, outcome="no_concerns", reviewed_by=worker)
    return case


def _person(case, role):
    return case.participants.filter(role=role).first().person


def _plan(case, worker, **fields):
    return SafetyPlan.objects.create(case=case, updated_by=worker, **fields)


# Each hold source: (name, reason the gate gives, how to put it on a case for a remedy)
HOLD_SOURCES = {
    "fvi on custodial parent": (
        "fvi",
        lambda c, w, r: FamilyViolenceIndicator.objects.create(
            person=_person(c, "custodial_parent"), reason="dv_disclosed", set_by=w
        ),
    ),
    "fvi on child": (
        "fvi",
        lambda c, w, r: FamilyViolenceIndicator.objects.create(
            person=_person(c, "child"), reason="child_abuse", set_by=w
        ),
    ),
    "fvi on other parent": (
        "fvi",
        lambda c, w, r: FamilyViolenceIndicator.objects.create(
            person=_person(c, "noncustodial_parent"), reason="court_order", set_by=w
        ),
    ),
    "good cause pending": (
        "good_cause",
        lambda c, w, r: GoodCauseClaim.objects.create(
            case=c, claimant=_person(c, "custodial_parent"), status="pending"
        ),
    ),
    "good cause granted": (
        "good_cause",
        lambda c, w, r: GoodCauseClaim.objects.create(
            case=c, claimant=_person(c, "custodial_parent"), status="granted"
        ),
    ),
    "survivor pause": (
        "survivor_pause",
        lambda c, w, r: _plan(c, w, pause_requested_at=timezone.now()),
    ),
    "closure request": (
        "survivor_pause",
        lambda c, w, r: _plan(c, w, closure_requested_at=timezone.now()),
    ),
    "plan entry for the remedy": (
        "safety_plan",
        lambda c, w, r: SafetyPlanRemedy.objects.create(plan=_plan(c, w), remedy=r, held=True),
    ),
    "court order for the remedy": (
        "court_order",
        lambda c, w, r: CourtOrderHold.objects.create(
            case=c, remedy=r, ordered_on=dt.date(2026, 1, 5), recorded_by=w
        ),
    ),
    "court order for everything": (
        "court_order",
        lambda c, w, r: CourtOrderHold.objects.create(
            case=c, remedy="", ordered_on=dt.date(2026, 1, 5), recorded_by=w
        ),
    ),
}
TABLE = [(remedy, source) for remedy in REMEDIES for source in HOLD_SOURCES]


def test_a_screened_case_with_no_hold_may_proceed(worker):
    case = _screened_case(worker)
    for remedy in REMEDIES:
        assert gate.decide(case.pk, remedy).reasons == (), remedy


@pytest.mark.parametrize(("remedy", "source"), TABLE, ids=[f"{r}-{s}" for r, s in TABLE])
def test_every_remedy_is_held_by_every_hold_source(worker, remedy, source):
    case = _screened_case(worker)
    reason, put = HOLD_SOURCES[source]
    put(case, worker, remedy)
    decision = gate.decide(case.pk, remedy)
    assert decision.held and decision.reasons == (reason,)


def test_a_plan_entry_holds_only_its_own_remedy(worker):
    case = _screened_case(worker)
    plan = _plan(case, worker)
    SafetyPlanRemedy.objects.create(plan=plan, remedy="license_suspension", held=True)
    SafetyPlanRemedy.objects.create(plan=plan, remedy="passport_denial", held=False)
    assert gate.decide(case.pk, "license_suspension").reasons == ("safety_plan",)
    # She wants passport denial: it proceeds.
    assert gate.decide(case.pk, "passport_denial").reasons == ()
    assert gate.decide(case.pk, "income_withholding").reasons == ()


def test_lifted_and_ended_holds_no_longer_hold(worker):
    case = _screened_case(worker)
    FamilyViolenceIndicator.objects.create(
        person=_person(case, "custodial_parent"),
        reason="dv_disclosed",
        set_by=worker,
        removed_at=timezone.now(),
    )
    GoodCauseClaim.objects.create(
        case=case, claimant=_person(case, "custodial_parent"), status="denied"
    )
    CourtOrderHold.objects.create(
        case=case, ordered_on=dt.date(2026, 1, 1), lifted_on=dt.date(2026, 2, 1), recorded_by=worker
    )
    assert gate.decide(case.pk, "income_withholding").reasons == ()


def test_unknown_state_holds(worker, settings):
    unscreened = full_case(caseworker=worker)
    assert gate.decide(unscreened.pk, "income_withholding").reasons == ("not_screened",)
    settings.SAFETY_HOLD_UNSCREENED = False
    assert gate.decide(unscreened.pk, "income_withholding").reasons == ()
    settings.SAFETY_HOLD_UNSCREENED = True
    assert "unknown_case" in gate.decide(10**12, "income_withholding").reasons
    screened = _screened_case(worker)
    assert gate.decide(screened.pk, "garnish_everything").reasons == ("unknown_remedy",)
    assert gate.decide(screened.pk, None).reasons == ("unknown_remedy",)


def test_a_custodial_parents_fvi_protects_her_children_on_every_case(worker):
    first = _screened_case(worker)
    mother = _person(first, "custodial_parent")
    child = _person(first, "child")
    # The same child on another case, with another custodial party (a caretaker).
    second = CaseFactory(caseworker=worker)
    SafetyReview.objects.create(case=second, outcome="no_concerns", reviewed_by=worker)
    ParticipantFactory(case=second, role=ParticipantRole.CARETAKER)
    ParticipantFactory(case=second, person=child, role=ParticipantRole.CHILD)
    ParticipantFactory(case=second, role=ParticipantRole.NONCUSTODIAL_PARENT)
    assert gate.decide(second.pk, "income_withholding").reasons == ()

    FamilyViolenceIndicator.objects.create(person=mother, reason="dv_disclosed", set_by=worker)
    assert gate.decide(first.pk, "income_withholding").reasons == ("fvi",)
    # The mother is not on the second case, but her child is: held.
    assert gate.decide(second.pk, "income_withholding").reasons == ("fvi",)
    assert gate.decide(second.pk, GENERAL_NOTICES).reasons == ("fvi",)


def test_several_sources_give_every_reason(worker):
    case = full_case(caseworker=worker)  # not screened
    FamilyViolenceIndicator.objects.create(
        person=_person(case, "child"), reason="child_abuse", set_by=worker
    )
    GoodCauseClaim.objects.create(case=case, claimant=_person(case, "custodial_parent"))
    reasons = gate.decide(case.pk, "lien").reasons
    assert set(reasons) == {"fvi", "good_cause", "not_screened"}


def test_an_error_inside_the_gate_holds_and_leaves_the_transaction_usable(worker):
    case = _screened_case(worker)
    with transaction.atomic():
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION safety_gate(bigint, text, boolean)")
        decision = gate.decide(case.pk, "income_withholding")
        assert decision.held and decision.reasons == (gate.GATE_ERROR,)
        # The caller's transaction still works after the failed decision.
        assert SafetyReview.objects.filter(case=case).exists()
        transaction.savepoint_rollback(sid)
    assert gate.decide(case.pk, "income_withholding").reasons == ()


def test_the_gate_decides_a_whole_set_in_one_statement(worker):
    """Set-based use (the nightly run): one SQL statement over many cases."""
    cases = [_screened_case(worker) for _ in range(4)]
    FamilyViolenceIndicator.objects.create(
        person=_person(cases[1], "custodial_parent"), reason="dv_disclosed", set_by=worker
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, safety_gate(c.id, 'income_withholding', true) FROM cases_case c "
            "WHERE c.id = ANY(%s) ORDER BY c.id",
            [[c.pk for c in cases]],
        )
        rows = dict(cursor.fetchall())
    assert [rows[c.pk] for c in cases] == [[], ["fvi"], [], []]


def test_the_latest_review_decides_and_not_safe_to_screen_is_not_a_screening(worker):
    case = full_case(caseworker=worker)
    SafetyReview.objects.create(case=case, outcome="not_safe", reviewed_by=worker)
    assert gate.decide(case.pk, "income_withholding").reasons == ("not_screened",)
    SafetyReview.objects.create(case=case, outcome="no_concerns", reviewed_by=worker)
    assert gate.decide(case.pk, "income_withholding").reasons == ()
    SafetyReview.objects.create(case=case, outcome="not_safe", reviewed_by=worker)
    assert gate.decide(case.pk, "income_withholding").reasons == ("not_screened",)


def test_a_court_hold_lifted_on_a_future_date_holds_until_then(worker):
    case = _screened_case(worker)
    today = timezone.localdate()
    hold = CourtOrderHold.objects.create(
        case=case,
        ordered_on=today - dt.timedelta(days=30),
        lifted_on=today + dt.timedelta(days=2),
        recorded_by=worker,
    )
    assert gate.decide(case.pk, "lien").reasons == ("court_order",)
    CourtOrderHold.objects.filter(pk=hold.pk).update(lifted_on=today)
    assert gate.decide(case.pk, "lien").reasons == ()


@pytest.mark.parametrize("hold_unscreened", [True, False])
def test_the_nightly_set_form_agrees_with_the_one_case_gate(worker, settings, hold_unscreened):
    """The nightly run decides every pending notice by joining the holds to the
    notices (notice_gate_pending); a single decision asks safety_gate for one
    case. Both read the same rule (safety_holds), so on every hold source, every
    remedy, several holds at once, an unscreened case, a "not safe" review and a
    child protected through another case, they give the same reasons, for every
    remedy of each case. (safety_gate is asked over a hundred times in one
    statement here, so the plan PostgreSQL keeps for the session is compared,
    not only the first calls' plans: decision 0014.)"""
    from cases.models import Notice
    from safety import notices

    settings.SAFETY_HOLD_UNSCREENED = hold_unscreened
    cases = []
    for _reason, put_on in HOLD_SOURCES.values():
        case = _screened_case(worker)
        put_on(case, worker, "lien")  # a remedy's own hold must hold "lien" only
        cases.append(case)
    several = _screened_case(worker)
    for source in (
        "fvi on child",
        "good cause pending",
        "survivor pause",
        "court order for the remedy",
    ):
        HOLD_SOURCES[source][1](several, worker, "lien")
    unscreened = full_case(caseworker=worker)
    not_safe = full_case(caseworker=worker)
    SafetyReview.objects.create(case=not_safe, outcome="not_safe", reviewed_by=worker)
    sibling = _screened_case(worker)
    ParticipantFactory(case=sibling, person=_person(cases[0], "child"), role=ParticipantRole.CHILD)
    cases += [several, unscreened, not_safe, sibling, _screened_case(worker)]
    due = dt.date(2026, 12, 1)
    made = [
        Notice.objects.create(
            case=case, remedy=remedy, notice_type="n", recipient="employer", due_on=due
        )
        for case in cases
        for remedy in REMEDIES
    ]
    counts = notices.gate_pending()
    assert counts["released"] > 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.id, n.status, n.hold_reasons, safety_gate(n.case_id, n.remedy, %s) "
            "FROM cases_notice n WHERE n.id = ANY(%s)",
            [hold_unscreened, [n.pk for n in made]],
        )
        rows = cursor.fetchall()
    assert len(rows) == len(made)
    for notice_id, status, nightly, one_case in rows:
        assert nightly == one_case, notice_id
        assert status == ("released" if not one_case else "held")
    held_for = {tuple(r[2]) for r in rows}
    assert ("fvi", "good_cause", "survivor_pause", "court_order") in held_for
    assert (("not_screened",) in held_for) is hold_unscreened


def _notice_rows_planned_for() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'cases_notice'")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_large_gate_run_is_planned_for_the_notices_just_made(worker):
    """The nightly run gates the notices it has just inserted, before autovacuum
    has seen them; with statistics taken when none were pending, PostgreSQL
    planned the gate as nested loops (70,000 notices: over two minutes instead
    of three seconds, decision 0014). From notices.ANALYZE_FROM notices on, the
    gate refreshes the table's statistics first; one notice does not."""
    from cases.models import Notice
    from safety import notices

    case = _screened_case(worker)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_notice")  # nothing pending yet
    assert _notice_rows_planned_for() < notices.ANALYZE_FROM
    first = dt.date(2027, 1, 1)
    made = Notice.objects.bulk_create(
        Notice(
            case=case,
            remedy="lien",
            notice_type="lien_notice",
            recipient="other_parent",
            due_on=first + dt.timedelta(days=day),
        )
        for day in range(notices.ANALYZE_FROM)
    )
    notices.gate_pending([made[0].pk])
    assert _notice_rows_planned_for() < notices.ANALYZE_FROM

    counts = notices.gate_pending()

    assert _notice_rows_planned_for() >= notices.ANALYZE_FROM
    assert counts == {"released": notices.ANALYZE_FROM - 1}
    assert Notice.objects.filter(status="released").count() == notices.ANALYZE_FROM
