"""The audit trail: append-only (the database refuses UPDATE and DELETE), hash-chained
(verify_audit_chain finds the first broken link), written in the transaction of the
action it records, chained in one order under concurrent writers, and fed by
sign-ins, code failures, lockouts, reveals and every safety decision, with ids
only, never a protected value."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.audit import audit_chain_breaks, audit_record
from accounts.models import AuditEvent
from cases.models import CaseEvent
from safety import services as safety_services
from tests.conftest import verified_client
from tests.factories import TEST_PASSWORD, UnitFactory, UserFactory, full_case

CANARY = "61 Canary Hollow Road"  # synthetic


def _tamper(sql: str, params=()):
    """What an intruder with the table owner's rights would have to do."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before ALTER
        cursor.execute("ALTER TABLE accounts_auditevent DISABLE TRIGGER audit_append_only")
        cursor.execute("GRANT UPDATE, DELETE ON accounts_auditevent TO CURRENT_USER")
        cursor.execute(sql, params)
        cursor.execute("REVOKE UPDATE, DELETE ON accounts_auditevent FROM CURRENT_USER")
        cursor.execute("ALTER TABLE accounts_auditevent ENABLE TRIGGER audit_append_only")


@pytest.mark.django_db
def test_records_are_chained_in_order_and_the_chain_verifies():
    user = UserFactory(username="audit-1")
    for n in range(5):
        audit_record(kind="test_event", actor=user, number=n)
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert bytes(rows[0].prev_hash) == b""
    for before, after in zip(rows, rows[1:], strict=False):
        assert bytes(after.prev_hash) == bytes(before.hash) and len(bytes(after.hash)) == 32
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert out.getvalue().strip() == "audit chain intact: 5 records"


@pytest.mark.django_db
def test_the_database_refuses_to_change_or_delete_a_record():
    audit_record(kind="test_event", number=1)
    for statement in (
        "UPDATE accounts_auditevent SET kind = 'other'",
        "DELETE FROM accounts_auditevent",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    # Even with the privilege given back, the trigger refuses.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("GRANT UPDATE ON accounts_auditevent TO CURRENT_USER")
        cursor.execute("UPDATE accounts_auditevent SET kind = 'other'")
    assert AuditEvent.objects.get().kind == "test_event"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tampering", "broken_at", "message"),
    [
        ("UPDATE accounts_auditevent SET detail = '{\"number\": 99}' WHERE seq = 3", 3, "contents"),
        ("DELETE FROM accounts_auditevent WHERE seq = 4", 5, "records 4 to 4 are missing"),
        (
            "UPDATE accounts_auditevent SET prev_hash = '\\x00' WHERE seq = 2",
            2,
            "contents",
        ),
    ],
    ids=["changed", "removed", "relinked"],
)
def test_verify_reports_the_first_broken_link(tampering, broken_at, message):
    for n in range(6):
        audit_record(kind="test_event", number=n)
    _tamper(tampering)
    checked, breaks = audit_chain_breaks()
    assert breaks[0][0] == broken_at and message in breaks[0][1]
    with pytest.raises(CommandError, match=f"broken at record {broken_at}"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_a_record_rewritten_with_a_consistent_hash_still_breaks_the_next_link():
    for n in range(4):
        audit_record(kind="test_event", number=n)
    _tamper(
        "UPDATE accounts_auditevent SET detail = '{\"number\": 7}', "
        "hash = audit_row_hash(prev_hash, seq, occurred_at, actor_id, kind, case_id, "
        "person_id, '{\"number\": 7}') WHERE seq = 2"
    )
    _checked, breaks = audit_chain_breaks()
    assert breaks == [(3, "it is not chained to the record before it")]


@pytest.mark.django_db
def test_a_record_rolls_back_with_its_action():
    user = UserFactory(username="audit-rb")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(kind="test_event", actor=user)
        raise RuntimeError("the action failed")
    assert not AuditEvent.objects.exists()
    audit_record(kind="test_event", actor=user)
    assert AuditEvent.objects.get().seq == 1  # no gap left by the rolled-back one


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_unbroken_chain():
    user = UserFactory(username="audit-race")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(n):
        try:
            start.wait()
            for i in range(10):
                with transaction.atomic():
                    audit_record(kind="test_event", actor=user, writer=n, i=i)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    checked, breaks = audit_chain_breaks()
    assert (checked, breaks) == (80, [])
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 81))


@pytest.mark.django_db
def test_sign_ins_code_failures_and_lockouts_are_recorded(settings):
    user = UserFactory(username="audit-sign-in", role="caseworker")
    client = Client()
    login = reverse("accounts:login")
    client.post(login, {"username": "audit-sign-in", "password": "wrong-password-1"})
    client.post(login, {"username": "nobody-here", "password": "wrong-password-1"})
    client.post(login, {"username": "audit-sign-in", "password": TEST_PASSWORD})
    client.post(reverse("accounts:otp"), {"code": "000000"})
    kinds = list(AuditEvent.objects.order_by("seq").values_list("kind", "actor_id", "detail"))
    assert kinds[0] == ("sign_in_failed", user.pk, {"known_user": True})
    assert kinds[1] == ("sign_in_failed", None, {"known_user": False})
    assert kinds[2][:2] == ("sign_in_first_step", user.pk)
    assert kinds[3][:2] == ("otp_failed", user.pk)
    # Five failures lock the username; the lockout is recorded.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(login, {"username": "audit-sign-in", "password": "wrong-password-1"})
    assert AuditEvent.objects.filter(kind="sign_in_locked", actor=user).exists()
    assert "nobody-here" not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


@pytest.mark.django_db
def test_reveals_and_safety_decisions_are_recorded_with_ids_only(caseworker, supervisor):
    unit = UnitFactory(supervisor=supervisor)
    unit.caseworkers.add(caseworker)
    case = full_case(caseworker=caseworker, unit=unit, address=CANARY)
    survivor = case.participants.get(role="custodial_parent").person
    point = survivor.contact_points.get()
    client = verified_client(caseworker)
    reveal = reverse("cases:contact_reveal", args=[case.pk, point.pk])
    assert CANARY in client.post(reveal, {"reason": "safety"}).content.decode()
    safety_services.fvi_set(user=caseworker, person=survivor, reason="dv_disclosed")
    seen = AuditEvent.objects.get(kind="contact_revealed")
    assert (seen.actor_id, seen.case_id, seen.person_id) == (caseworker.pk, case.pk, survivor.pk)
    assert seen.detail["field"] == "contact:residential" and seen.detail["reason"] == "safety"
    flagged = AuditEvent.objects.get(kind="fvi_set")
    assert (flagged.case_id, flagged.person_id) == (case.pk, survivor.pk)
    # Every timeline event has its audit record, pointing back at it.
    events = set(CaseEvent.objects.values_list("pk", flat=True))
    audited = {a.detail.get("event") for a in AuditEvent.objects.filter(case_id=case.pk)}
    assert events <= audited
    dump = str(list(AuditEvent.objects.values_list("kind", "detail", "person_id")))
    assert CANARY not in dump and "900-55-1234" not in dump and survivor.last_name not in dump
    call_command("verify_audit_chain", stdout=StringIO())
