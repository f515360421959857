"""Writes for safety records. Each takes the acting user and records what it did
on the timeline of every case the person is on, in the same transaction."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts import roles
from accounts import services as account_services
from cases.models import CaseEvent, Participant
from safety import notices, protected
from safety.gate import GATE_ERROR
from safety.models import (
    AddressConfidentialityEnrollment,
    CourtOrderHold,
    FamilyViolenceIndicator,
    FviRemovalRequest,
    GoodCauseClaim,
    NoticeDecision,
    SafetyPlan,
    SafetyPlanRemedy,
    SafetyReview,
    hold_remedy_choices,
)
from safety.notices import lock_cases_for_hold

log = logging.getLogger(__name__)


class SafetyActionRefused(Exception):
    """The action is not allowed; the message is safe to show, at ``field`` if the
    refusal is about one answer."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def _fresh_code(user, code: str) -> None:
    """A safety decision confirmed with a fresh one-time code (spent once). Checked
    before, not inside, the decision's transaction, so a wrong code's throttling
    count is kept even though the decision is refused."""
    result, _device = account_services.totp_code_check(user=user, code=code)
    if result is not account_services.CodeCheck.ACCEPTED:
        raise SafetyActionRefused(
            _("That code is not valid. Enter the current code from your app."), field="code"
        )


def _events_on_cases_of(person_id, kind: str, actor, **detail) -> None:
    case_ids = Participant.objects.filter(person_id=person_id).values_list("case_id", flat=True)
    CaseEvent.objects.record_many(
        case_ids=case_ids, kind=kind, actor=actor, person_id=person_id, detail=detail
    )


@sensitive_variables()
def _same_ssn_records(person) -> list:
    """Other records of the same person (same SSN); intake never links them
    (decision 0007), so a flag must reach each of them."""
    from cases.selectors import people_with_ssn

    ssn = protected.reveal(person, "ssn")
    if not ssn:
        return []
    return list(people_with_ssn(ssn).exclude(pk=person.pk).order_by("pk"))


def fvi_set(
    *, user, person, reason: str, note: str = "", review_on=None
) -> FamilyViolenceIndicator:
    """Set an FVI on a person, and on every other record with the same SSN. It
    takes effect at once on every case they are on (the gate reads it). Needs no
    proof beyond the survivor's statement."""
    with transaction.atomic():
        records = [person, *_same_ssn_records(person)]
        # Lock the cases these flags protect first: a send in flight on any of them
        # either commits before the flag or sees it (safety/notices.py).
        for record in records:
            lock_cases_for_hold(person_id=record.pk)
        first = None
        for record in records:
            created = FamilyViolenceIndicator.objects.create(
                person=record,
                reason=reason,
                set_by=user,
                review_on=review_on,
                note=note if record is person else "Same SSN as a record flagged at the same time.",
            )
            first = first or created
            _events_on_cases_of(
                record.pk, CaseEvent.Kind.FVI_SET, user, fvi=created.pk, reason=reason
            )
    log.info("user %s set FVI %s on %d records", user.pk, first.pk, len(records))
    return first


def fvi_removal_request(*, user, fvi: FamilyViolenceIndicator, reason: str) -> FviRemovalRequest:
    reason = reason.strip()
    if not reason:
        raise SafetyActionRefused(_("Give the reason for removing the flag."))
    with transaction.atomic():
        fvi = FamilyViolenceIndicator.objects.select_for_update().get(pk=fvi.pk)
        if fvi.removed_at is not None:
            raise SafetyActionRefused(_("This flag has already been removed."))
        if FviRemovalRequest.objects.filter(
            fvi=fvi, cancelled_at__isnull=True, applied_at__isnull=True
        ).exists():
            raise SafetyActionRefused(_("A removal request for this flag is already open."))
        request = FviRemovalRequest.objects.create(fvi=fvi, reason=reason, requested_by=user)
        _events_on_cases_of(
            fvi.person_id,
            CaseEvent.Kind.FVI_REMOVAL_REQUESTED,
            user,
            fvi=fvi.pk,
            request=request.pk,
        )
    return request


def fvi_removal_approve(*, user, request: FviRemovalRequest, code: str) -> FviRemovalRequest:
    """A different person with the supervisor role approves, with a fresh one-time
    code. The flag comes off only after FVI_REMOVAL_WAIT_DAYS."""
    if not user.has_role(roles.SUPERVISOR):
        raise SafetyActionRefused(_("Only a supervisor can approve removing a flag."))
    if user.pk == request.requested_by_id:
        raise SafetyActionRefused(_("The person who asked for the removal cannot approve it."))
    _fresh_code(user, code)
    with transaction.atomic():
        request = FviRemovalRequest.objects.select_for_update().get(pk=request.pk)
        if request.state != "requested":
            raise SafetyActionRefused(_("This request is no longer waiting for approval."))
        now = timezone.now()
        request.approved_by = user
        request.approved_at = now
        request.effective_at = now + dt.timedelta(days=settings.FVI_REMOVAL_WAIT_DAYS)
        request.notice = _removal_notice(request)
        request.save(update_fields=["approved_by", "approved_at", "effective_at", "notice"])
        _events_on_cases_of(
            request.fvi.person_id,
            CaseEvent.Kind.FVI_REMOVAL_APPROVED,
            user,
            fvi=request.fvi_id,
            request=request.pk,
            effective=request.effective_at.isoformat(),
        )
    log.info("user %s approved FVI removal request %s", user.pk, request.pk)
    return request


def _removal_notice(request: FviRemovalRequest):
    """The notice telling the protected person that her flag is to come off, and
    when: through the same pipeline, to her safe address (safety.pipeline), sent
    as soon as this approval commits. The flag comes off only once it is sent."""
    from cases.models import Notice
    from safety.documents import FVI_REMOVAL_NOTICE
    from safety.pipeline import SAFETY_NOTICE
    from safety.tasks import send_notice

    person = request.fvi.person
    case_id = (
        Participant.objects.filter(person=person)
        .order_by(models.Case(models.When(case__status="open", then=0), default=1), "case_id")
        .values_list("case_id", flat=True)
        .first()
    )
    if case_id is None:
        raise SafetyActionRefused(_("This person is on no case, so they cannot be told."))
    # Two of her flags approved for removal on one day: one notice tells her.
    notice, _created = Notice.objects.get_or_create(
        case_id=case_id,
        remedy=SAFETY_NOTICE,
        notice_type=FVI_REMOVAL_NOTICE,
        recipient_person=person,
        due_on=timezone.localdate(),
        defaults={
            "recipient": "protected_person",
            "data": {
                "request": request.pk,
                "effective_on": request.effective_at.date().isoformat(),
            },
        },
    )
    transaction.on_commit(lambda: send_notice.delay(notice.pk))
    return notice


def fvi_removal_cancel(*, user, request: FviRemovalRequest) -> FviRemovalRequest:
    with transaction.atomic():
        request = FviRemovalRequest.objects.select_for_update().get(pk=request.pk)
        if request.state not in ("requested", "waiting"):
            raise SafetyActionRefused(_("This request can no longer be cancelled."))
        request.cancelled_by = user
        request.cancelled_at = timezone.now()
        request.save(update_fields=["cancelled_by", "cancelled_at"])
        _events_on_cases_of(
            request.fvi.person_id,
            CaseEvent.Kind.FVI_REMOVAL_CANCELLED,
            user,
            fvi=request.fvi_id,
            request=request.pk,
        )
    return request


def fvi_removals_apply(*, now=None) -> int:
    """Take off the flags whose approved removal has waited its full period.
    Idempotent: a request is applied once (row lock, state check)."""
    now = now or timezone.now()
    applied = 0
    # Only once the protected person has been sent her notice: a notice still
    # held (say, for review) keeps the flag on.
    due = FviRemovalRequest.objects.filter(
        approved_at__isnull=False,
        cancelled_at__isnull=True,
        applied_at__isnull=True,
        effective_at__lte=now,
        notice__status="sent",
    ).values_list("pk", flat=True)
    for pk in due:
        with transaction.atomic():
            request = (
                FviRemovalRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, cancelled_at__isnull=True, applied_at__isnull=True)
                .select_related("fvi")
                .first()
            )
            if request is None:
                continue
            FamilyViolenceIndicator.objects.filter(
                pk=request.fvi_id, removed_at__isnull=True
            ).update(removed_at=now)
            request.applied_at = now
            request.save(update_fields=["applied_at"])
            _events_on_cases_of(
                request.fvi.person_id,
                CaseEvent.Kind.FVI_REMOVED,
                request.approved_by,
                fvi=request.fvi_id,
                request=request.pk,
            )
            applied += 1
    if applied:
        log.info("applied %d FVI removals", applied)
    return applied


# --- Case-level holds: every change that can add a hold locks the case first -----


def safety_review_record(*, user, case, outcome: str) -> SafetyReview:
    with transaction.atomic():
        lock_cases_for_hold(case_ids=[case.pk])
        review = SafetyReview.objects.create(case=case, outcome=outcome, reviewed_by=user)
        CaseEvent.objects.record(
            case=case, kind=CaseEvent.Kind.SAFETY_REVIEWED, actor=user, detail={"outcome": outcome}
        )
    return review


def safety_plan_update(
    *, user, case, held_remedies: set[str], pause: bool, closure: bool, survivor_words: str = ""
) -> SafetyPlan:
    """Record the survivor's choices: which remedies to hold, and whether she asks
    to pause or close the case (either holds everything)."""
    unknown = set(held_remedies) - {value for value, _label in hold_remedy_choices()}
    if unknown:
        raise SafetyActionRefused(_("Unknown remedy."))
    with transaction.atomic():
        lock_cases_for_hold(case_ids=[case.pk])
        plan, _created = SafetyPlan.objects.select_for_update().get_or_create(
            case=case, defaults={"updated_by": user}
        )
        now = timezone.now()
        plan.pause_requested_at = (plan.pause_requested_at or now) if pause else None
        plan.closure_requested_at = (plan.closure_requested_at or now) if closure else None
        plan.updated_by = user
        plan.save()
        for value, _label in hold_remedy_choices():
            SafetyPlanRemedy.objects.update_or_create(
                plan=plan,
                remedy=value,
                defaults={
                    "held": value in held_remedies,
                    "survivor_choice": survivor_words if value in held_remedies else "",
                },
            )
        CaseEvent.objects.record(
            case=case,
            kind=CaseEvent.Kind.SAFETY_PLAN_CHANGED,
            actor=user,
            detail={"held": sorted(held_remedies), "pause": pause, "closure": closure},
        )
    return plan


def court_hold_add(*, user, case, remedy: str, ordered_on, note: str = "") -> CourtOrderHold:
    with transaction.atomic():
        lock_cases_for_hold(case_ids=[case.pk])
        hold = CourtOrderHold.objects.create(
            case=case, remedy=remedy, ordered_on=ordered_on, note=note, recorded_by=user
        )
        CaseEvent.objects.record(
            case=case,
            kind=CaseEvent.Kind.COURT_HOLD_ADDED,
            actor=user,
            detail={"hold": hold.pk, "remedy": remedy or "all"},
        )
    return hold


def court_hold_lift(*, user, hold: CourtOrderHold, lifted_on) -> CourtOrderHold:
    if lifted_on < hold.ordered_on:
        raise SafetyActionRefused(_("A hold cannot be lifted before it was ordered."))
    with transaction.atomic():
        hold = CourtOrderHold.objects.select_for_update().get(pk=hold.pk)
        if hold.lifted_on is not None:
            raise SafetyActionRefused(_("This hold has already been lifted."))
        hold.lifted_on = lifted_on
        hold.save(update_fields=["lifted_on"])
        CaseEvent.objects.record(
            case_id=hold.case_id,
            kind=CaseEvent.Kind.COURT_HOLD_LIFTED,
            actor=user,
            detail={"hold": hold.pk},
        )
    return hold


def acp_record(
    *,
    user,
    case,
    person,
    program_name: str,
    participant_id: str,
    substitute_address: str,
    certified_until,
) -> AddressConfidentialityEnrollment:
    """Record an Address Confidentiality Program enrolment: notices about this
    person carry the substitute address from now on."""
    with transaction.atomic():
        enrollment = AddressConfidentialityEnrollment(
            person=person,
            program_name=program_name,
            substitute_address=substitute_address,
            certified_until=certified_until,
            recorded_by=user,
        )
        protected.seal(enrollment, "participant_id", participant_id)
        enrollment.save()
        CaseEvent.objects.record(
            case=case,
            kind=CaseEvent.Kind.EDITED,
            actor=user,
            detail={"person": str(person.pk), "acp_enrollment": str(enrollment.pk)},
        )
    return enrollment


# --- Held-notice review: keep, cancel or release, each recorded with a reason ---

# Reasons no release can override: the gate does not know what the notice is.
NOT_RELEASABLE = {"unknown_case", "unknown_remedy", GATE_ERROR}


def _notice_decision(*, user, notice, action: str, reason: str, gate_reasons, version: int):
    decision = NoticeDecision.objects.create(
        notice=notice,
        action=action,
        reason=reason,
        gate_reasons=list(gate_reasons or []),
        case_safety_version=version,
        decided_by=user,
    )
    kind = {
        NoticeDecision.Action.KEEP: CaseEvent.Kind.NOTICE_KEPT,
        NoticeDecision.Action.CANCEL: CaseEvent.Kind.NOTICE_CANCELLED,
        NoticeDecision.Action.RELEASE: CaseEvent.Kind.NOTICE_RELEASED,
    }[action]
    CaseEvent.objects.record(
        case_id=notice.case_id,
        kind=kind,
        actor=user,
        detail={"notice": notice.pk, "decision": decision.pk, "reasons": decision.gate_reasons},
    )
    return decision


def _held_notice_locked(notice):
    """The notice, locked, with its case's safety version (the case share-locked,
    so no hold can be written until this decision commits)."""
    from cases.models import Notice

    notice = Notice.objects.select_for_update().filter(pk=notice.pk).first()
    if notice is None or notice.status != "held":
        raise SafetyActionRefused(_("This notice is no longer held."))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT safety_version FROM cases_case WHERE id = %s FOR SHARE", [notice.case_id]
        )
        return notice, cursor.fetchone()[0]


def _reason_given(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise SafetyActionRefused(_("Give the reason for your decision."), field="reason")
    return reason


def _decide_held(*, user, notice, action: str, reason: str, code=None) -> NoticeDecision:
    """Keep or cancel a held notice, recording the reason and what held it.
    Cancelling cannot be undone, so it is confirmed with a fresh one-time code."""
    reason = _reason_given(reason)
    if action == NoticeDecision.Action.CANCEL:
        _fresh_code(user, code or "")
    with transaction.atomic():
        notice, version = _held_notice_locked(notice)
        if action == NoticeDecision.Action.CANCEL:
            type(notice).objects.filter(pk=notice.pk).update(status="cancelled")
        decision = _notice_decision(
            user=user,
            notice=notice,
            action=action,
            reason=reason,
            gate_reasons=notices.notice_gate_now(notice.pk),
            version=version,
        )
    log.info("user %s decided %s on notice %s", user.pk, action, notice.pk)
    return decision


def notice_keep(*, user, notice, reason: str) -> NoticeDecision:
    """Keep a held notice held, recording why (it stays in the list)."""
    return _decide_held(user=user, notice=notice, action=NoticeDecision.Action.KEEP, reason=reason)


def notice_cancel(*, user, notice, reason: str, code: str) -> NoticeDecision:
    """Cancel a held notice for good, with a fresh one-time code. Only a held
    notice can be cancelled."""
    return _decide_held(
        user=user, notice=notice, action=NoticeDecision.Action.CANCEL, reason=reason, code=code
    )


def notice_release(*, user, notice, reason: str, code: str, seen_reasons) -> NoticeDecision:
    """A supervisor releases a held notice, with a written reason and a fresh
    one-time code. The release overrides exactly the gate reasons standing now,
    which must be the ones the supervisor was shown; any hold added later voids
    it (the case's safety version). The notice is then sent through the same
    pipeline: address substitution, leak check and the gate at the moment of
    sending (safety/sql/notice_gate_v1.sql)."""
    from safety.tasks import send_notice

    if not user.has_role(roles.SUPERVISOR):
        raise SafetyActionRefused(_("Only a supervisor can release a held notice."))
    reason = _reason_given(reason)
    _fresh_code(user, code)
    with transaction.atomic():
        notice, version = _held_notice_locked(notice)
        standing = notices.notice_gate_now(notice.pk)
        if standing is None or NOT_RELEASABLE & set(standing):
            raise SafetyActionRefused(
                _("The safety state of this case cannot be established, so the notice stays held.")
            )
        if sorted(standing) != sorted(seen_reasons):
            raise SafetyActionRefused(
                _(
                    "The reasons this notice is held changed while you were reviewing it. "
                    "Read them again before deciding."
                )
            )
        decision = _notice_decision(
            user=user,
            notice=notice,
            action=NoticeDecision.Action.RELEASE,
            reason=reason,
            gate_reasons=standing,
            version=version,
        )
        type(notice).objects.filter(pk=notice.pk).update(
            status="released", decided_at=timezone.now()
        )
        transaction.on_commit(lambda: send_notice.delay(notice.pk))
    log.info("user %s released notice %s (decision %s)", user.pk, notice.pk, decision.pk)
    return decision


def good_cause_claim_set(*, user, case, claimant, status: str) -> GoodCauseClaim:
    """The good-cause hook's only write path (the workflow arrives in its own
    issue): file a claim or change its status, locking the case first."""
    if status not in GoodCauseClaim.Status.values:
        raise SafetyActionRefused(_("Unknown status."))
    with transaction.atomic():
        lock_cases_for_hold(case_ids=[case.pk])
        claim, _created = GoodCauseClaim.objects.update_or_create(
            case=case, claimant=claimant, defaults={"status": status}
        )
    return claim
