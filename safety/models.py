"""Safety records. The Family Violence Indicator (FVI) is a person-level flag: it
applies to every case the person is on. Setting, removing and its effects on
notices are the safety core's (issue 4); the caseload reads it now."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from safety.protected import ProtectedField


class FviReason(models.TextChoices):
    PROTECTIVE_ORDER = "protective_order", _("Protective order")
    DV_DISCLOSED = "dv_disclosed", _("Domestic violence disclosed")
    DV_SUSPECTED = "dv_suspected", _("Domestic violence suspected")
    CHILD_ABUSE_SUSPECTED = "child_abuse", _("Child abuse suspected")
    GOOD_CAUSE_GRANTED = "good_cause", _("Good cause granted")
    COURT_ORDER = "court_order", _("Court order")


class FamilyViolenceIndicator(models.Model):
    person = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="fvis")
    reason = models.CharField(_("reason"), max_length=20, choices=FviReason.choices)
    note = models.TextField(_("source or evidence"), blank=True, max_length=2000)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now_add=True)
    # Removal is guarded and delayed (FviRemovalRequest); until then the flag stands.
    removed_at = models.DateTimeField(null=True, blank=True)
    review_on = models.DateField(_("review reminder"), null=True, blank=True)

    class Meta:
        ordering = ["person", "-set_at"]
        indexes = [
            models.Index(
                fields=["person"], condition=Q(removed_at__isnull=True), name="fvi_active_person"
            )
        ]

    def __str__(self) -> str:
        return f"FVI {self.pk} on person {self.person_id}"


# Remedies a hold can name: the enforcement remedies on a case, plus general
# notices to the other parent (the safety plan can hold those too).
GENERAL_NOTICES = "general_notices"


def hold_remedy_choices():
    from cases.models import RemedyKind

    return [*RemedyKind.choices, (GENERAL_NOTICES, _("General notices to the other parent"))]


class SafetyReview(models.Model):
    """A recorded safety review (screening outcome) of a case. With none, the gate
    holds every remedy (SAFETY_HOLD_UNSCREENED, on by default)."""

    class Outcome(models.TextChoices):
        NO_CONCERNS = "no_concerns", _("No safety concerns disclosed")
        CONCERNS = "concerns", _("Safety concerns disclosed")
        NOT_SAFE_TO_SCREEN = "not_safe", _("Not screened: contact was not safe")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="safety_reviews")
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "-reviewed_at"]

    def __str__(self) -> str:
        return f"Safety review {self.pk} of case {self.case_id}"


class SafetyPlan(models.Model):
    """The survivor's choices for a case. A pause or a closure request holds every
    remedy; per-remedy entries hold the remedies she chose to hold."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="safety_plan")
    pause_requested_at = models.DateTimeField(null=True, blank=True)
    closure_requested_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Safety plan of case {self.case_id}"


class SafetyPlanRemedy(models.Model):
    plan = models.ForeignKey(SafetyPlan, on_delete=models.CASCADE, related_name="remedies")
    remedy = models.CharField(_("remedy"), max_length=24)
    held = models.BooleanField(_("held"), default=True)
    survivor_choice = models.CharField(_("the survivor's words"), max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "remedy"], name="plan_remedy_once"),
        ]

    def __str__(self) -> str:
        return f"{self.remedy} on plan {self.plan_id}"


class GoodCauseClaim(models.Model):
    """The hook for the good-cause workflow (its own issue): a pending or granted
    claim holds every remedy on the case."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        GRANTED = "granted", _("Granted")
        DENIED = "denied", _("Denied")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="good_cause_claims"
    )
    claimant = models.ForeignKey("cases.Person", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    filed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Good-cause claim {self.pk} on case {self.case_id}"


class CourtOrderHold(models.Model):
    """A court has ordered enforcement held: one remedy, or all (remedy blank)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="court_holds")
    remedy = models.CharField(_("remedy"), max_length=24, blank=True)
    ordered_on = models.DateField(_("ordered on"))
    note = models.CharField(_("court and order reference"), max_length=300, blank=True)
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Court hold {self.pk} on case {self.case_id}"


class FviRemovalRequest(models.Model):
    """Removing an FVI is guarded: a caseworker asks with a reason; a different
    person with the supervisor role approves with a fresh one-time code; the
    removal takes effect only after a waiting period and can be cancelled until
    then. Nothing ever removes an FVI on its own."""

    fvi = models.ForeignKey(
        FamilyViolenceIndicator, on_delete=models.PROTECT, related_name="removal_requests"
    )
    reason = models.TextField(_("reason"), max_length=2000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    effective_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # The notice telling the protected person; the flag comes off only once it is sent.
    notice = models.ForeignKey(
        "cases.Notice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            # One open request per flag.
            models.UniqueConstraint(
                fields=["fvi"],
                condition=Q(cancelled_at__isnull=True, applied_at__isnull=True),
                name="fvi_one_open_removal",
            ),
            # The approver is never the requester.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("requested_by")),
                name="fvi_removal_second_person",
            ),
        ]

    def __str__(self) -> str:
        return f"Removal request {self.pk} for FVI {self.fvi_id}"

    @property
    def state(self) -> str:
        if self.cancelled_at:
            return "cancelled"
        if self.applied_at:
            return "applied"
        if self.approved_at:
            return "waiting"
        return "requested"


class AddressConfidentialityEnrollment(models.Model):
    """A person's enrolment in a state Address Confidentiality Program ("Safe at
    Home"): the substitute address notices about them must carry. The
    participant id is sealed; the substitute address is meant to be shown."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "cases.Person", on_delete=models.PROTECT, related_name="acp_enrollments"
    )
    program_name = models.CharField(_("program"), max_length=120)
    participant_id = ProtectedField(_("participant id"))
    substitute_address = models.TextField(_("substitute address"), max_length=500)
    certified_until = models.DateField(_("certified until"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        ordering = ["person", "-certified_until"]
        indexes = [
            models.Index(
                fields=["certified_until"], condition=Q(ended_on__isnull=True), name="acp_expiry"
            )
        ]

    def __str__(self) -> str:
        return f"ACP enrolment {self.pk} of person {self.person_id}"


class NoticeDecision(models.Model):
    """A supervisor's decision on a held notice: keep it held, cancel it, or
    release it. A release overrides exactly the gate reasons present when it was
    made, and only while the case's safety state is unchanged
    (``case_safety_version``): the gate's override path (notice_gate_v1.sql)."""

    class Action(models.TextChoices):
        KEEP = "keep", _("Kept held")
        RELEASE = "release", _("Released")
        CANCEL = "cancel", _("Cancelled")

    notice = models.ForeignKey("cases.Notice", on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    gate_reasons = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    case_safety_version = models.PositiveIntegerField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["notice", "-decided_at", "-id"]
        indexes = [models.Index(fields=["notice", "action", "-id"], name="notice_decision_latest")]

    def __str__(self) -> str:
        return f"Decision {self.pk} ({self.action}) on notice {self.notice_id}"


class NoticeRun(models.Model):
    """One run of the notice cycle, for the supervisors' progress view. The cycle
    task writes the totals; each dispatch chunk adds its counts when it finishes."""

    class State(models.TextChoices):
        RUNNING = "running", _("Generating and checking")
        DISPATCHING = "dispatching", _("Sending")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Stopped with an error")

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly schedule")
        COMMAND = "command", _("Operator command")

    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    generated = models.PositiveIntegerField(default=0)
    released = models.PositiveIntegerField(default=0)
    # Held by the gate, by reason code (counts only).
    held = models.JSONField(default=dict, blank=True)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    held_at_send = models.PositiveIntegerField(default=0)
    blocked = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Notice run {self.pk} ({self.state})"
