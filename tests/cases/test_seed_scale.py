"""seed_scale: synthetic cases at scale loaded with COPY. Counts, shape, sealed
values that open, never-issued SSNs, numbering across runs, sequences the ORM can
keep using, and a name search that has a true "Rodriguez" to find."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from accounts import roles
from accounts.models import User
from cases import scale
from cases.models import (
    CUSTODIAL_ROLES,
    Case,
    CaseEvent,
    ContactKind,
    ContactPoint,
    Participant,
    ParticipantRole,
    Person,
    Remedy,
    RemedyStatus,
    SupportOrder,
    Unit,
    ssn_digits,
)
from safety import protected
from safety.protected import blind_index

pytestmark = pytest.mark.django_db

PHONE = re.compile(r"^\(\d{3}\) 555-01\d{2}$")


def _counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "persons": Person.objects.count(),
        "participants": Participant.objects.count(),
        "contact_points": ContactPoint.objects.count(),
        "orders": SupportOrder.objects.count(),
        "remedies": Remedy.objects.count(),
        "events": CaseEvent.objects.count(),
    }


def _grew(before: dict[str, int], result: scale.ScaleResult) -> dict[str, int]:
    return {key: before[key] + getattr(result, key) for key in before}


@pytest.fixture
def seeded():
    before = _counts()
    result = scale.seed_cases(cases=50, chunk_size=20, seed=11)
    return before, result


def test_counts_match_what_was_loaded(seeded):
    before, result = seeded
    assert result.cases == 50
    assert _counts() == _grew(before, result)
    assert result.orders == result.events == 50
    # 2 parents-or-carers and 1-3 children per case; 1-6 contact points per case.
    assert 3 * 50 <= result.persons == result.participants <= 5 * 50
    assert 50 <= result.contact_points <= 6 * 50
    assert (result.first_number, result.last_number) == ("SC-000000001", "SC-000000050")


def test_every_case_has_its_parties_an_order_an_opened_event(seeded):
    cases = Case.objects.filter(number__startswith="SC-")
    assert cases.count() == 50
    roles_by_case: dict[int, Counter] = {}
    for case_id, role in Participant.objects.filter(case__in=cases).values_list("case", "role"):
        roles_by_case.setdefault(case_id, Counter())[role] += 1
    assert len(roles_by_case) == 50
    for counts in roles_by_case.values():
        assert sum(counts[r] for r in CUSTODIAL_ROLES) == 1
        assert counts[ParticipantRole.NONCUSTODIAL_PARENT] == 1
        assert 1 <= counts[ParticipantRole.CHILD] <= 3
    for case in cases.prefetch_related("orders", "events"):
        assert case.caseworker.username.startswith("scale-cw-")
        assert case.unit.office_id == case.office_id
        assert len(case.orders.all()) == 1
        assert [e.kind for e in case.events.all()] == [CaseEvent.Kind.OPENED]
        assert case.closed_on is None or case.closed_on >= case.opened_on


def test_remedies_are_pending_with_a_next_action_date(seeded):
    remedies = Remedy.objects.filter(case__number__startswith="SC-")
    assert remedies.exists()
    assert set(remedies.values_list("status", flat=True)) == {RemedyStatus.PENDING}
    assert not remedies.filter(next_action_on__isnull=True).exists()
    today = timezone.localdate()
    for due in remedies.values_list("next_action_on", flat=True):
        assert today - dt.timedelta(days=30) <= due <= today + dt.timedelta(days=120)


def test_ssns_are_never_issued_and_their_blind_index_matches(seeded):
    people = Person.objects.filter(participations__case__number__startswith="SC-").distinct()
    with_ssn = [p for p in people if p.ssn is not None]
    assert len(with_ssn) > 0.8 * people.count()
    plaintexts = []
    for person in with_ssn:
        ssn = protected.reveal(person, "ssn")
        assert re.fullmatch(r"9\d{2}\d{2}\d{4}", ssn), "area 900-999 only"
        assert ssn[3:5] != "00" and ssn[5:] != "0000"
        assert person.ssn_index == blind_index(ssn_digits(ssn))
        plaintexts.append(ssn)
    assert len(set(plaintexts)) == len(plaintexts)
    # The index finds the row without decrypting anything.
    target = with_ssn[0]
    found = Person.objects.get(ssn_index=blind_index(protected.reveal(target, "ssn")))
    assert found.pk == target.pk


def test_contact_values_open_and_are_synthetic(seeded):
    points = ContactPoint.objects.filter(
        person__participations__case__number__startswith="SC-"
    ).order_by("id")[:60]
    seen = set()
    for point in points:
        value = protected.reveal(point, "value")
        seen.add(point.kind)
        if point.kind == ContactKind.PHONE:
            assert PHONE.match(value)
        elif point.kind == ContactKind.EMAIL:
            assert value.endswith("@example.invalid")
        elif point.kind == ContactKind.EMPLOYER:
            assert "(synthetic)" in value
        else:
            assert "Testville" in value
        assert point.created_by.username.startswith("scale-cw-")
        assert point.valid_to is None
    assert {ContactKind.MAILING, ContactKind.PHONE} <= seen


def test_a_sealed_value_moved_to_another_row_does_not_open(seeded):
    a, b = ContactPoint.objects.order_by("id")[:2]
    b.value = a.value
    with pytest.raises(protected.ProtectedValueError):
        protected.reveal(b, "value")


def test_trigram_search_finds_rodriguez_from_a_typo(seeded):
    found = set(
        Person.objects.filter(last_name__trigram_similar="Rodrigez").values_list(
            "last_name", flat=True
        )
    )
    assert "Rodriguez" in found


def test_surnames_are_spread_and_synthetic(seeded):
    names = Counter(Person.objects.values_list("last_name", flat=True))
    assert len(names) > 30  # a spread, not one family name
    assert all(
        n in scale.SYLLABLE_SURNAMES or n in scale.HISPANIC_SURNAMES or n == "Testperson"
        for n in names
    )


def test_a_second_run_continues_the_numbers_and_reuses_the_staff(seeded):
    before, first = seeded
    staff = User.objects.filter(username__startswith="scale-").count()
    second = scale.seed_cases(cases=30, chunk_size=7, seed=12)
    assert (second.first_number, second.last_number) == ("SC-000000051", "SC-000000080")
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == before["cases"] + 80
    assert _counts() == _grew(_grew(before, first), second)
    assert User.objects.filter(username__startswith="scale-").count() == staff


def test_sequences_stay_usable_by_the_orm(seeded):
    existing = Case.objects.order_by("-id").first()
    case = Case.objects.create(
        number="ORM-1",
        office_id=existing.office_id,
        unit_id=existing.unit_id,
        opened_on=dt.date(2025, 1, 2),
    )
    assert case.pk > existing.pk
    person = Person.objects.create(first_name="Orm", last_name="Testperson")
    participant = Participant.objects.create(
        case=case, person=person, role=ParticipantRole.CUSTODIAL_PARENT
    )
    assert participant.pk > Participant.objects.exclude(pk=participant.pk).latest("id").pk
    order = SupportOrder.objects.create(
        case=case, amount=100, frequency="monthly", court="Test Court", order_date=case.opened_on
    )
    assert order.pk
    assert Remedy.objects.create(case=case, kind="lien", status=RemedyStatus.PENDING).pk
    assert CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.OPENED).pk


def test_scale_staff_have_roles_and_cannot_sign_in(seeded):
    caseworkers = User.objects.filter(username__startswith="scale-cw-")
    supervisors = User.objects.filter(username__startswith="scale-sup-")
    assert caseworkers.count() == scale.DEFAULT_CASEWORKERS
    assert supervisors.count() == len(scale.OFFICES) * len(scale.UNIT_NAMES)
    for user in [*caseworkers, *supervisors]:
        assert not user.has_usable_password()
        assert not user.totpdevice_set.exists()
    assert all(u.groups.filter(name=roles.CASEWORKER).exists() for u in caseworkers)
    assert all(u.groups.filter(name=roles.SUPERVISOR).exists() for u in supervisors)
    assert all(
        unit.supervisor.username.startswith("scale-sup-")
        for unit in Unit.objects.filter(office__code__startswith="SCALE-")
    )


def test_the_same_seed_makes_the_same_people():
    assignments = [scale.Assignment(1, 1, 1, "Testcounty")]
    today, now = dt.date(2026, 1, 15), timezone.now()

    def people(seed):
        chunk = scale.chunk_build(
            rng=random.Random(seed),  # noqa: S311
            assignments=assignments,
            seqs=range(1, 41),
            case_ids=list(range(1, 41)),
            today=today,
            now=now,
        )
        # Names, dates of birth, language; ids and sealed tokens are random each time.
        return [(row[1], row[2], row[3], row[4], row[7]) for row in chunk.rows[scale.PERSONS]]

    assert people(3) == people(3)
    assert people(3) != people(4)


def test_ssn_mapping_is_one_to_one_and_never_issued():
    ssns = [scale.synthetic_ssn(n) for n in range(0, 200_000)]
    assert len(set(ssns)) == len(ssns)
    assert all(s[0] == "9" and len(s) == 9 and s[3:5] != "00" and s[5:] != "0000" for s in ssns)


def test_the_command_loads_and_reports(settings):
    out = io.StringIO()
    call_command("seed_scale", "--cases", "25", "--chunk-size", "10", "--seed", "1", stdout=out)
    text = out.getvalue()
    assert "Loaded 25 cases (SC-000000001 to SC-000000025)" in text
    assert text.count("cases/s") >= 3
    assert Case.objects.filter(number__startswith="SC-").count() == 25


def test_the_command_refuses_without_demo_tools(settings):
    settings.DEMO_TOOLS = False
    with pytest.raises(CommandError, match="DEMO_TOOLS"):
        call_command("seed_scale", "--cases", "5", stdout=io.StringIO())
    assert not Case.objects.filter(number__startswith="SC-").exists()


def test_the_command_refuses_zero_cases():
    with pytest.raises(CommandError):
        call_command("seed_scale", "--cases", "0", stdout=io.StringIO())


def test_pipeline_is_refused_inside_a_transaction():
    with pytest.raises(scale.SeedScaleError, match="autocommit"):
        scale.seed_cases(cases=5, pipeline=True)


def test_a_run_is_refused_while_another_holds_the_lock():
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [scale._LOCK_KEY])
        with pytest.raises(scale.SeedScaleError, match="another seed_scale"):
            scale.seed_cases(cases=5)
    finally:
        other.close()
    assert not Case.objects.filter(number__startswith="SC-").exists()


@pytest.mark.django_db(transaction=True)
def test_pipelined_load_commits_every_chunk():
    # A transactional test empties every table, the role groups too.
    for role in roles.ALL_ROLES:
        Group.objects.get_or_create(name=role)
    seen = []
    result = scale.seed_cases(
        cases=45,
        chunk_size=10,
        seed=5,
        caseworkers=3,
        pipeline=True,
        progress=lambda r, total: seen.append((r.cases, total)),
    )
    assert seen == [(10, 45), (20, 45), (30, 45), (40, 45), (45, 45)]
    assert not connection.in_atomic_block
    assert Case.objects.filter(number__startswith="SC-").count() == 45 == result.cases
    assert Participant.objects.count() == result.participants
    assert ContactPoint.objects.count() == result.contact_points
    assert Remedy.objects.count() == result.remedies
    # The next case the ORM makes gets a fresh id.
    latest = Case.objects.latest("id")
    case = Case.objects.create(
        number="ORM-2",
        office_id=latest.office_id,
        unit_id=latest.unit_id,
        opened_on=dt.date(2025, 1, 2),
    )
    assert case.pk > latest.pk
