"""The audit trail's one write path. Call it inside the transaction of the action
it records: if the action rolls back, so does its record.

Records carry ids and codes only (never a name, an address, a number or free
text a person typed). The database chains and protects them
(accounts/sql/audit_v1.sql); ``manage.py verify_audit_chain`` checks the chain.
"""

from __future__ import annotations

import logging

from django.db import connection

from accounts.models import AuditEvent

log = logging.getLogger(__name__)


class Kind:
    """Event kinds that are not case timeline events (those use CaseEvent.Kind)."""

    SIGN_IN_FIRST_STEP = "sign_in_first_step"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_LOCKED = "sign_in_locked"
    SIGN_IN_VERIFIED = "sign_in_verified"
    OTP_FAILED = "otp_failed"
    SIGN_OUT = "sign_out"


def audit_record(*, kind: str, actor=None, case_id=None, person_id=None, **detail) -> AuditEvent:
    """Append one record. ``detail`` values must be ids, codes, counts or booleans."""
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        case_id=case_id,
        person_id=person_id,
        detail=detail,
    )


def audit_chain_breaks(limit: int = 1) -> tuple[int, list[tuple[int, str]]]:
    """Walk the chain in order; return (records checked, the first ``limit`` breaks
    as (seq, what is wrong)). A break is a record whose hash does not match its
    contents and predecessor, whose stored predecessor hash is not the previous
    record's hash, or a gap in the sequence (a record removed)."""
    breaks: list[tuple[int, str]] = []
    checked = 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT seq,
                   lag(seq) OVER w,
                   hash = audit_row_hash(prev_hash, seq, occurred_at, actor_id, kind,
                                         case_id, person_id, detail),
                   prev_hash = coalesce(lag(hash) OVER w, '\\x'::bytea)
              FROM accounts_auditevent
            WINDOW w AS (ORDER BY seq)
             ORDER BY seq
            """
        )
        while rows := cursor.fetchmany(5000):
            for seq, previous, hash_ok, link_ok in rows:
                checked += 1
                expected = 1 if previous is None else previous + 1
                if seq != expected:
                    breaks.append((seq, f"records {expected} to {seq - 1} are missing"))
                elif not hash_ok:
                    breaks.append((seq, "its contents do not match its hash"))
                elif not link_ok:
                    breaks.append((seq, "it is not chained to the record before it"))
                if len(breaks) >= limit:
                    return checked, breaks
    return checked, breaks
