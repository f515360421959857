"""User-scoped reads of cases. Every case read by a view starts here, so a case
outside the user's scope is "not found" (404), exactly like a missing one.

Scope: a caseworker sees the cases assigned to them; a supervisor sees the cases
of the units they supervise. Nobody else (administrators, auditors) sees cases
through these pages. Break-the-glass access arrives with the audit issue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.http import Http404
from django.utils import timezone

from accounts import roles
from cases.models import (
    CUSTODIAL_ROLES,
    Case,
    CaseEvent,
    CaseNote,
    ContactPoint,
    KnownName,
    Office,
    Participant,
    Person,
)

SORTS = {
    "number": ("number",),
    "-number": ("-number",),
    "opened": ("opened_on", "number"),
    "-opened": ("-opened_on", "number"),
    "status": ("status", "number"),
    "-status": ("-status", "number"),
    "county": ("office__county", "number"),
    "-county": ("-office__county", "number"),
}
DEFAULT_SORT = "number"


def cases_visible_to(user) -> QuerySet[Case]:
    scope = Q(pk__in=[])
    if user.is_authenticated and user.is_active:
        if user.has_role(roles.CASEWORKER):
            scope |= Q(caseworker=user)
        if user.has_role(roles.SUPERVISOR):
            scope |= Q(unit__supervisor=user)
    return Case.objects.filter(scope)


def _with_last_review(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The case's latest safety review, read in the same query as the case
    (``last_review_outcome``, ``last_review_at``): the case page shows it."""
    from safety.models import SafetyReview

    latest = SafetyReview.objects.filter(case=OuterRef("pk")).order_by("-reviewed_at", "-pk")
    return cases.annotate(
        last_review_outcome=Subquery(latest.values("outcome")[:1]),
        last_review_at=Subquery(latest.values("reviewed_at")[:1]),
    )


def case_get_for_user(user, case_id, *, with_last_review: bool = False) -> Case:
    """The case, if the user may see it; otherwise Http404 (missing or not theirs).

    A case outside the user's scope is theirs only while a break-the-glass grant
    they made for it lasts; ``case.break_glass`` is that grant (None in scope).
    ``with_last_review`` reads the latest safety review along with it (for
    case_detail)."""
    try:
        case_id = int(case_id)
    except (ValueError, TypeError):
        raise Http404 from None
    cases = Case.objects.select_related("office", "unit", "caseworker")
    scoped = cases_visible_to(user).select_related("office", "unit", "caseworker")
    if with_last_review:
        cases, scoped = _with_last_review(cases), _with_last_review(scoped)
    case = scoped.filter(pk=case_id).first()
    if case is not None:
        case.break_glass = None
        return case
    grant = break_glass_active(user, case_id)
    if grant is None:
        raise Http404
    case = cases.get(pk=case_id)
    case.break_glass = grant
    return case


def break_glass_active(user, case_id):
    """The user's unexpired break-the-glass grant on the case, if any."""
    from cases.models import BreakGlassAccess

    if not (user.is_authenticated and user.is_active):
        return None
    if not user.has_role(roles.CASEWORKER, roles.SUPERVISOR):
        return None
    return (
        BreakGlassAccess.objects.filter(user=user, case_id=case_id, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def break_glass_for_supervisor(user, *, days: int = 7, limit: int = 20):
    """Recent openings of the supervisor's units' cases from outside a caseload,
    newest first (their home page's alert)."""
    from cases.models import BreakGlassAccess

    if not user.has_role(roles.SUPERVISOR):
        return []
    since = timezone.now() - dt.timedelta(days=days)
    return list(
        BreakGlassAccess.objects.filter(case__unit__supervisor=user, granted_at__gte=since)
        .select_related("user", "case")
        .order_by("-granted_at")[:limit]
    )


def _custodial_prefetch() -> Prefetch:
    return Prefetch(
        "participants",
        queryset=Participant.objects.filter(role__in=CUSTODIAL_ROLES).select_related("person"),
        to_attr="custodial_participants",
    )


def _flagged() -> Exists:
    """Someone on the case (OuterRef) has a standing FVI."""
    from safety.models import FamilyViolenceIndicator

    return Exists(
        FamilyViolenceIndicator.objects.filter(
            removed_at__isnull=True, person__participations__case=OuterRef("pk")
        )
    )


def mark_safety_flags(cases: list[Case]) -> list[Case]:
    """Set ``has_safety_flag`` on each of these cases (one query for all). Done on
    the page's rows only: as an annotation of the whole caseload, PostgreSQL
    builds the flag for every case in scope before the LIMIT (a hashed subplan
    over every flagged case: about 240 ms on a 25,000-case caseload)."""
    flagged = set(
        Case.objects.filter(pk__in=[c.pk for c in cases])
        .filter(_flagged())
        .values_list("pk", flat=True)
    )
    for case in cases:
        case.has_safety_flag = case.pk in flagged
    return cases


@dataclass(frozen=True)
class CaseloadFilters:
    status: str = ""
    program: str = ""
    county: str = ""
    flag: str = ""  # "yes", "no" or "" (any)
    sort: str = DEFAULT_SORT


def caseload_for_user(user, filters: CaseloadFilters) -> QuerySet[Case]:
    cases = cases_visible_to(user).select_related("office", "caseworker")
    if filters.flag in ("yes", "no"):
        cases = cases.filter(_flagged() if filters.flag == "yes" else ~_flagged())
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.program:
        cases = cases.filter(**{filters.program: True})
    if filters.county:
        cases = cases.filter(office__county=filters.county)
    return cases.order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT])).prefetch_related(
        _custodial_prefetch()
    )


def counties_for_user(user) -> list[str]:
    """The counties of the user's cases, for the caseload's county filter. Asked
    office by office (is there a case of mine here?), one index probe each on
    (caseworker, office) or (unit, office): DISTINCT over the cases read every
    case in scope on every caseload page (60 ms for a supervisor of 125,000)."""
    mine = cases_visible_to(user).filter(office=OuterRef("pk"))
    return list(
        Office.objects.filter(Exists(mine))
        .order_by("county")
        .values_list("county", flat=True)
        .distinct()
    )


# Trigram similarity above which a name counts as a match ("Rodrigez" finds
# "Rodriguez"); pg_trgm's own default for the % operator is 0.3.
NAME_SIMILARITY = 0.3


def case_search_for_user(
    user, *, number: str = "", name: str = "", date_of_birth: date | None = None, limit: int = 50
) -> list[Case]:
    """Cases in the user's scope matching every term given, at most ``limit``.
    Name matching is typo tolerant (trigram similarity on first and last names),
    best match first: by the closest last name, among the case's matching people,
    to the last word typed; then by case number."""
    cases = cases_visible_to(user)
    if number:
        cases = cases.filter(number__iexact=number.strip())
    if not (name or date_of_birth):
        return list(_search_results(cases.order_by("number")[:limit]))
    # From the cases in scope to their people: one join per matching person, the
    # scope read on the case row itself (an IN over the scope joined each case
    # twice). Every term in one filter(): they must all match the same person.
    person = Q()
    if date_of_birth:
        person &= Q(participants__person__date_of_birth=date_of_birth)
    if not name:
        ranked = cases.filter(person).values("id", "number").distinct().order_by("number")
        return _search_page([row["id"] for row in ranked[:limit]])
    # Decision 0013. 1: the spellings on file like any word typed, from the
    # short list of names (KnownName), with their similarity to the last word.
    # 2: the ranking: the people with those exact names, their cases in scope,
    # the best last-name similarity per case, the top ``limit``. 3: the page.
    words = name.split()
    spellings = similar_names(words, to=words[-1])
    if not spellings:
        return []
    everyone = person & (
        Q(participants__person__last_name__in=list(spellings))
        | Q(participants__person__first_name__in=list(spellings))
    )
    nearest = person & Q(participants__person__last_name__in=_nearest(spellings))
    best = Max(TrigramSimilarity("participants__person__last_name", words[-1]))
    ranked = [
        cases.filter(who).values("id", "number").annotate(best=best).order_by("-best", "number")
        for who in (nearest, everyone)
    ]
    return _search_page(_first_full(ranked[0][:limit], ranked[1][:limit], limit))


# The ranking first tries the cases of the people whose last name is one of the
# closest spellings only: these five, any tied with the fifth, and only those
# scoring at least the match threshold against the last word. If that finds a
# full page, it is the answer: every other case scores strictly lower. A last
# name scoring at least the threshold is itself a spelling on the list, so a
# person outside the first try has a last name scoring either below the fifth or
# below the threshold (matched on a first name, or on another word): below every
# spelling tried. Most searches stop there, a fraction of the rows read;
# otherwise the whole ranking runs, in the same statement.
NEAREST_SPELLINGS = 5


def _nearest(spellings: dict[str, float]) -> list[str]:
    scores = sorted(spellings.values(), reverse=True)
    cut = scores[min(NEAREST_SPELLINGS, len(scores)) - 1]
    return [s for s, score in spellings.items() if score >= cut and score >= NAME_SIMILARITY]


def _first_full(first: QuerySet, second: QuerySet, limit: int) -> list[int]:
    """The ids of ``first`` if it holds ``limit`` rows, otherwise of ``second``,
    in one statement: the second query runs only when the first falls short
    (its branch sits behind a one-time filter on the first's count)."""
    first_sql, first_params = first.query.sql_with_params()
    second_sql, second_params = second.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH first AS MATERIALIZED ({first_sql})
            SELECT id, best, number FROM first
             WHERE (SELECT count(*) FROM first) >= %s
            UNION ALL
            SELECT id, best, number FROM ({second_sql}) AS second
             WHERE (SELECT count(*) FROM first) < %s
            ORDER BY best DESC, number
            """,  # noqa: S608 - two compiled ORM queries, their values as parameters
            [*first_params, limit, *second_params, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _search_page(ids: list[int]) -> list[Case]:
    found = {case.pk: case for case in _search_results(Case.objects.filter(pk__in=ids))}
    return [found[pk] for pk in ids]


def similar_names(words: list[str], *, to: str) -> dict[str, float]:
    """Every spelling of a first or last name on file that is trigram-similar
    (above NAME_SIMILARITY, pg_trgm's % operator) to any of the words, with its
    similarity to the word ``to``."""
    match = Q()
    for word in words:
        match |= Q(name__trigram_similar=word)
    return dict(
        KnownName.objects.filter(match)
        .annotate(score=TrigramSimilarity("name", to))
        .values_list("name", "score")
    )


def _search_results(cases: QuerySet[Case]) -> QuerySet[Case]:
    """What a search result row shows: office, caseworker, custodial people."""
    return cases.select_related("office", "caseworker").prefetch_related(_custodial_prefetch())


NOTES_SHOWN = 20
EVENTS_SHOWN = 50


def case_detail(case: Case) -> dict:
    """Everything the case page shows, in a fixed number of queries. ``case`` is
    read by case_get_for_user(…, with_last_review=True)."""
    from safety.models import (
        AddressConfidentialityEnrollment,
        FamilyViolenceIndicator,
        FviRemovalRequest,
        hold_remedy_choices,
    )

    open_requests = FviRemovalRequest.objects.filter(
        cancelled_at__isnull=True, applied_at__isnull=True
    ).select_related("notice")
    participants = list(
        case.participants.select_related("person").prefetch_related(
            Prefetch(
                "person__contact_points",
                queryset=ContactPoint.objects.order_by("kind", "-valid_from"),
            ),
            Prefetch(
                "person__acp_enrollments",
                queryset=AddressConfidentialityEnrollment.objects.filter(ended_on__isnull=True),
                to_attr="acp",
            ),
            Prefetch(
                "person__fvis",
                queryset=FamilyViolenceIndicator.objects.filter(
                    removed_at__isnull=True
                ).prefetch_related(
                    Prefetch("removal_requests", queryset=open_requests, to_attr="open_removals")
                ),
                to_attr="active_fvis",
            ),
        )
    )
    from safety import gate
    from safety.models import CourtOrderHold, SafetyReview

    labels = dict(hold_remedy_choices())
    warn_until = timezone.localdate() + dt.timedelta(days=settings.ACP_EXPIRY_WARNING_DAYS)
    return {
        "acp_warn_until": warn_until,
        "participants": participants,
        "flagged": any(p.person.active_fvis for p in participants),
        "gate": [(labels[r], d) for r, d in gate.decide_all(case.pk)],
        "last_review": SafetyReview(
            case=case, outcome=case.last_review_outcome, reviewed_at=case.last_review_at
        )
        if case.last_review_outcome
        else None,
        "court_holds": list(CourtOrderHold.objects.filter(case=case, lifted_on__isnull=True)),
        "order": case.orders.order_by("-order_date", "-id").first(),
        "remedies": list(case.remedies.order_by("kind")),
        **_latest_with_total("notes", CaseNote.objects.filter(case=case), "author", NOTES_SHOWN),
        **_latest_with_total("events", CaseEvent.objects.filter(case=case), "actor", EVENTS_SHOWN),
    }


def _latest_with_total(name: str, rows: QuerySet, related: str, shown: int) -> dict:
    """The first ``shown`` rows and how many there are in all, in one query: the
    total is a window count over the whole set, which PostgreSQL computes before
    the LIMIT (one query where a list and a COUNT would be two)."""
    latest = list(rows.select_related(related).annotate(total=Window(Count("pk")))[:shown])
    return {name: latest, f"{name}_total": latest[0].total if latest else 0}


def contact_point_for_case(case: Case, contact_id) -> ContactPoint:
    """A contact point of someone on this case; Http404 otherwise."""
    on_case = Participant.objects.filter(case=case).values("person")
    point = (
        ContactPoint.objects.select_related("person")
        .filter(pk=contact_id, person__in=on_case)
        .first()
    )
    if point is None:
        raise Http404
    return point


def person_for_case(case: Case, person_id) -> Person:
    person = Person.objects.filter(
        pk=person_id, pk__in=Participant.objects.filter(case=case).values("person")
    ).first()
    if person is None:
        raise Http404
    return person


def acp_expiring_for_user(user, *, limit: int = 20) -> list[tuple[str, int, date]]:
    """ACP certifications on the user's cases that end within the warning period:
    (case number, case id, certified until), soonest first."""
    from safety.models import AddressConfidentialityEnrollment

    until = timezone.localdate() + dt.timedelta(days=settings.ACP_EXPIRY_WARNING_DAYS)
    rows = (
        AddressConfidentialityEnrollment.objects.filter(
            ended_on__isnull=True,
            certified_until__lte=until,
            person__participations__case__in=cases_visible_to(user),
        )
        .values_list(
            "person__participations__case__number",
            "person__participations__case_id",
            "certified_until",
        )
        .order_by("certified_until")
        .distinct()[:limit]
    )
    return list(rows)


def people_with_ssn(ssn: str):
    """Every person record with this SSN, found by blind index under every listed
    key (records are never linked, so one person may have several)."""
    from safety import protected

    digits = "".join(ch for ch in ssn if ch.isdigit())
    return Person.objects.filter(ssn_index__in=protected.blind_index_candidates(digits))


def held_notice_counts(user) -> dict[str, int]:
    """For a supervisor's home page: held notices on the cases they may see, and
    how many of those were blocked because a protected value was in the document
    (the leak check's alert). One query."""
    from django.db.models import Count

    from cases.models import Notice

    return Notice.objects.filter(status="held", case__in=cases_visible_to(user)).aggregate(
        held=Count("id"), leaks=Count("id", filter=Q(hold_reasons__contains=["leak_blocked"]))
    )
