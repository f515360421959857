"""Field-level encryption: what is stored, what opens, and what refuses to."""

from __future__ import annotations

import base64
import logging
import os
from datetime import date

import pytest
from django.db import connection, transaction

from cases.models import ContactKind, ContactPoint, ContactSource, Person
from safety import protected
from safety.protected import MASK, ProtectedValueError, Sealed

pytestmark = pytest.mark.django_db

CANARY = "742 Canary Lane, Apt ∆7, Nowhere Springs"  # synthetic


def _person(**kwargs) -> Person:
    person = Person(first_name="Test", last_name="Synthetic", **kwargs)
    return person


def _contact(person: Person, text: str = CANARY) -> ContactPoint:
    point = ContactPoint(
        person=person,
        kind=ContactKind.RESIDENTIAL,
        valid_from=date(2026, 1, 1),
        source=ContactSource.SELF_REPORTED,
    )
    protected.seal(point, "value", text)
    point.save()
    return point


def _raw(table: str, column: str, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_round_trip_and_what_the_database_holds():
    person = _person()
    protected.seal(person, "ssn", "900-12-3456")
    person.save()
    point = _contact(person)

    stored = _raw("cases_contactpoint", "value", point.pk)
    assert CANARY not in stored and "Canary" not in stored
    assert stored.startswith(f"sa1.{protected.newest_key_id()}.")
    fresh = ContactPoint.objects.get(pk=point.pk)
    assert isinstance(fresh.value, Sealed)
    assert protected.reveal(fresh, "value") == CANARY
    assert protected.reveal(Person.objects.get(pk=person.pk), "ssn") == "900-12-3456"
    assert "3456" not in _raw("cases_person", "ssn", person.pk)
    assert "3456" not in (Person.objects.get(pk=person.pk).ssn_index or "")


def test_a_sealed_value_prints_as_a_mask():
    point = _contact(_saved_person())
    assert str(point.value) == MASK
    assert CANARY not in repr(point.value)
    assert f"{point.value}" == MASK


def _saved_person() -> Person:
    person = _person()
    person.save()
    return person


def test_plaintext_can_never_be_assigned_directly():
    person = _saved_person()
    with pytest.raises(TypeError):
        ContactPoint(
            person=person,
            kind=ContactKind.PHONE,
            valid_from=date(2026, 1, 1),
            source=ContactSource.SELF_REPORTED,
            value="555-0100",
        )
    point = _contact(person)
    with pytest.raises(TypeError):
        point.value = "555-0100"
    with pytest.raises(TypeError), transaction.atomic():
        ContactPoint.objects.filter(pk=point.pk).update(value="555-0100")
    assert protected.reveal(ContactPoint.objects.get(pk=point.pk), "value") == CANARY


def test_same_value_seals_differently_each_time():
    person = _saved_person()
    assert _contact(person).value.token.split(".")[2] != _contact(person).value.token.split(".")[2]


def test_a_token_moved_to_another_row_fails_to_open(caplog):
    victim = _contact(_saved_person())
    other = _contact(_saved_person(), "1 Other Street")
    ContactPoint.objects.filter(pk=other.pk).update(value=victim.value)
    moved = ContactPoint.objects.get(pk=other.pk)
    with caplog.at_level(logging.WARNING), pytest.raises(ProtectedValueError) as error:
        protected.reveal(moved, "value")
    assert CANARY not in str(error.value)
    assert str(other.pk) in str(error.value)
    assert CANARY not in caplog.text and "failed to open" in caplog.text


def test_a_token_moved_to_another_column_fails_to_open():
    person = _person()
    protected.seal(person, "ssn", "900-12-3456")
    person.save()
    point = _contact(person)
    # Give the contact point the person's SSN token, and the person's SSN column
    # the contact's token: table, column and row are all bound in.
    ContactPoint.objects.filter(pk=point.pk).update(value=Person.objects.get(pk=person.pk).ssn)
    Person.objects.filter(pk=person.pk).update(ssn=point.value)
    with pytest.raises(ProtectedValueError):
        protected.reveal(ContactPoint.objects.get(pk=point.pk), "value")
    with pytest.raises(ProtectedValueError):
        protected.reveal(Person.objects.get(pk=person.pk), "ssn")


def test_a_tampered_token_raises_and_logs_no_value(caplog):
    point = _contact(_saved_person())
    prefix, key_id, body = point.value.token.split(".", 2)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[20] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    ContactPoint.objects.filter(pk=point.pk).update(value=Sealed(f"{prefix}.{key_id}.{tampered}"))
    with caplog.at_level(logging.WARNING), pytest.raises(ProtectedValueError):
        protected.reveal(ContactPoint.objects.get(pk=point.pk), "value")
    assert CANARY not in caplog.text
    for garbage in ("sa1.", "sa1.nokey", f"sa1.{key_id}.!!!", f"sa2.{key_id}.{body}"):
        ContactPoint.objects.filter(pk=point.pk).update(value=Sealed(garbage))
        with pytest.raises(ProtectedValueError):
            protected.reveal(ContactPoint.objects.get(pk=point.pk), "value")


def test_unknown_key_id_raises(settings):
    point = _contact(_saved_person())
    settings.FIELD_ENCRYPTION_KEYS = {"knew": os.urandom(32)}
    with pytest.raises(ProtectedValueError, match="unknown key id"):
        protected.reveal(ContactPoint.objects.get(pk=point.pk), "value")


def test_a_new_key_seals_while_old_values_still_open(settings):
    old = _contact(_saved_person())
    settings.FIELD_ENCRYPTION_KEYS = {"k-next": os.urandom(32), **settings.FIELD_ENCRYPTION_KEYS}
    new = _contact(_saved_person(), "2 New Road")
    assert new.value.key_id == "k-next"
    assert old.value.key_id != "k-next"
    assert protected.reveal(ContactPoint.objects.get(pk=old.pk), "value") == CANARY
    assert protected.reveal(ContactPoint.objects.get(pk=new.pk), "value") == "2 New Road"


def test_blind_index_matches_the_same_ssn_however_written(settings):
    person = _person()
    protected.seal(person, "ssn", "900-12-3456")
    person.save()
    wanted = protected.blind_index_candidates("900123456")
    assert Person.objects.filter(ssn_index__in=wanted).get() == person
    assert not Person.objects.filter(
        ssn_index__in=protected.blind_index_candidates("900123457")
    ).exists()
    # After a new key is added, the old index still matches through the candidates.
    settings.FIELD_ENCRYPTION_KEYS = {"k-next": os.urandom(32), **settings.FIELD_ENCRYPTION_KEYS}
    assert Person.objects.filter(
        ssn_index__in=protected.blind_index_candidates("900123456")
    ).exists()


def test_blank_values_store_null():
    person = _person()
    protected.seal(person, "ssn", "")
    person.save()
    fresh = Person.objects.get(pk=person.pk)
    assert fresh.ssn is None and fresh.ssn_index is None
    assert protected.reveal(fresh, "ssn") is None
