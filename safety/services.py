"""Writes for safety records. Each takes the acting user and records what it did
on the timeline of every case the person is on, in the same transaction."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts import services as account_services
from cases.models import CaseEvent, Participant
from safety.models import FamilyViolenceIndicator, FviRemovalRequest
from safety.notices import lock_cases_for_hold

log = logging.getLogger(__name__)


class SafetyActionRefused(Exception):
    """The action is not allowed; the message is safe to show."""


def _events_on_cases_of(person_id, kind: str, actor, **detail) -> None:
    case_ids = Participant.objects.filter(person_id=person_id).values_list("case_id", flat=True)
    CaseEvent.objects.bulk_create(
        CaseEvent(case_id=case_id, kind=kind, actor=actor, detail=detail)
        for case_id in set(case_ids)
    )


def fvi_set(
    *, user, person, reason: str, note: str = "", review_on=None
) -> FamilyViolenceIndicator:
    """Set an FVI on a person. It takes effect at once on every case the person is
    on (the gate reads it). Needs no proof beyond the survivor's statement."""
    with transaction.atomic():
        # Lock the cases this flag protects first: a send in flight on any of them
        # either commits before the flag or sees it (safety/notices.py).
        lock_cases_for_hold(person_id=person.pk)
        fvi = FamilyViolenceIndicator.objects.create(
            person=person, reason=reason, note=note, set_by=user, review_on=review_on
        )
        _events_on_cases_of(person.pk, CaseEvent.Kind.FVI_SET, user, fvi=fvi.pk, reason=reason)
    log.info("user %s set FVI %s on person %s", user.pk, fvi.pk, person.pk)
    return fvi


def fvi_removal_request(*, user, fvi: FamilyViolenceIndicator, reason: str) -> FviRemovalRequest:
    reason = reason.strip()
    if not reason:
        raise SafetyActionRefused(_("Give the reason for removing the flag."))
    if fvi.removed_at is not None:
        raise SafetyActionRefused(_("This flag has already been removed."))
    with transaction.atomic():
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
    with transaction.atomic():
        request = FviRemovalRequest.objects.select_for_update().get(pk=request.pk)
        if request.state != "requested":
            raise SafetyActionRefused(_("This request is no longer waiting for approval."))
        result, _device = account_services.totp_code_check(user=user, code=code)
        if result is not account_services.CodeCheck.ACCEPTED:
            raise SafetyActionRefused(
                _("That code is not valid. Enter the current code from your app.")
            )
        now = timezone.now()
        request.approved_by = user
        request.approved_at = now
        request.effective_at = now + dt.timedelta(days=settings.FVI_REMOVAL_WAIT_DAYS)
        request.save(update_fields=["approved_by", "approved_at", "effective_at"])
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
    due = FviRemovalRequest.objects.filter(
        approved_at__isnull=False,
        cancelled_at__isnull=True,
        applied_at__isnull=True,
        effective_at__lte=now,
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
