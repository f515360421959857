"""Key rotation: every protected value moves to the newest key, in resumable
compare-and-swap batches, without losing, leaking or overwriting anything."""

from __future__ import annotations

import logging
import os
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import CaptureQueriesContext

from cases.models import ContactKind, ContactPoint, ContactSource, Person, ssn_digits
from safety import protected
from safety.rotation import rotate_encryption_keys

pytestmark = pytest.mark.django_db

# Synthetic: SSNs from the never-issued 9xx area, invented addresses.
SSNS = ["900-11-0001", "911-22-0002", "922-33-0003", "933-44-0004", "944-55-0005"]
ADDRESSES = [f"{n} Synthetic Way, Testville" for n in range(101, 106)]


def _people() -> list[Person]:
    people = []
    for ssn, address in zip(SSNS, ADDRESSES, strict=True):
        person = Person(first_name="Test", last_name="Rotation")
        protected.seal(person, "ssn", ssn)
        person.save()
        point = ContactPoint(
            person=person,
            kind=ContactKind.MAILING,
            valid_from=date(2026, 1, 1),
            source=ContactSource.SELF_REPORTED,
        )
        protected.seal(point, "value", address)
        point.save()
        people.append(person)
    # One person without an SSN: NULL is not stale and stays NULL.
    Person.objects.create(first_name="No", last_name="Ssn")
    return people


@pytest.fixture
def people():
    return _people()


@pytest.fixture
def new_key(settings, people):
    # Depends on people: the values are sealed under the old key first.
    old = dict(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = {"k-new": os.urandom(32), **old}
    return old


def _raw_tokens() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ssn FROM cases_person WHERE ssn IS NOT NULL "
            "UNION ALL SELECT value FROM cases_contactpoint"
        )
        return [row[0] for row in cursor.fetchall()]


def _revealed() -> tuple[set[str], set[str]]:
    ssns = {protected.reveal(p, "ssn") for p in Person.objects.exclude(ssn=None)}
    values = {protected.reveal(c, "value") for c in ContactPoint.objects.all()}
    return ssns, values


def _count_new(tokens: list[str]) -> int:
    return sum(token.startswith("sa1.k-new.") for token in tokens)


def test_rotation_moves_every_value_to_the_new_key(people, new_key, settings):
    result = rotate_encryption_keys()

    assert result.ok and not result.stopped_early
    assert result.key_id == "k-new"
    # Every model with protected fields is found (others have nothing stale here).
    assert {k: v for k, v in result.stale.items() if v} == {
        "cases.Person.ssn": 5,
        "cases.ContactPoint.value": 5,
    }
    assert "safety.AddressConfidentialityEnrollment.participant_id" in result.stale
    assert result.rotated == 10 and result.skipped == 0 and result.failed == 0
    tokens = _raw_tokens()
    assert len(tokens) == 10 and all(t.startswith("sa1.k-new.") for t in tokens)
    assert _revealed() == (set(SSNS), set(ADDRESSES))
    for person in Person.objects.exclude(ssn=None):
        plain = protected.reveal(person, "ssn")
        assert person.ssn_index == protected.blind_index(ssn_digits(plain), "k-new")
    assert Person.objects.get(first_name="No").ssn is None
    assert Person.objects.get(first_name="No").ssn_index is None

    # The old key can go now: everything still opens, and SSN lookup still finds.
    settings.FIELD_ENCRYPTION_KEYS = {"k-new": settings.FIELD_ENCRYPTION_KEYS["k-new"]}
    assert _revealed() == (set(SSNS), set(ADDRESSES))
    found = Person.objects.get(
        ssn_index__in=protected.blind_index_candidates(ssn_digits("900110001"))
    )
    assert protected.reveal(found, "ssn") == "900-11-0001"


def test_each_batch_writes_each_column_in_one_statement(people, new_key):
    with CaptureQueriesContext(connection) as queries:
        result = rotate_encryption_keys(batch_size=2)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    # 5 persons in batches of 2 (3 batches) + 5 contact points (3 batches).
    assert result.batches == 6
    assert len(updates) == 6


def test_rotation_resumes_and_a_finished_run_does_nothing(people, new_key):
    first = rotate_encryption_keys(batch_size=2, limit_batches=1)
    assert first.stopped_early and first.batches == 1 and first.rotated == 2
    assert _count_new(_raw_tokens()) == 2

    second = rotate_encryption_keys(batch_size=2)
    assert second.ok and not second.stopped_early
    assert second.stale_values == 8 and second.rotated == 8
    assert _count_new(_raw_tokens()) == 10

    third = rotate_encryption_keys(batch_size=2)
    assert third.stale_values == 0 and third.rotated == 0 and third.batches == 0
    assert _revealed() == (set(SSNS), set(ADDRESSES))


def test_reads_work_midway_through_a_rotation(people, new_key):
    rotate_encryption_keys(batch_size=2, limit_batches=2)
    tokens = _raw_tokens()
    assert 0 < _count_new(tokens) < len(tokens)  # a mixture of old and new
    assert _revealed() == (set(SSNS), set(ADDRESSES))
    # Search by SSN works for rotated and not-yet-rotated rows alike.
    for ssn in SSNS:
        candidates = protected.blind_index_candidates(ssn_digits(ssn))
        assert Person.objects.filter(ssn_index__in=candidates).count() == 1


def test_a_concurrent_edit_is_not_overwritten(people, new_key):
    edited = people[0]

    def concurrent_edit(model, pks):
        # Another member of staff corrects the SSN after the batch was read.
        if model is Person and edited.pk in pks:
            person = Person.objects.get(pk=edited.pk)
            protected.seal(person, "ssn", "955-66-0006")
            person.save()

    result = rotate_encryption_keys(before_write=concurrent_edit)

    assert result.skipped == 1 and result.rotated == 9 and result.ok
    person = Person.objects.get(pk=edited.pk)
    assert protected.reveal(person, "ssn") == "955-66-0006"
    assert person.ssn_index == protected.blind_index("955660006", "k-new")
    assert rotate_encryption_keys().stale_values == 0  # the edit is under the new key already


def test_a_value_edited_between_runs_is_left_as_edited(people, new_key):
    rotate_encryption_keys(batch_size=2, limit_batches=1)
    last = Person.objects.exclude(ssn=None).order_by("pk").last()  # not in the first batch
    protected.seal(last, "ssn", "966-77-0007")
    last.save()

    result = rotate_encryption_keys(batch_size=2)

    assert result.ok and result.rotated == 7  # 10 - 2 done - 1 already new after the edit
    assert protected.reveal(Person.objects.get(pk=last.pk), "ssn") == "966-77-0007"


def _tamper(point: ContactPoint) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM cases_contactpoint WHERE id = %s", [point.pk])
        token = cursor.fetchone()[0]
        flipped = "A" if token[-5] != "A" else "B"
        tampered = token[:-5] + flipped + token[-4:]
        cursor.execute(
            "UPDATE cases_contactpoint SET value = %s WHERE id = %s", [tampered, point.pk]
        )
    return tampered


def test_a_tampered_value_is_counted_not_overwritten_and_not_logged(people, new_key, caplog):
    point = ContactPoint.objects.get(person=people[2])
    tampered = _tamper(point)
    caplog.set_level(logging.DEBUG)

    result = rotate_encryption_keys(batch_size=2)

    assert not result.ok and result.failed == 1 and result.rotated == 9
    assert [str(f) for f in result.failures] == [f"cases_contactpoint.value row {point.pk}"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM cases_contactpoint WHERE id = %s", [point.pk])
        assert cursor.fetchone()[0] == tampered
    assert str(point.pk) in caplog.text
    assert tampered not in caplog.text and tampered[12:40] not in caplog.text
    assert ADDRESSES[2] not in caplog.text and "Synthetic Way" not in caplog.text
    for ssn in SSNS:
        assert ssn not in caplog.text and ssn_digits(ssn) not in caplog.text

    # The command reports it and exits non-zero; the value is still left alone.
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 protected values failed to open"):
        call_command("rotate_encryption_keys", stdout=out, stderr=err)
    assert f"cases_contactpoint.value row {point.pk}" in err.getvalue()
    assert tampered not in out.getvalue() + err.getvalue()
    assert _count_new(_raw_tokens()) == 9


def test_dry_run_counts_and_changes_nothing(people, new_key):
    before = _raw_tokens()
    out = StringIO()

    call_command("rotate_encryption_keys", "--dry-run", stdout=out)

    assert _raw_tokens() == before
    text = out.getvalue()
    assert "cases.Person.ssn: 5" in text and "cases.ContactPoint.value: 5" in text
    assert "10 values in 10 rows" in text
    result = rotate_encryption_keys(dry_run=True)
    assert result.rotated == 0 and result.batches == 0 and result.stale_values == 10


def test_the_command_rotates_and_reports(people, new_key, settings):
    out = StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "2", "--limit-batches", "1", stdout=out)
    assert "batch 1 (cases.Person): 2/10 rows" in out.getvalue()
    assert "run again to continue" in out.getvalue()

    out = StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "3", stdout=out)
    text = out.getvalue()
    assert "Rotated 8 values to key 'k-new'" in text
    assert "Every protected value is under the newest key." in text
    for ssn in SSNS:
        assert ssn not in text
    settings.FIELD_ENCRYPTION_KEYS = {"k-new": settings.FIELD_ENCRYPTION_KEYS["k-new"]}
    assert _revealed() == (set(SSNS), set(ADDRESSES))


def test_nothing_to_do_under_the_current_key(people):
    result = rotate_encryption_keys()
    assert result.stale_values == 0 and result.batches == 0 and result.ok


def test_the_command_refuses_a_bad_batch_size(db):
    with pytest.raises(CommandError):
        call_command("rotate_encryption_keys", "--batch-size", "0")


@pytest.mark.django_db(transaction=True)
def test_each_batch_commits_on_its_own(settings):
    """Outside a test transaction, as in production: another connection sees each
    batch as soon as it is written, so no transaction spans the run."""
    _people()
    settings.FIELD_ENCRYPTION_KEYS = {"k-new": os.urandom(32), **settings.FIELD_ENCRYPTION_KEYS}
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    seen = []

    def look_from_another_connection(model, pks):
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_person WHERE ssn LIKE %s", ["sa1.k-new.%"])
            seen.append(cursor.fetchone()[0])

    try:
        result = rotate_encryption_keys(batch_size=2, before_write=look_from_another_connection)
    finally:
        other.close()

    assert result.ok and result.rotated == 10
    assert seen[:3] == [0, 2, 4]  # before each person batch: the earlier ones are committed
    assert _revealed() == (set(SSNS), set(ADDRESSES))


@pytest.mark.django_db(transaction=True)
def test_reads_keep_working_while_a_rotation_runs_in_another_thread(settings):
    """A reader on its own connection decrypts every value again and again while
    the rotation commits batch after batch; no read fails, and the reader sees
    old and new keys side by side."""
    import threading

    for _ in range(8):
        _people()
    settings.FIELD_ENCRYPTION_KEYS = {"k-new": os.urandom(32), **settings.FIELD_ENCRYPTION_KEYS}
    done = threading.Event()
    outcome = {}

    def rotate():
        try:
            outcome["result"] = rotate_encryption_keys(
                batch_size=3, before_write=lambda model, pks: done.wait(0.01)
            )
        finally:
            connection.close()
            done.set()

    worker = threading.Thread(target=rotate)
    worker.start()
    reads, mixed = 0, 0
    try:
        while not done.is_set():
            points = list(ContactPoint.objects.all())
            keys = {p.value.key_id for p in points}
            mixed += len(keys) > 1
            assert {protected.reveal(p, "value") for p in points} == set(ADDRESSES)
            for person in Person.objects.exclude(ssn=None):
                assert protected.reveal(person, "ssn") in SSNS
            reads += 1
    finally:
        worker.join(timeout=60)
    result = outcome["result"]
    assert result.ok and result.remaining == 0
    assert reads > 1 and mixed >= 1, (reads, mixed)
    assert _revealed() == (set(SSNS), set(ADDRESSES))
