"""Writes for cases. Every function takes the acting user explicitly and records
what it did in the same transaction."""

from __future__ import annotations

import logging

from django.db import transaction

from cases.models import (
    Case,
    CaseEvent,
    ContactPoint,
    Person,
    ProtectedValueAccess,
    RevealReason,
)
from safety import protected

log = logging.getLogger(__name__)


class RevealRefused(Exception):
    """A reveal without a usable reason."""


def _check_reason(reason: str, reason_text: str) -> str:
    if reason not in RevealReason.values:
        raise RevealRefused("unknown reason")
    reason_text = (reason_text or "").strip()
    if reason == RevealReason.OTHER and not reason_text:
        raise RevealRefused("explain the reason")
    return reason_text


def contact_reveal(
    *, user, case: Case, contact_point: ContactPoint, reason: str, reason_text: str = ""
) -> str:
    """Decrypt one contact point for ``user`` and record who, when, which and why.

    The record is written in the same transaction: if it cannot be written, the
    value is not returned. The caller has already scoped ``case`` to the user and
    ``contact_point`` to the case (cases/selectors.py).
    """
    reason_text = _check_reason(reason, reason_text)
    with transaction.atomic():
        ProtectedValueAccess.objects.create(
            user=user,
            case=case,
            person_id=contact_point.person_id,
            contact_point=contact_point,
            field=f"contact:{contact_point.kind}",
            reason=reason,
            reason_text=reason_text,
        )
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.CONTACT_REVEALED,
            actor=user,
            detail={"contact_point": str(contact_point.pk), "reason": reason},
        )
        value = protected.reveal(contact_point, "value")
    log.info("user %s revealed contact point %s on case %s", user.pk, contact_point.pk, case.pk)
    return value


def ssn_reveal_last_four(
    *, user, case: Case, person: Person, reason: str, reason_text: str = ""
) -> str | None:
    """The last four digits of a person's SSN (the full number is never shown)."""
    reason_text = _check_reason(reason, reason_text)
    with transaction.atomic():
        ProtectedValueAccess.objects.create(
            user=user,
            case=case,
            person=person,
            field="ssn:last4",
            reason=reason,
            reason_text=reason_text,
        )
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.CONTACT_REVEALED,
            actor=user,
            detail={"person": str(person.pk), "field": "ssn:last4", "reason": reason},
        )
        ssn = protected.reveal(person, "ssn")
    log.info("user %s revealed SSN last four of person %s on case %s", user.pk, person.pk, case.pk)
    return None if ssn is None else ssn[-4:]
