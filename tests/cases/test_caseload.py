"""The caseload: scoped to the user, sorted, filtered, paged, constant queries;
and case search, which POSTs its terms and tolerates typos."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import roles
from cases.models import Case, CaseStatus, Participant, ParticipantRole, Person
from tests.conftest import verified_client
from tests.factories import OfficeFactory, UnitFactory, UserFactory, full_case

pytestmark = pytest.mark.django_db
CASELOAD = reverse("cases:caseload")
SEARCH = reverse("cases:search")


@pytest.fixture
def unit(supervisor):
    return UnitFactory(supervisor=supervisor)


@pytest.fixture
def other_worker():
    return UserFactory(username="cw-other", role=roles.CASEWORKER)


def _bulk_cases(n: int, *, caseworker, unit, prefix="BK") -> list[Case]:
    cases = Case.objects.bulk_create(
        Case(
            number=f"{prefix}-{i:05d}",
            office=unit.office,
            unit=unit,
            caseworker=caseworker,
            opened_on=dt.date(2024, 1, 1) + dt.timedelta(days=i),
            program_snap=bool(i % 2),
        )
        for i in range(n)
    )
    people = Person.objects.bulk_create(
        Person(first_name=f"Bulk{i}", last_name="Testperson") for i in range(n)
    )
    Participant.objects.bulk_create(
        Participant(case=c, person=p, role=ParticipantRole.CUSTODIAL_PARENT)
        for c, p in zip(cases, people, strict=True)
    )
    return cases


def _numbers(response) -> list[str]:
    return [c.number for c in response.context["cases"]]


def test_caseworker_sees_only_their_own_cases(caseworker, other_worker, unit):
    mine = full_case(caseworker=caseworker, unit=unit)
    theirs = full_case(caseworker=other_worker, unit=unit)
    response = verified_client(caseworker).get(CASELOAD)
    assert response.status_code == 200
    assert _numbers(response) == [mine.number]
    html = response.content.decode()
    assert mine.number in html and theirs.number not in html
    assert "1 case" in html


def test_supervisor_sees_the_whole_unit_and_no_other(supervisor, caseworker, other_worker, unit):
    a = full_case(caseworker=caseworker, unit=unit)
    b = full_case(caseworker=other_worker, unit=unit)
    elsewhere = full_case(caseworker=other_worker)  # another unit
    response = verified_client(supervisor).get(CASELOAD)
    assert sorted(_numbers(response)) == sorted([a.number, b.number])
    assert elsewhere.number not in response.content.decode()
    assert "Unit caseload" in response.content.decode()


def test_filters_sorting_and_paging(caseworker, unit):
    _bulk_cases(30, caseworker=caseworker, unit=unit)
    client = verified_client(caseworker)
    first = client.get(CASELOAD)
    assert len(first.context["cases"]) == 25
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(CASELOAD, {"page": 2})
    assert len(second.context["cases"]) == 5

    newest_first = client.get(CASELOAD, {"sort": "-opened"})
    assert _numbers(newest_first)[0] == "BK-00029"
    assert 'aria-sort="descending"' in newest_first.content.decode()

    snap = client.get(CASELOAD, {"program": "program_snap"})
    assert snap.context["page"].paginator.count == 15
    Case.objects.filter(number="BK-00001").update(status=CaseStatus.CLOSED)
    closed = client.get(CASELOAD, {"status": "closed"})
    assert _numbers(closed) == ["BK-00001"]

    other_county = OfficeFactory(code="OFX", county="Othershire")
    Case.objects.filter(number="BK-00002").update(office=other_county)
    by_county = client.get(CASELOAD, {"county": "Othershire"})
    assert _numbers(by_county) == ["BK-00002"]


def test_bad_filter_values_change_nothing_and_do_not_fail(caseworker, unit):
    _bulk_cases(3, caseworker=caseworker, unit=unit)
    client = verified_client(caseworker)
    for params in (
        {"status": "nonsense"},
        {"program": "is_superuser"},
        {"county": "<script>"},
        {"sort": "caseworker__password"},
        {"page": "-1"},
        {"page": "x" * 500},
    ):
        response = client.get(CASELOAD, params)
        assert response.status_code == 200, params
        assert "<script>" not in response.content.decode()


@pytest.mark.parametrize("role", [roles.CASEWORKER, roles.SUPERVISOR])
def test_caseload_queries_do_not_grow_with_the_caseload(role, caseworker, supervisor, unit):
    user = caseworker if role == roles.CASEWORKER else supervisor
    client = verified_client(user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CASELOAD).status_code == 200
        return len(queries)

    _bulk_cases(5, caseworker=caseworker, unit=unit, prefix="S")
    small = count()
    _bulk_cases(495, caseworker=caseworker, unit=unit, prefix="L")
    assert count() == small
    assert small <= 15


def test_search_finds_a_name_despite_a_typo_and_only_in_scope(caseworker, other_worker, unit):
    mine = full_case(caseworker=caseworker, unit=unit, cp_last_name="Rodriguez")
    full_case(caseworker=other_worker, cp_last_name="Rodriguez")  # not mine
    full_case(caseworker=caseworker, unit=unit, cp_last_name="Testperson")
    client = verified_client(caseworker)
    response = client.post(SEARCH, {"name": "Rodrigez"})
    assert response.status_code == 200
    assert [c.number for c in response.context["results"]] == [mine.number]
    assert "1 case found" in response.content.decode()


def test_search_by_number_and_date_of_birth(caseworker, unit):
    case = full_case(caseworker=caseworker, unit=unit)
    client = verified_client(caseworker)
    by_number = client.post(SEARCH, {"number": case.number.lower()})
    assert [c.number for c in by_number.context["results"]] == [case.number]
    by_dob = client.post(SEARCH, {"date_of_birth": "4/28/1988"})
    assert case.number in [c.number for c in by_dob.context["results"]]
    nothing = client.post(SEARCH, {"date_of_birth": "1/1/1950"})
    assert nothing.context["results"] == []
    assert "No case you can see matches" in nothing.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter a case number, a name or a date of birth."),
        ({"date_of_birth": "31/31/2020"}, "Enter the date as month/day/year"),
        ({"date_of_birth": "1/1/2999"}, "cannot be in the future"),
        ({"name": "x"}, "at least two letters"),
        ({"name": "x" * 500}, "at most 100 characters"),
    ],
)
def test_search_bad_input_gets_a_message_at_the_field(caseworker, data, message):
    response = verified_client(caseworker).post(SEARCH, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["results"] is None


def test_search_terms_never_go_in_the_url(caseworker):
    response = verified_client(caseworker).get(SEARCH)
    html = response.content.decode()
    assert 'method="post"' in html and 'action="/cases/search/"' in html
    assert verified_client(caseworker).get(SEARCH, {"name": "Rodriguez"}).context["results"] is None


def test_safety_flag_filter_and_column(caseworker, unit):
    from safety.models import FamilyViolenceIndicator

    flagged, plain = _bulk_cases(2, caseworker=caseworker, unit=unit, prefix="FL")
    person = flagged.participants.get().person
    FamilyViolenceIndicator.objects.create(person=person, reason="dv_disclosed", set_by=caseworker)
    client = verified_client(caseworker)
    assert _numbers(client.get(CASELOAD, {"flag": "yes"})) == [flagged.number]
    assert _numbers(client.get(CASELOAD, {"flag": "no"})) == [plain.number]
    page = client.get(CASELOAD).content.decode()
    assert page.count("Family violence indicator on this case") == 1
    # A removed flag no longer counts.
    FamilyViolenceIndicator.objects.update(removed_at="2026-01-01T00:00:00Z")
    assert _numbers(client.get(CASELOAD, {"flag": "yes"})) == []


def test_search_lists_each_case_once_and_keeps_constant_queries(caseworker, other_worker, unit):
    from cases.models import ParticipantRole
    from tests.factories import ParticipantFactory, PersonFactory

    case = full_case(caseworker=caseworker, unit=unit, cp_last_name="Rodriguez")
    for last in ("Rodriguez", "Rodriguezson"):
        ParticipantFactory(
            case=case, person=PersonFactory(last_name=last), role=ParticipantRole.CHILD
        )
    client = verified_client(caseworker)
    response = client.post(SEARCH, {"name": "Rodriguez"})
    assert [c.number for c in response.context["results"]] == [case.number]

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.post(SEARCH, {"name": "Rodriguez"})
        return len(queries)

    small = count()
    for _ in range(20):
        full_case(caseworker=caseworker, unit=unit, cp_last_name="Rodriguez")
    assert count() == small


def test_search_by_number_or_birth_date_stays_in_scope(caseworker, other_worker, unit):
    theirs = full_case(caseworker=other_worker)
    client = verified_client(caseworker)
    assert client.post(SEARCH, {"number": theirs.number}).context["results"] == []
    assert client.post(SEARCH, {"date_of_birth": "4/28/1988"}).context["results"] == []


def test_every_spelling_on_file_is_listed_once_whatever_path_wrote_it(caseworker, unit):
    """The search matches typed words against KnownName; a trigger on cases_person
    keeps it, so a save, a bulk load and an update all add their spellings."""
    from cases.models import KnownName
    from tests.factories import PersonFactory

    person = PersonFactory(first_name="Ysolde", last_name="Quarrington")
    Person.objects.bulk_create(
        [Person(first_name="Ysolde", last_name=f"Quarrington{n}") for n in range(3)]
    )
    Person.objects.filter(pk=person.pk).update(last_name="Quarringdon")
    names = set(KnownName.objects.filter(name__startswith="Quarrin").values_list("name", flat=True))
    assert names == {
        "Quarrington",
        "Quarringdon",
        *(f"Quarrington{n}" for n in range(3)),
    }
    assert KnownName.objects.filter(name="Ysolde").count() == 1
    # The renamed person is found under the new spelling, from a typo of it.
    case = full_case(caseworker=caseworker, unit=unit, cp_last_name="Holloway")
    Person.objects.filter(pk=case.participants.get(role="custodial_parent").person_id).update(
        last_name="Quarringdon"
    )
    found = verified_client(caseworker).post(SEARCH, {"name": "Quaringdon"})
    assert [c.number for c in found.context["results"]] == [case.number]


def test_search_puts_the_closest_last_name_first_and_matches_first_names(caseworker, unit):
    exact = full_case(caseworker=caseworker, unit=unit, cp_last_name="Castellano")
    near = full_case(caseworker=caseworker, unit=unit, cp_last_name="Castellanos")
    by_first = full_case(caseworker=caseworker, unit=unit)
    Person.objects.filter(participations__case=by_first, participations__role="child").update(
        first_name="Castellana"
    )
    full_case(caseworker=caseworker, unit=unit, cp_last_name="Whitmore")
    client = verified_client(caseworker)
    results = client.post(SEARCH, {"name": "Castellano"}).context["results"]
    assert [c.number for c in results][:2] == [exact.number, near.number]
    assert by_first.number in [c.number for c in results]
    assert client.post(SEARCH, {"name": "Zzyzzyq"}).context["results"] == []


def test_a_name_and_a_birth_date_must_match_the_same_person(caseworker, unit):
    """The custodial parent is Rodriguez, born 4/28/1988 (the factory's date); a
    child on the same case born another day is not a match for both."""
    case = full_case(caseworker=caseworker, unit=unit, cp_last_name="Rodriguez")
    client = verified_client(caseworker)
    both = client.post(SEARCH, {"name": "Rodrigez", "date_of_birth": "4/28/1988"})
    assert [c.number for c in both.context["results"]] == [case.number]
    Person.objects.filter(
        participations__case=case, participations__role="custodial_parent"
    ).update(date_of_birth=dt.date(1990, 1, 1))
    Person.objects.filter(participations__case=case, participations__role="child").update(
        date_of_birth=dt.date(1988, 4, 28)
    )
    split = client.post(SEARCH, {"name": "Rodrigez", "date_of_birth": "4/28/1988"})
    assert split.context["results"] == []


def test_the_county_filter_lists_the_counties_of_the_users_cases_only(
    caseworker, other_worker, unit
):
    def counties(client) -> list[str]:
        form = client.get(CASELOAD).context["form"]
        return [value for value, _label in form.fields["county"].choices if value]

    full_case(caseworker=caseworker, unit=unit)
    elsewhere = OfficeFactory(county="Farfield")
    theirs = full_case(caseworker=other_worker)
    Case.objects.filter(pk=theirs.pk).update(office=elsewhere)  # not mine
    client = verified_client(caseworker)
    assert counties(client) == [unit.office.county]
    mine = full_case(caseworker=caseworker, unit=unit)
    Case.objects.filter(pk=mine.pk).update(office=elsewhere)
    assert counties(client) == sorted([unit.office.county, "Farfield"])


def _ranked_case_by_case(caseworker, typed: str, limit: int) -> list[str]:
    """The search's answer worked out case by case: the cases with a person whose
    first or last name is a spelling on file similar to a typed word (pg_trgm's
    %: similarity of at least 0.3), by the best last-name similarity to the last word
    among those people, then case number."""
    from cases.models import KnownName

    words = typed.split()

    def similarity(a: str, b: str) -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            return cursor.fetchone()[0]

    spellings = {
        k.name for k in KnownName.objects.all() if any(similarity(k.name, w) >= 0.3 for w in words)
    }
    ranked = []
    for case in Case.objects.filter(caseworker=caseworker):
        people = [p.person for p in case.participants.select_related("person")]
        matching = [p for p in people if p.last_name in spellings or p.first_name in spellings]
        if matching:
            best = max(similarity(p.last_name, words[-1]) for p in matching)
            ranked.append((-best, case.number))
    return [number for _score, number in sorted(ranked)][:limit]


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8, 50])
@pytest.mark.parametrize("typed", ["Castelano", "Maria Castelano", "Castelani"])
def test_the_ranking_equals_a_case_by_case_ranking_at_every_page_size(
    caseworker, other_worker, unit, typed, limit
):
    """The ranking first tries the closest spellings only, and the whole list
    when that falls short of a page: at every page size, the answer is the one
    worked out case by case."""
    from cases.selectors import case_search_for_user

    surnames = [
        "Castellano", "Castellano", "Castellanos", "Castellani", "Castellana", "Castelli",
        "Castello", "Castellane", "Castelnau", "Castanedo", "Whitmore",
    ]  # fmt: skip
    for surname in surnames:
        full_case(caseworker=caseworker, unit=unit, cp_last_name=surname)
    maria = full_case(caseworker=caseworker, unit=unit, cp_last_name="Okafor")
    Person.objects.filter(participations__case=maria, participations__role="child").update(
        first_name="Maria"
    )
    full_case(caseworker=other_worker, cp_last_name="Castellano")  # not in scope
    expected = _ranked_case_by_case(caseworker, typed, limit)
    assert expected  # the data gives every search something to find
    found = case_search_for_user(caseworker, name=typed, limit=limit)
    assert [c.number for c in found] == expected


@pytest.mark.parametrize("limit", [1, 3, 4, 5, 50])
def test_a_first_name_match_can_outrank_a_weak_last_name_spelling(caseworker, unit, limit):
    """Few spellings near the last word: the closest five then reach down to
    spellings matched through another word ("Marias", through "Maria"), and a
    child called Maria Cass (matched on her first name; "Cass" is not a spelling
    on the list but scores higher against "Castelano" than "Marias" does) must
    still come before the Marias case."""
    from cases.selectors import case_search_for_user

    for _ in range(3):
        full_case(caseworker=caseworker, unit=unit, cp_last_name="Castellano")
    full_case(caseworker=caseworker, unit=unit, cp_last_name="Marias")
    cass = full_case(caseworker=caseworker, unit=unit, cp_last_name="Okafor")
    Person.objects.filter(participations__case=cass, participations__role="child").update(
        first_name="Maria", last_name="Cass"
    )
    expected = _ranked_case_by_case(caseworker, "Maria Castelano", limit)
    found = case_search_for_user(caseworker, name="Maria Castelano", limit=limit)
    assert [c.number for c in found] == expected
    if limit == 4:
        assert expected[3] == cass.number
