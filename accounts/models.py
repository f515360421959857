from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models

from accounts import roles


class User(AbstractUser):
    """A member of agency staff. Survivors and other parents never have accounts."""

    class Meta:
        db_table = "accounts_user"
        ordering = ["username"]

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The user's roles (group names), read once per request."""
        if not self.is_active or not self.pk:
            return frozenset()
        names = self.groups.filter(name__in=roles.ALL_ROLES).values_list("name", flat=True)
        return frozenset(names)

    def has_role(self, *names: str) -> bool:
        return bool(self.role_names.intersection(names))

    @property
    def role_labels(self) -> list[str]:
        return [str(roles.LABELS[r]) for r in roles.ALL_ROLES if r in self.role_names]


class AuditEvent(models.Model):
    """One security-relevant event, append-only and hash-chained.

    The database assigns ``seq``, ``occurred_at``, ``prev_hash`` and ``hash`` (a
    trigger, under a lock, so the chain has one order), refuses UPDATE and DELETE
    (a trigger, and the privileges are revoked), and ``manage.py
    verify_audit_chain`` walks it. Records carry ids and codes, never a protected
    value. Written in the transaction of the action it records
    (accounts/audit.py; docs/decisions/0010-audit-trail.md).
    """

    seq = models.BigIntegerField(unique=True, null=True, editable=False)
    occurred_at = models.DateTimeField(null=True, editable=False)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=48)
    case_id = models.BigIntegerField(null=True)
    person_id = models.UUIDField(null=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.BinaryField(null=True, editable=False)
    hash = models.BinaryField(null=True, editable=False)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["person_id", "seq"], name="audit_person"),
            models.Index(fields=["actor", "seq"], name="audit_actor"),
            models.Index(fields=["case_id", "seq"], name="audit_case"),
            models.Index(fields=["kind", "seq"], name="audit_kind"),
        ]

    def __str__(self) -> str:
        return f"Audit {self.seq} ({self.kind})"
