"""Writes for cases. Every function takes the acting user explicitly and records
what it did in the same transaction."""

from __future__ import annotations

import logging

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from cases.models import (
    Case,
    CaseEvent,
    CaseNote,
    ContactPoint,
    Participant,
    Person,
    ProtectedValueAccess,
    RevealReason,
    SupportOrder,
)
from safety import protected
from safety.notices import lock_cases_for_hold

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


def _open_recorded(access: ProtectedValueAccess, open_value):
    """Decrypt after the access record is written; a failure is recorded too."""
    try:
        return open_value()
    except protected.ProtectedValueError:
        ProtectedValueAccess.objects.filter(pk=access.pk).update(outcome="failed")
        log.error("reveal %s failed: the protected value did not open", access.pk)
        raise


@sensitive_variables()
def _reveal_recorded(
    *, user, case: Case, person_id, field: str, reason, reason_text, open_value, contact_point=None
):
    """Record who, when, which field and why (the access record and its timeline
    and audit entries, in one transaction), then open the value. No value is
    returned without its record; one that will not open is recorded as failed."""
    reason_text = _check_reason(reason, reason_text)
    with transaction.atomic():
        access = ProtectedValueAccess.objects.create(
            user=user,
            case=case,
            person_id=person_id,
            contact_point=contact_point,
            field=field,
            reason=reason,
            reason_text=reason_text,
        )
        detail = {"person": str(person_id), "field": field, "access": access.pk, "reason": reason}
        if contact_point is not None:
            detail["contact_point"] = str(contact_point.pk)
        CaseEvent.objects.record(
            case=case, kind=CaseEvent.Kind.CONTACT_REVEALED, actor=user, detail=detail
        )
    return _open_recorded(access, open_value)


@sensitive_variables()
def contact_reveal(
    *, user, case: Case, contact_point: ContactPoint, reason: str, reason_text: str = ""
) -> str:
    """Decrypt one contact point for ``user``, recorded first (``_reveal_recorded``).
    If the value cannot be opened, ``ProtectedValueError`` is raised and the record
    says so. The caller has already scoped ``case`` to the user and
    ``contact_point`` to the case (cases/selectors.py)."""
    value = _reveal_recorded(
        user=user,
        case=case,
        person_id=contact_point.person_id,
        contact_point=contact_point,
        field=f"contact:{contact_point.kind}",
        reason=reason,
        reason_text=reason_text,
        open_value=lambda: protected.reveal(contact_point, "value"),
    )
    log.info("user %s revealed contact point %s on case %s", user.pk, contact_point.pk, case.pk)
    return value


@sensitive_variables()
def ssn_reveal_last_four(
    *, user, case: Case, person: Person, reason: str, reason_text: str = ""
) -> str | None:
    """The last four digits of a person's SSN (the full number is never shown)."""
    ssn = _reveal_recorded(
        user=user,
        case=case,
        person_id=person.pk,
        field="ssn:last4",
        reason=reason,
        reason_text=reason_text,
        open_value=lambda: protected.reveal(person, "ssn"),
    )
    log.info("user %s revealed SSN last four of person %s on case %s", user.pk, person.pk, case.pk)
    return None if ssn is None else ssn[-4:]


# --- Intake and changes ------------------------------------------------------------


def _event(case: Case, kind: str, actor, **detail) -> None:
    CaseEvent.objects.record(case=case, kind=kind, actor=actor, detail=detail)


def person_create(
    *,
    user,
    first_name: str,
    last_name: str,
    middle_name: str = "",
    date_of_birth=None,
    ssn: str = "",
    preferred_language: str = "en",
) -> Person:
    person = Person(
        first_name=first_name,
        middle_name=middle_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        preferred_language=preferred_language,
    )
    protected.seal(person, "ssn", ssn)
    person.save()
    if ssn:
        _carry_over_fvi(user=user, person=person, ssn=ssn)
    return person


def _carry_over_fvi(*, user, person: Person, ssn: str) -> None:
    """A new record whose SSN matches a flagged person gets the flag too.

    Records are not linked automatically: linking would show the other record's
    contact details on this case, so typing someone's SSN would be a way to find
    them. But the protection must not be lost because a person was entered again.
    """
    from cases.selectors import people_with_ssn
    from safety.models import FamilyViolenceIndicator

    flagged = (
        FamilyViolenceIndicator.objects.filter(
            removed_at__isnull=True, person__in=people_with_ssn(ssn)
        )
        .exclude(person=person)
        .order_by("set_at")
        .first()
    )
    if flagged is not None:
        lock_cases_for_hold(person_id=person.pk)
        FamilyViolenceIndicator.objects.create(
            person=person,
            reason=flagged.reason,
            note="Carried over: the same SSN belongs to a person with a standing FVI.",
            set_by=user,
        )
        log.info("FVI carried over to person %s from FVI %s", person.pk, flagged.pk)


def contact_add(
    *,
    user,
    case: Case,
    person: Person,
    kind: str,
    value: str,
    valid_from,
    source: str,
    valid_to=None,
    safe_for_mail: bool = False,
) -> ContactPoint:
    """Seal and store a contact point of someone on ``case``."""
    with transaction.atomic():
        point = ContactPoint(
            person=person,
            kind=kind,
            valid_from=valid_from,
            valid_to=valid_to,
            source=source,
            safe_for_mail=safe_for_mail,
            created_by=user,
        )
        protected.seal(point, "value", value)
        point.save()
        _event(
            case,
            CaseEvent.Kind.CONTACT_ADDED,
            user,
            person=str(person.pk),
            contact_point=str(point.pk),
            contact_kind=kind,
        )
    return point


def participant_add(*, user, case: Case, person: Person, role: str) -> Participant:
    with transaction.atomic():
        # A flagged person (or a flagged custodial party's child) joining the case
        # adds a hold: lock the case first (safety/notices.py, lock protocol).
        lock_cases_for_hold(case_ids=[case.pk], person_id=person.pk)
        participant = Participant.objects.create(case=case, person=person, role=role)
        _event(case, CaseEvent.Kind.PARTICIPANT_ADDED, user, person=str(person.pk), role=role)
    return participant


def case_open(*, user, case_fields: dict, people: list[dict]) -> Case:
    """Open a case with its participants and their contact details, all or nothing.

    ``people``: dicts with ``role``, the person's fields (``first_name``,
    ``last_name``, ``date_of_birth``, ``ssn``) and ``contacts``: a list of
    ``(kind, value, source)``.
    """
    with transaction.atomic():
        case = Case.objects.create(caseworker=user, **case_fields)
        _event(case, CaseEvent.Kind.OPENED, user)
        for entry in people:
            contacts = entry.pop("contacts", [])
            role = entry.pop("role")
            person = person_create(user=user, **entry)
            participant_add(user=user, case=case, person=person, role=role)
            for kind, value, source in contacts:
                contact_add(
                    user=user,
                    case=case,
                    person=person,
                    kind=kind,
                    value=value,
                    valid_from=case.opened_on,
                    source=source,
                )
    log.info("user %s opened case %s", user.pk, case.pk)
    return case


def case_update(*, user, case: Case, fields: dict) -> Case:
    with transaction.atomic():
        changed = [name for name, value in fields.items() if getattr(case, name) != value]
        for name in changed:
            setattr(case, name, fields[name])
        if changed:
            case.save(update_fields=[*changed, "updated_at"])
            _event(case, CaseEvent.Kind.EDITED, user, fields=changed)
    return case


def case_assign(*, user, case: Case, caseworker) -> Case:
    """A supervisor (re)assigns the case to a caseworker."""
    with transaction.atomic():
        previous = case.caseworker_id
        case.caseworker = caseworker
        case.save(update_fields=["caseworker", "updated_at"])
        _event(case, CaseEvent.Kind.ASSIGNED, user, previous=previous, caseworker=caseworker.pk)
    log.info("user %s assigned case %s to user %s", user.pk, case.pk, caseworker.pk)
    return case


def note_add(*, user, case: Case, body: str) -> CaseNote:
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=user, body=body)
        _event(case, CaseEvent.Kind.NOTE_ADDED, user, note=note.pk)
    return note


def order_record(*, user, case: Case, **fields) -> SupportOrder:
    with transaction.atomic():
        order = SupportOrder.objects.create(case=case, **fields)
        _event(case, CaseEvent.Kind.ORDER_RECORDED, user, order=order.pk)
    return order


def person_update(*, user, case: Case, person: Person, fields: dict, new_ssn: str = "") -> Person:
    """Correct a person's details. A new SSN replaces the sealed one (and its index)."""
    with transaction.atomic():
        changed = [name for name, value in fields.items() if getattr(person, name) != value]
        for name in changed:
            setattr(person, name, fields[name])
        if new_ssn:
            protected.seal(person, "ssn", new_ssn)
            changed += ["ssn", "ssn_index"]
        if changed:
            person.save(update_fields=changed)
            # Field names only, never values.
            _event(case, CaseEvent.Kind.EDITED, user, person=str(person.pk), fields=changed)
        if new_ssn:
            _carry_over_fvi(user=user, person=person, ssn=new_ssn)
    return person


def contact_end(*, user, case: Case, contact_point: ContactPoint, valid_to) -> ContactPoint:
    with transaction.atomic():
        contact_point.valid_to = valid_to
        contact_point.save(update_fields=["valid_to"])
        _event(
            case,
            CaseEvent.Kind.EDITED,
            user,
            person=str(contact_point.person_id),
            contact_point=str(contact_point.pk),
            fields=["valid_to"],
        )
    return contact_point


# --- Break the glass -----------------------------------------------------------------


class BreakGlassRefused(Exception):
    """The case cannot be opened this way; the message is safe to show, at
    ``field``."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def break_glass_open(*, user, case_number: str, reason: str, reason_text: str):
    """Open a case outside the user's scope for BREAK_GLASS_MINUTES, saying why.

    Recorded on the case's timeline and in the audit trail (the reason code; the
    explanation stays in the grant), and shown to the unit's supervisor. An attempt
    on a number that is no case is recorded too."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from accounts.audit import audit_record
    from cases.models import BreakGlassAccess, BreakGlassReason

    reason_text = (reason_text or "").strip()
    if reason not in BreakGlassReason.values:
        raise BreakGlassRefused(_("Choose the reason you need this case."), field="reason")
    if not reason_text:
        raise BreakGlassRefused(_("Explain why you need this case."), field="reason_text")
    case = Case.objects.filter(number=(case_number or "").strip().upper()).first()
    if case is None:
        audit_record(kind="break_glass_no_case", actor=user, reason=reason)
        raise BreakGlassRefused(
            _("No case has that number. Check it and try again."), field="number"
        )
    with transaction.atomic():
        grant = BreakGlassAccess.objects.create(
            user=user,
            case=case,
            reason=reason,
            reason_text=reason_text,
            expires_at=timezone.now() + dt.timedelta(minutes=settings.BREAK_GLASS_MINUTES),
        )
        _event(
            case,
            CaseEvent.Kind.BREAK_GLASS,
            user,
            grant=grant.pk,
            reason=reason,
            minutes=settings.BREAK_GLASS_MINUTES,
        )
    log.warning("user %s broke the glass on case %s (grant %s)", user.pk, case.pk, grant.pk)
    return grant
