"""User-scoped reads of the audit trail. Every audit page starts here, so a person,
a member of staff or a case outside the user's audit scope is "not found" (404),
exactly like a missing one.

Scope: an auditor may audit every person and every member of staff. A supervisor
may audit the people on the cases they see (cases.selectors.cases_visible_to) and
themselves and the caseworkers of the units they supervise. Nobody else may audit
anything (the pages' access rule refuses them first; these functions agree).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts import roles
from accounts.models import AuditEvent, User
from cases.models import Case, Participant, ParticipantRole, Person, Unit
from cases.selectors import cases_visible_to

PAGE_SIZE = 50
EXPORT_BATCH = 1000


def _audits_everything(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(roles.AUDITOR))


def _audits_units(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(roles.SUPERVISOR))


def cases_auditable_by(user) -> QuerySet[Case]:
    if _audits_everything(user):
        return Case.objects.all()
    if _audits_units(user):
        return cases_visible_to(user)
    return Case.objects.none()


def people_auditable_by(user) -> QuerySet[Person]:
    if _audits_everything(user):
        return Person.objects.all()
    if _audits_units(user):
        on_cases = Participant.objects.filter(case__in=cases_visible_to(user)).values("person_id")
        return Person.objects.filter(pk__in=on_cases)
    return Person.objects.none()


def staff_auditable_by(user) -> QuerySet[User]:
    if _audits_everything(user):
        return User.objects.all()
    if _audits_units(user):
        caseworkers = Unit.caseworkers.through.objects.filter(unit__supervisor=user).values(
            "user_id"
        )
        return User.objects.filter(Q(pk=user.pk) | Q(pk__in=caseworkers))
    return User.objects.none()


def person_get_for_audit(user, person_id) -> Person:
    """The person, if the user may audit them; otherwise Http404 (missing or not theirs).
    Only the id is read: the audit pages never need (or load) a name."""
    person = people_auditable_by(user).filter(pk=person_id).only("pk").first()
    if person is None:
        raise Http404
    return person


def staff_get_for_audit(user, user_id) -> User:
    """The member of staff, if the user may audit them; otherwise Http404."""
    member = staff_auditable_by(user).filter(pk=user_id).first()
    if member is None:
        raise Http404
    return member


def case_find_for_audit(user, number: str) -> Case | None:
    """The case with this number if the user may audit it; None for missing and
    out of scope alike, so the page cannot tell them apart."""
    number = (number or "").strip()
    if not number:
        return None
    return cases_auditable_by(user).filter(number__iexact=number).first()


def case_participants_for_audit(case: Case) -> list[tuple[str, int, object]]:
    """The case's participants as (role code, number within the role or 0 when the
    role has one participant, person id): never a name."""
    order = list(ParticipantRole.values)
    rows = sorted(
        case.participants.values_list("role", "id", "person_id"),
        key=lambda row: (order.index(row[0]) if row[0] in order else len(order), row[1]),
    )
    totals: dict[str, int] = {}
    for role, _pk, _person in rows:
        totals[role] = totals.get(role, 0) + 1
    seen: dict[str, int] = {}
    result = []
    for role, _pk, person_id in rows:
        seen[role] = seen.get(role, 0) + 1
        result.append((role, seen[role] if totals[role] > 1 else 0, person_id))
    return result


def person_roles_for_audit(user, person: Person) -> list[tuple[str, str]]:
    """(role code, case number) of the person on the cases the user may audit."""
    return list(
        Participant.objects.filter(person=person, case__in=cases_auditable_by(user))
        .order_by("case__number", "role")
        .values_list("role", "case__number")
    )


@dataclass(frozen=True)
class TrailFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str = ""


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _end_of(day: dt.date) -> dt.datetime:
    # The last instant of the day, not the next midnight: no overflow on date.max.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def _trail(events: QuerySet[AuditEvent], filters: TrailFilters) -> QuerySet[AuditEvent]:
    if filters.date_from:
        events = events.filter(occurred_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        events = events.filter(occurred_at__lte=_end_of(filters.date_to))
    if filters.kind:
        events = events.filter(kind=filters.kind)
    return events.select_related("actor").order_by("-seq")


def trail_for_person(person: Person, filters: TrailFilters) -> QuerySet[AuditEvent]:
    """Every record about the person, newest first. ``person`` comes from
    person_get_for_audit."""
    return _trail(AuditEvent.objects.filter(person_id=person.pk), filters)


def trail_for_staff(member: User, filters: TrailFilters) -> QuerySet[AuditEvent]:
    """Every record of what the member of staff did, newest first. ``member`` comes
    from staff_get_for_audit."""
    return _trail(AuditEvent.objects.filter(actor=member), filters)


def case_numbers(case_ids: Iterable[int | None]) -> dict[int, str]:
    """Case numbers by id, in one query (a trail page's rows point at cases by id)."""
    ids = {case_id for case_id in case_ids if case_id is not None}
    if not ids:
        return {}
    return dict(Case.objects.filter(pk__in=ids).values_list("pk", "number"))


def people_in_scope(user, person_ids: Iterable[object]) -> set:
    """Which of these person ids the user may audit, in one query."""
    ids = {person_id for person_id in person_ids if person_id is not None}
    if not ids:
        return set()
    return set(people_auditable_by(user).filter(pk__in=ids).values_list("pk", flat=True))


def trail_export_size(events: QuerySet[AuditEvent]) -> tuple[int, int | None]:
    """(rows, last seq) of a trail, in one query. The export stops at that seq, so
    it holds exactly the rows counted (records are append-only and chained in
    commit order)."""
    totals = events.order_by().aggregate(rows=Count("pk"), through=Max("seq"))
    return totals["rows"], totals["through"]


def trail_in_batches(
    events: QuerySet[AuditEvent], *, through_seq: int | None, size: int = EXPORT_BATCH
) -> Iterator[list[AuditEvent]]:
    """The trail up to ``through_seq``, newest first, ``size`` records a query
    (keyset on seq: no cursor held open while the response streams)."""
    if through_seq is None:
        return
    events = events.filter(seq__lte=through_seq)
    while True:
        batch = list(events[:size])
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        events = events.filter(seq__lt=batch[-1].seq)
