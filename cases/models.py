"""The case record every other part hangs on.

People carry names and dates of birth in the clear (searchable: every spelling
of a name is listed once in KnownName, trigram-indexed, for the typo-tolerant
search);
everything that locates a person (addresses, phones, emails, employers) and the
SSN is sealed at the field level (safety/protected.py) and shown masked until a
member of staff reveals it for a stated reason (cases/services.py records it).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from safety.protected import ProtectedField


def ssn_digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


class Office(models.Model):
    """A county child support office."""

    code = models.CharField(_("office code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=120)
    county = models.CharField(_("county"), max_length=80)
    # Public: the address notices carry in place of a protected person's.
    address = models.TextField(_("office address"), max_length=300, blank=True)

    class Meta:
        ordering = ["county", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.county})"


class Unit(models.Model):
    """A team of caseworkers under one supervisor; a supervisor sees the unit's cases."""

    name = models.CharField(_("name"), max_length=120)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="units")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_units",
    )
    # The caseworkers of the unit: where they may open cases, and whom the unit's
    # supervisor may assign the unit's cases to.
    caseworkers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="units")

    class Meta:
        ordering = ["office", "name"]
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="unit_name_unique")]

    def __str__(self) -> str:
        return self.name


class Language(models.TextChoices):
    # Context: a person's language, not the name shown in the language switcher.
    ENGLISH = "en", pgettext_lazy("a person's language", "English")
    SPANISH = "es", pgettext_lazy("a person's language", "Spanish")


class Person(models.Model):
    """Anyone on a case: parents, children, caretakers. Never a user of the system."""

    # A UUID known before the first save: sealed values bind the row id in.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    ssn = ProtectedField(_("SSN"), blind_index="ssn_index", normalize=ssn_digits)
    # Keyed blind index for exact SSN lookup without decrypting (never the SSN).
    # NULL, not "", when there is no SSN: "" would look like an index value.
    ssn_index = models.CharField(  # noqa: DJ001
        max_length=80, null=True, blank=True, editable=False
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=Language.choices, default=Language.ENGLISH
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            # Exact names: the search finds the spellings by trigram in KnownName,
            # then the people by these (decision 0013).
            models.Index(fields=["last_name", "first_name"], name="person_name"),
            models.Index(fields=["first_name"], name="person_first_name"),
            models.Index(fields=["date_of_birth"], name="person_dob"),
            models.Index(fields=["ssn_index"], name="person_ssn_index"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


class KnownName(models.Model):
    """Every spelling of a first or last name on file, once. The typo-tolerant
    search matches the words typed against this short list (trigram index), then
    finds the people by exact name (decision 0013). Kept by a trigger on
    cases_person (cases/sql/known_names_v1.sql), so no write path can forget it.
    A name alone, linked to nobody; never removed (a name no one has any more
    simply finds no one)."""

    name = models.CharField(max_length=100, primary_key=True)

    class Meta:
        indexes = [
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="known_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAUSED = "paused", _("Paused at the custodial parent's request")
    CLOSED = "closed", _("Closed")


PROGRAMS = {
    "program_tanf": _("TANF"),
    "program_medicaid": _("Medicaid"),
    "program_snap": _("SNAP"),
    "program_iv_e": _("IV-E foster care"),
    "program_non_assistance": _("Non-assistance"),
}


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=20, unique=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="cases")
    caseworker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("caseworker"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    program_tanf = models.BooleanField(_("TANF"), default=False)
    program_medicaid = models.BooleanField(_("Medicaid"), default=False)
    program_snap = models.BooleanField(_("SNAP"), default=False)
    program_iv_e = models.BooleanField(_("IV-E foster care"), default=False)
    program_non_assistance = models.BooleanField(_("Non-assistance"), default=False)
    opened_on = models.DateField(_("opened on"))
    # Bumped by every change that can add a hold (safety.notices.lock_cases_for_hold):
    # a supervisor's release of a held notice is only good for the version it saw.
    safety_version = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        indexes = [
            models.Index(fields=["caseworker", "status", "number"], name="case_worker_status"),
            models.Index(fields=["unit", "status", "number"], name="case_unit_status"),
            # "Has this user a case in this office?" (the caseload's county filter).
            models.Index(fields=["caseworker", "office"], name="case_worker_office"),
            models.Index(fields=["unit", "office"], name="case_unit_office"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="case_closed_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def program_labels(self) -> list[str]:
        return [str(label) for attr, label in PROGRAMS.items() if getattr(self, attr)]


class ParticipantRole(models.TextChoices):
    CUSTODIAL_PARENT = "custodial_parent", _("Custodial parent")
    NONCUSTODIAL_PARENT = "noncustodial_parent", _("Noncustodial parent")
    CHILD = "child", _("Child")
    CARETAKER = "caretaker", _("Caretaker")
    ALLEGED_FATHER = "alleged_father", _("Alleged father")


# Who can be the custodial party a case needs, and who is on the other side.
CUSTODIAL_ROLES = (ParticipantRole.CUSTODIAL_PARENT, ParticipantRole.CARETAKER)
OTHER_PARENT_ROLES = (ParticipantRole.NONCUSTODIAL_PARENT, ParticipantRole.ALLEGED_FATHER)


class Participant(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(_("role"), max_length=24, choices=ParticipantRole.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "person", "role"], name="participant_once_per_role"
            ),
        ]
        indexes = [models.Index(fields=["person", "case"], name="participant_person")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} on {self.case_id}"


class ContactKind(models.TextChoices):
    MAILING = "mailing", _("Mailing address")
    RESIDENTIAL = "residential", _("Residential address")
    EMPLOYER = "employer", _("Employer")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class ContactSource(models.TextChoices):
    SELF_REPORTED = "self", _("The person themselves")
    OTHER_PARENT = "other_parent", _("The other parent")
    EMPLOYER = "employer", _("Employer report")
    NEW_HIRE = "new_hire", _("New hire directory")
    COURT = "court", _("Court record")
    OTHER_AGENCY = "agency", _("Another agency")


class ContactPoint(models.Model):
    """An address, phone, email or employer of a person, sealed, with validity dates."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(_("kind"), max_length=12, choices=ContactKind.choices)
    value = ProtectedField(_("value"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=ContactSource.choices)
    # The person told us mail to this address is safe: notices to the protected
    # person themselves may go here (after an ACP substitute address).
    safe_for_mail = models.BooleanField(
        _("safe to send mail here"), default=False, db_default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "kind", "-valid_from"]
        indexes = [models.Index(fields=["person", "kind"], name="contact_person_kind")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="contact_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of person {self.person_id}"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    BIWEEKLY = "biweekly", _("Every two weeks")
    SEMIMONTHLY = "semimonthly", _("Twice a month")
    MONTHLY = "monthly", _("Monthly")


class SupportOrder(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="orders")
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    frequency = models.CharField(_("frequency"), max_length=12, choices=Frequency.choices)
    arrears = models.DecimalField(_("arrears"), max_digits=12, decimal_places=2, default=0)
    court = models.CharField(_("court"), max_length=160)
    order_date = models.DateField(_("order date"))

    class Meta:
        ordering = ["case", "-order_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(condition=Q(arrears__gte=0), name="order_arrears_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} on case {self.case_id}"


class RemedyKind(models.TextChoices):
    INCOME_WITHHOLDING = "income_withholding", _("Income withholding")
    LICENSE_SUSPENSION = "license_suspension", _("License suspension")
    CREDIT_REPORTING = "credit_reporting", _("Credit bureau reporting")
    FEDERAL_TAX_OFFSET = "federal_tax_offset", _("Federal tax refund offset")
    STATE_TAX_OFFSET = "state_tax_offset", _("State tax refund offset")
    PASSPORT_DENIAL = "passport_denial", _("Passport denial")
    LIEN = "lien", _("Lien")
    CONTEMPT = "contempt", _("Contempt")


class RemedyStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class Remedy(models.Model):
    """An enforcement remedy available on a case, and where it stands."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="remedies")
    kind = models.CharField(_("remedy"), max_length=24, choices=RemedyKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=RemedyStatus.choices, default=RemedyStatus.AVAILABLE
    )
    next_action_on = models.DateField(_("next action on"), null=True, blank=True)

    class Meta:
        ordering = ["case", "kind"]
        verbose_name_plural = "remedies"
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="remedy_once_per_case"),
        ]
        indexes = [models.Index(fields=["status", "next_action_on"], name="remedy_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("note"), max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"Note {self.pk} on case {self.case_id}"


class CaseEventManager(models.Manager):
    """Timeline events are written with their audit record (accounts/audit.py), in
    the caller's transaction: use ``record``/``record_many``, not ``create``."""

    def record(self, *, kind, actor, case=None, case_id=None, person_id=None, detail=None):
        from accounts.audit import audit_record

        detail = detail or {}
        where = {"case": case} if case is not None else {"case_id": case_id}
        event = self.create(**where, kind=kind, actor=actor, detail=detail)
        audit_record(
            kind=kind,
            actor=actor,
            case_id=event.case_id,
            person_id=person_id or detail.get("person"),
            event=event.pk,
            **detail,
        )
        return event

    def record_many(self, *, case_ids, kind, actor, person_id=None, detail=None) -> int:
        """The same event on several cases (an FVI is on every case of its person)."""
        for case_id in sorted(set(case_ids)):
            self.record(kind=kind, actor=actor, case_id=case_id, person_id=person_id, detail=detail)
        return len(set(case_ids))


class CaseEvent(models.Model):
    """The case timeline: what happened, when, by whom. Ids only, never values."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Case opened")
        PARTICIPANT_ADDED = "participant_added", _("Participant added")
        CONTACT_ADDED = "contact_added", _("Contact details added")
        CONTACT_REVEALED = "contact_revealed", _("Protected value revealed")
        ASSIGNED = "assigned", _("Caseworker assigned")
        EDITED = "edited", _("Case details changed")
        NOTE_ADDED = "note_added", _("Note added")
        ORDER_RECORDED = "order_recorded", _("Support order recorded")
        FVI_SET = "fvi_set", _("Family violence indicator set")
        FVI_REMOVAL_REQUESTED = "fvi_removal_requested", _("FVI removal requested")
        FVI_REMOVAL_APPROVED = "fvi_removal_approved", _("FVI removal approved (waiting period)")
        FVI_REMOVAL_CANCELLED = "fvi_removal_cancelled", _("FVI removal cancelled")
        FVI_REMOVED = "fvi_removed", _("Family violence indicator removed")
        SAFETY_REVIEWED = "safety_reviewed", _("Safety review recorded")
        SAFETY_PLAN_CHANGED = "safety_plan_changed", _("Safety plan changed")
        COURT_HOLD_ADDED = "court_hold_added", _("Court hold recorded")
        COURT_HOLD_LIFTED = "court_hold_lifted", _("Court hold lifted")
        NOTICE_KEPT = "notice_kept", _("Held notice kept")
        NOTICE_RELEASED = "notice_released", _("Held notice released")
        NOTICE_CANCELLED = "notice_cancelled", _("Held notice cancelled")
        BREAK_GLASS = "break_glass", _("Opened from outside the caseload")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CaseEventManager()

    class Meta:
        ordering = ["case", "-created_at", "-id"]
        indexes = [models.Index(fields=["case", "-created_at"], name="event_case_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on case {self.case_id}"


class RevealReason(models.TextChoices):
    SEND_TO_COURT = "court", _("Needed for a court filing")
    VERIFY_WITH_PARTY = "verify", _("Verifying with the person themselves")
    SAFETY_PLANNING = "safety", _("Safety planning with the survivor")
    CORRECT_RECORD = "correct", _("Correcting the record")
    OTHER = "other", _("Other (explain)")


class ProtectedValueAccess(models.Model):
    """Who revealed which protected value, when and why. Written in the same
    transaction as the reveal; the append-only audit trail (issue 5) takes it over."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    contact_point = models.ForeignKey(
        ContactPoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    field = models.CharField(max_length=40)
    reason = models.CharField(max_length=12, choices=RevealReason.choices)
    reason_text = models.CharField(max_length=500, blank=True)
    # "failed": the value could not be opened (tampered or wrong key); nothing shown.
    outcome = models.CharField(
        max_length=8, choices=[("shown", "shown"), ("failed", "failed")], default="shown"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "-created_at"], name="reveal_person_time")]

    def __str__(self) -> str:
        return f"Reveal {self.pk} of {self.field} by user {self.user_id}"


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    HELD = "held", _("Held")
    RELEASED = "released", _("Released")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class NoticeRecipient(models.TextChoices):
    OTHER_PARENT = "other_parent", _("The other parent")
    EMPLOYER = "employer", _("Employer")
    COURT = "court", _("Court")
    CUSTODIAL_PARENT = "custodial_parent", _("Custodial parent")
    PROTECTED_PERSON = "protected_person", _("The protected person")


class Notice(models.Model):
    """An enforcement notice. It moves pending → held or released (the gate,
    set-based) → sent (one statement that re-checks the gate; a trigger refuses
    "sent" whenever the gate says hold). See safety/notices.py."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notices")
    remedy = models.CharField(max_length=24)
    notice_type = models.CharField(max_length=40)
    recipient = models.CharField(max_length=20, choices=NoticeRecipient.choices)
    # Set only for notices to one person about their own protection (the gate lets
    # those go only to a participant of the case: safety/sql/notice_gate_v1.sql).
    recipient_person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.PENDING
    )
    hold_reasons = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    # Ids and codes only: the renderer looks up (and substitutes) everything else.
    data = models.JSONField(default=dict, blank=True)
    due_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the document reached the outbox. Sent but not published: the sweeper's.
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(
                fields=["status", "id"],
                condition=Q(status__in=["pending", "released"]),
                name="notice_open",
            ),
            models.Index(fields=["case", "remedy"], name="notice_case_remedy"),
            # The held-notice list (oldest decision first) and its counts, on a
            # supervisor's home page too: only held rows, with the case for the
            # scope check, so neither reads the notices table itself.
            models.Index(
                fields=["decided_at", "id"],
                include=["case"],
                condition=Q(status="held"),
                name="notice_held",
            ),
            models.Index(
                fields=["sent_at"],
                condition=Q(status="sent", published_at__isnull=True),
                name="notice_unpublished",
            ),
        ]
        constraints = [
            # Generation runs again safely: one notice per case, remedy, type and day.
            # (A notice to one person is one per person: NULLS NOT DISTINCT keeps
            # the others, which name no person, to one.)
            models.UniqueConstraint(
                fields=["case", "remedy", "notice_type", "due_on", "recipient_person"],
                name="notice_once_per_due_date",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"Notice {self.pk} ({self.remedy}) on case {self.case_id}"

    @property
    def remedy_label(self) -> str:
        labels = {**dict(RemedyKind.choices), "safety_notice": _("Notice about your protection")}
        return str(labels.get(self.remedy, self.remedy))


class BreakGlassReason(models.TextChoices):
    COVERING = "covering", _("Covering for an absent colleague")
    SAFETY = "safety", _("Urgent safety concern")
    COURT = "court", _("Court hearing or deadline")
    CALLER = "caller", _("A party is on the phone or at the counter")
    OTHER = "other", _("Other (explain)")


class BreakGlassAccess(models.Model):
    """A member of staff opened a case outside their scope, saying why. It lasts
    BREAK_GLASS_MINUTES, is on the case's timeline and in the audit trail, and the
    unit's supervisor sees it on their home page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="glass_grants"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="glass_grants")
    reason = models.CharField(_("reason"), max_length=12, choices=BreakGlassReason.choices)
    reason_text = models.TextField(_("explanation"), max_length=1000)
    granted_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at"]
        indexes = [
            models.Index(fields=["user", "case", "expires_at"], name="break_glass_active"),
            models.Index(fields=["case", "-granted_at"], name="break_glass_case"),
        ]

    def __str__(self) -> str:
        return f"Break-glass {self.pk}: user {self.user_id} on case {self.case_id}"
