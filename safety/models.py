"""Safety records. The Family Violence Indicator (FVI) is a person-level flag: it
applies to every case the person is on. Setting, removing and its effects on
notices are the safety core's (issue 4); the caseload reads it now."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
    # Removal is guarded and delayed (issue 4); until then the flag stands.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["person", "-set_at"]
        indexes = [
            models.Index(
                fields=["person"], condition=Q(removed_at__isnull=True), name="fvi_active_person"
            )
        ]

    def __str__(self) -> str:
        return f"FVI {self.pk} on person {self.person_id}"
