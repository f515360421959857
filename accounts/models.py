from functools import cached_property

from django.contrib.auth.models import AbstractUser

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
