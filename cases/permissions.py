"""Plain predicates: who may do what with cases. Scoping itself (which cases a
user can see at all) lives in cases/selectors.py."""

from __future__ import annotations

from accounts import roles


def can_assign_cases(user) -> bool:
    return user.is_active and user.has_role(roles.SUPERVISOR)
