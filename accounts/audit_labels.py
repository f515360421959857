"""Readable labels for audit records: event kinds, detail keys and coded values.
The records hold ids and codes only (docs/decisions/0010-audit-trail.md)."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import roles
from accounts.audit import Kind
from cases.models import (
    BreakGlassReason,
    CaseEvent,
    ContactKind,
    ParticipantRole,
    RemedyKind,
    RevealReason,
)

AUDIT_EXPORT = "audit_export"

# Kinds written by accounts (sign-in, staff administration, this export); case
# timeline kinds take CaseEvent.Kind's labels.
ACCOUNT_KIND_LABELS = {
    Kind.SIGN_IN_FIRST_STEP: gettext_lazy("Password accepted (first sign-in step)"),
    Kind.SIGN_IN_FAILED: gettext_lazy("Sign-in failed"),
    Kind.SIGN_IN_LOCKED: gettext_lazy("Sign-in locked out"),
    Kind.SIGN_IN_VERIFIED: gettext_lazy("Signed in with a one-time code"),
    Kind.OTP_FAILED: gettext_lazy("One-time code refused"),
    Kind.SIGN_OUT: gettext_lazy("Signed out"),
    "staff_created": gettext_lazy("Staff account created"),
    "staff_access_changed": gettext_lazy("Staff access changed"),
    "break_glass_no_case": gettext_lazy("Tried to open a case number that does not exist"),
    AUDIT_EXPORT: gettext_lazy("Audit trail exported"),
}
# Null actor: a sign-in under a username that names no account, or the system.
UNKNOWN_ACCOUNT_KINDS = {Kind.SIGN_IN_FAILED, Kind.SIGN_IN_LOCKED}


def kind_labels() -> dict[str, str]:
    return {**dict(CaseEvent.Kind.choices), **ACCOUNT_KIND_LABELS}


# --- Detail: ids and codes, with a readable label where there is one ---------------

DETAIL_LABELS = {
    "field": gettext_lazy("Field"),
    "fields": gettext_lazy("Fields"),
    "reason": gettext_lazy("Reason"),
    "role": gettext_lazy("Role"),
    "outcome": gettext_lazy("Outcome"),
    "remedy": gettext_lazy("Remedy"),
    "held": gettext_lazy("Remedies held"),
    "reasons": gettext_lazy("Hold reasons"),
    "pause": gettext_lazy("Paused"),
    "closure": gettext_lazy("Closure asked"),
    "result": gettext_lazy("Result"),
    "known_user": gettext_lazy("Known account"),
    "roles_added": gettext_lazy("Roles added"),
    "roles_removed": gettext_lazy("Roles removed"),
    "is_active": gettext_lazy("Active"),
    "is_staff": gettext_lazy("Administration access"),
    "subject": gettext_lazy("Trail of"),
    "subject_id": gettext_lazy("Subject id"),
    "rows": gettext_lazy("Rows"),
    "person": gettext_lazy("Person"),
    "contact_point": gettext_lazy("Contact point"),
    "access": gettext_lazy("Reveal record"),
    "event": gettext_lazy("Timeline event"),
    "note": gettext_lazy("Note"),
    "order": gettext_lazy("Order"),
    "hold": gettext_lazy("Court hold"),
    "notice": gettext_lazy("Notice"),
    "decision": gettext_lazy("Decision"),
    "grant": gettext_lazy("Break-the-glass grant"),
    "acp_enrollment": gettext_lazy("ACP enrolment"),
    "fvi": gettext_lazy("Flag"),
    "request": gettext_lazy("Removal request"),
    "effective": gettext_lazy("Takes effect"),
    "caseworker": gettext_lazy("Caseworker (user id)"),
    "previous": gettext_lazy("Previous caseworker (user id)"),
    "staff": gettext_lazy("Staff member (user id)"),
}


def _reason_labels(kind: str) -> dict:
    from safety.models import FviReason

    if kind == CaseEvent.Kind.CONTACT_REVEALED:
        return dict(RevealReason.choices)
    if kind in (CaseEvent.Kind.BREAK_GLASS, "break_glass_no_case"):
        return dict(BreakGlassReason.choices)
    if kind == CaseEvent.Kind.FVI_SET:
        return dict(FviReason.choices)
    return {}


def _field_label(code: str) -> str:
    if code == "ssn:last4":
        return _("SSN, last four digits")
    if code.startswith("contact:"):
        return str(dict(ContactKind.choices).get(code.removeprefix("contact:"), code))
    return code


def _value_labels(kind: str, key: str) -> dict:
    from safety.gate import REASON_LABELS
    from safety.models import SafetyReview

    return {
        "reason": _reason_labels(kind),
        "role": dict(ParticipantRole.choices),
        "outcome": dict(SafetyReview.Outcome.choices),
        "remedy": {**dict(RemedyKind.choices), "all": _("All remedies")},
        "held": dict(RemedyKind.choices),
        "reasons": REASON_LABELS,
        "roles_added": roles.LABELS,
        "roles_removed": roles.LABELS,
        "subject": {"person": _("a person"), "staff": _("a member of staff")},
    }.get(key, {})


def _shown(value, labels: dict) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_shown(v, labels) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(labels.get(value, value))


def detail_items(kind: str, detail: dict, *, person_id=None) -> list[tuple[str, str]]:
    """(label, value) pairs for a record's detail. The person the row already names
    is left out."""
    items = []
    for key in sorted(detail or {}):
        value = detail[key]
        if key == "person" and person_id is not None and str(value) == str(person_id):
            continue
        if key == "field" and isinstance(value, str):
            shown = _field_label(value)
        else:
            shown = _shown(value, _value_labels(kind, key))
        items.append((str(DETAIL_LABELS.get(key, key)), shown))
    return items
