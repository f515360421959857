"""A notice's document: what it says (``render``) and whether it shows a protected
value it must not (``leaks``), read from one snapshot of its case (``CaseFacts``).

The dispatcher loads the facts of a batch of notices' cases in four statements
(``load_facts``) instead of a dozen per notice: participants with their people,
the offices, the latest orders, the contact points and the ACP enrolments. The
document and its leak check then read the same snapshot, so the check always
sees every protected value the document could have been made from. The
snapshot is a few seconds old at most (one batch); the gate's re-check when the
notice is marked sent is still made live, under the case lock
(safety.notices.mark_sent). Decision 0014.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.views.decorators.debug import sensitive_variables

from cases.models import Case, ContactPoint, Notice, Participant, RemedyKind, SupportOrder
from safety import protected

# Notice types the renderer knows, and their templates; anything else is held,
# not guessed at.
NOTICE_TYPES = {f"{kind}_notice": "notices/enforcement.html" for kind in RemedyKind.values}
FVI_REMOVAL_NOTICE = "fvi_removal_notice"
NOTICE_TYPES[FVI_REMOVAL_NOTICE] = "notices/fvi_removal.html"
# Shorter fragments of a protected value are not searched for: they would match
# ordinary words and numbers.
MIN_FRAGMENT = 6
SAFE_MAIL_KINDS = ("mailing", "residential")


@dataclass
class CaseFacts:
    """Everything a notice's document and its leak check read, for some cases."""

    participants: dict[int, list[Participant]] = field(default_factory=dict)  # by case
    offices: dict[int, object] = field(default_factory=dict)  # by case
    orders: dict[int, SupportOrder] = field(default_factory=dict)  # the latest, by case
    points: dict[int, list[ContactPoint]] = field(default_factory=dict)  # by person
    enrollments: dict[int, list] = field(default_factory=dict)  # by person

    def people(self, case_id: int) -> dict[str, object]:
        """The first person in each role on the case (participants in id order)."""
        people = {}
        for participant in self.participants.get(case_id, []):
            people.setdefault(participant.role, participant.person)
        return people

    def everyone(self, case_id: int) -> list:
        return [participant.person for participant in self.participants.get(case_id, [])]

    def active_acp(self, person):
        today = timezone.localdate()
        current = [
            e
            for e in self.enrollments.get(person.pk, [])
            if e.ended_on is None and e.certified_until >= today
        ]
        return max(current, key=lambda e: e.certified_until, default=None)

    def safe_point(self, person):
        """The newest address she told us is safe for mail, still valid."""
        safe = [
            p
            for p in self.points.get(person.pk, [])
            if p.kind in SAFE_MAIL_KINDS and p.safe_for_mail and p.valid_to is None
        ]
        return max(safe, key=lambda p: (p.valid_from, p.created_at), default=None)


def load_facts(cases, people=()) -> CaseFacts:
    """The facts of ``cases`` (Case rows, with their office loaded), in four
    statements whatever their number. ``people``: person ids beyond the cases'
    participants whose contact points and enrolments are needed too (a
    notice's named recipient)."""
    from safety.models import AddressConfidentialityEnrollment

    facts = CaseFacts()
    case_ids = [case.pk for case in cases]
    for case in cases:
        facts.offices[case.pk] = case.office
        facts.participants[case.pk] = []
    for participant in Participant.objects.filter(case_id__in=case_ids).select_related("person"):
        facts.participants[participant.case_id].append(participant)
    orders = (
        SupportOrder.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "-order_date", "-id")
        .distinct("case_id")
    )
    facts.orders = {order.case_id: order for order in orders}
    person_ids = {p.person_id for ps in facts.participants.values() for p in ps} | {
        person_id for person_id in people if person_id is not None
    }
    for point in ContactPoint.objects.filter(person_id__in=person_ids).order_by():
        facts.points.setdefault(point.person_id, []).append(point)
    for enrollment in AddressConfidentialityEnrollment.objects.filter(
        person_id__in=person_ids
    ).order_by():
        facts.enrollments.setdefault(enrollment.person_id, []).append(enrollment)
    return facts


def facts_for(notice: Notice) -> CaseFacts:
    """The facts one notice's document and check read (its case loaded with it)."""
    return load_facts([notice.case], [notice.recipient_person_id])


def facts_of(case_id: int) -> CaseFacts:
    """The facts of one case, for a leak check asked without a notice."""
    return load_facts(Case.objects.select_related("office").filter(pk=case_id))


def _office_lines(office) -> list[str]:
    return [office.name, *office.address.splitlines()] if office else []


@sensitive_variables()
def safe_address(person, office, facts: CaseFacts) -> tuple[list[str], list[str]]:
    """Where a notice to a protected person goes, and the protected values it may
    therefore carry: her ACP substitute address (with her participant number, as
    the program forwards by it); else an address she told us is safe for mail;
    else the office, for her to collect."""
    enrollment = facts.active_acp(person)
    if enrollment is not None:
        participant = protected.reveal(enrollment, "participant_id") or ""
        lines = [
            enrollment.program_name,
            translation.gettext("Participant number %(number)s") % {"number": participant},
            *enrollment.substitute_address.splitlines(),
        ]
        return lines, [participant]
    point = facts.safe_point(person)
    if point is not None:
        value = protected.reveal(point, "value") or ""
        return value.splitlines(), [value]
    lines = _office_lines(office)
    if lines:
        lines[0] = translation.gettext("To be collected at %(office)s") % {"office": lines[0]}
    return lines, []


def substitute_address(person, office, facts: CaseFacts) -> list[str]:
    """What a document to anyone else carries in place of a person's address:
    her ACP substitute address, or the agency office. Never the real one."""
    enrollment = facts.active_acp(person) if person is not None else None
    if enrollment is not None:
        return [enrollment.program_name, *enrollment.substitute_address.splitlines()]
    return _office_lines(office)


def render(notice: Notice, facts: CaseFacts | None = None) -> tuple[str, list[str]]:
    """The notice as HTML, in the recipient's language, and the protected values
    it may carry (only a protected person's own safe address, on a notice to
    her). Any other person's address is the substitute (ACP or office)."""
    template = NOTICE_TYPES.get(notice.notice_type)
    if template is None:
        raise ValueError(f"unknown notice type {notice.notice_type!r}")
    if facts is None:
        facts = facts_for(notice)
    people = facts.people(notice.case_id)
    obligor = people.get("noncustodial_parent") or people.get("alleged_father")
    custodial = people.get("custodial_parent") or people.get("caretaker")
    office = notice.case.office
    allowed: list[str] = []
    mail_to: list[str] = []
    language = "en"
    if notice.recipient == "protected_person":
        person = notice.recipient_person
        if person is None:
            raise ValueError("a notice to the protected person names no person")
        language = person.preferred_language
        recipient_name = person.full_name
        with translation.override(language):
            mail_to, allowed = safe_address(person, office, facts)
    elif notice.recipient == "other_parent" and obligor is not None:
        language = obligor.preferred_language
        recipient_name = obligor.full_name
    else:
        recipient_name = {
            "employer": translation.gettext_noop("Payroll office of the employer of record"),
            "court": translation.gettext_noop("Clerk of the court"),
        }.get(notice.recipient, obligor.full_name if obligor else "")
    with translation.override(language):
        document = render_to_string(
            template,
            {
                "language": language,
                "notice": notice,
                "case": notice.case,
                "office": office,
                "title": notice.remedy_label,
                "recipient_name": translation.gettext(recipient_name),
                "mail_to": mail_to,
                "obligor": obligor.full_name if obligor else "",
                "custodial": custodial.full_name if custodial else "",
                "custodial_address": substitute_address(custodial, office, facts),
                "order": facts.orders.get(notice.case_id),
                "effective_on": notice.data.get("effective_on", ""),
                "extra": notice.data.get("extra", ""),
            },
        )
    return document, allowed


def _plain(document: str) -> str:
    """The text a reader sees: tags removed, entities decoded, spacing and case
    folded, punctuation dropped."""
    text = html.unescape(strip_tags(document)).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@sensitive_variables()
def leaks(
    case_id: int,
    document: str,
    allowed=(),
    allowed_person=None,
    facts: CaseFacts | None = None,
) -> bool:
    """Whether ``document`` shows any protected value of anyone on the case: a
    whole value or any line of it (compared as plain words), or any run of seven
    or more digits from a phone, SSN or participant id (compared as digits).
    Fragments that are also in the office's own address are not counted, nor
    the ``allowed`` values of ``allowed_person`` (her own safe address on a
    notice to her); the same text held by anyone else still counts."""
    if facts is None:
        facts = facts_of(case_id)
    people = facts.everyone(case_id)
    owned = []
    for person in people:
        owned += [
            (person.pk, protected.reveal(point, "value"))
            for point in facts.points.get(person.pk, [])
        ]
        owned += [
            (person.pk, protected.reveal(e, "participant_id"))
            for e in facts.enrollments.get(person.pk, [])
        ]
        owned.append((person.pk, protected.reveal(person, "ssn") or ""))
    values = [
        value
        for owner, value in owned
        if not (allowed_person is not None and owner == allowed_person and value in allowed)
    ]
    office = facts.offices.get(case_id)
    office_text = _plain(f"{office.name} {office.address}") if office else ""
    text, digits = _plain(document), _digits(html.unescape(strip_tags(document)))
    for value in filter(None, values):
        for fragment in [value, *value.splitlines()]:
            words = _plain(fragment)
            if len(words) >= MIN_FRAGMENT and words in text and words not in office_text:
                return True
        number = _digits(value)
        if len(number) >= 7 and number in digits:
            return True
    return False
