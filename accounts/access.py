"""Deny-by-default access rules for every view.

Every view carries exactly one rule, attached with ``@access(rule)``. The
``AccessRuleMiddleware`` refuses (404) any view without one, and
``tests/test_url_access.py`` walks the URL resolver and fails on any URL whose
view has none. Rules are evaluated in this order:

1. ``PUBLIC`` views (sign-in, health, language) run for anyone.
2. Anyone else must be signed in with a password; otherwise they are sent to
   the sign-in page.
3. ``PASSWORD_STEP`` views (the one-time-code and enrolment pages) run for a
   signed-in user who has not yet passed the second factor.
4. Every other rule needs a verified (password + TOTP) session; an unverified
   user is sent to the code page.
5. Then the rule's predicate decides; a refusal is a 404, never a 403, so the
   response does not reveal that something exists. An exception inside a
   predicate also refuses.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from accounts import roles

log = logging.getLogger(__name__)


class Decision(enum.Enum):
    ALLOW = "allow"
    SIGN_IN = "sign-in"  # redirect to the password page
    SECOND_FACTOR = "second-factor"  # redirect to the code (or enrolment) page
    DENY = "deny"  # 404


@dataclass(frozen=True)
class Rule:
    name: str
    needs_password: bool = True
    needs_second_factor: bool = True
    predicate: Callable[[object], bool] | None = field(default=None, compare=False)

    def decide(self, user) -> Decision:
        if not self.needs_password:
            return Decision.ALLOW
        if not user.is_authenticated:
            return Decision.SIGN_IN
        if self.needs_second_factor and not user.is_verified():
            return Decision.SECOND_FACTOR
        if self.predicate is None:
            return Decision.ALLOW
        try:
            allowed = bool(self.predicate(user))
        except Exception:
            # An error inside a permission check denies.
            log.exception("access rule %s raised; denying", self.name)
            return Decision.DENY
        return Decision.ALLOW if allowed else Decision.DENY


PUBLIC = Rule("public", needs_password=False, needs_second_factor=False)
PASSWORD_STEP = Rule("password-step", needs_second_factor=False)


def staff(*role_names: str, name: str | None = None) -> Rule:
    """A verified member of staff holding any of ``role_names`` (any role if none)."""
    wanted = tuple(role_names) or roles.ALL_ROLES
    unknown = set(wanted) - set(roles.ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return Rule(
        name or "staff:" + ",".join(wanted),
        predicate=lambda user: user.is_active and user.has_role(*wanted),
    )


ANY_STAFF = staff(name="staff:any")
DJANGO_ADMIN = Rule(
    "django-admin",
    predicate=lambda user: user.is_active and user.is_staff and user.has_role(roles.ADMINISTRATOR),
)

RULE_ATTRIBUTE = "access_rule"


def access(rule: Rule):
    """Attach ``rule`` to a function view or a class-based view."""

    def decorate(view):
        setattr(view, RULE_ATTRIBUTE, rule)
        return view

    return decorate


def rule_for(view_func) -> Rule | None:
    rule = getattr(view_func, RULE_ATTRIBUTE, None)
    if rule is None:
        view_class = getattr(view_func, "view_class", None)
        rule = getattr(view_class, RULE_ATTRIBUTE, None)
    return rule if isinstance(rule, Rule) else None


def protect_patterns(urlconf, rule: Rule):
    """Attach ``rule`` to every view under a third-party ``include()`` (the admin).

    Each callback is wrapped, not mutated, because some (bound methods) cannot
    carry attributes.
    """
    from functools import wraps

    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from django.urls import URLPattern, URLResolver

    patterns = urlconf[0] if isinstance(urlconf, tuple) else urlconf

    def walk(items):
        for item in items:
            if isinstance(item, URLResolver):
                walk(item.url_patterns)
            elif isinstance(item, URLPattern):
                original = item.callback

                @wraps(original)
                def guarded(*args, __view=original, **kwargs):
                    # A refusal inside the admin (its own permission checks) is a 404
                    # like every other refusal, never a 403.
                    try:
                        return __view(*args, **kwargs)
                    except PermissionDenied:
                        raise Http404 from None

                setattr(guarded, RULE_ATTRIBUTE, rule)
                item.callback = guarded

    walk(patterns)
    return urlconf
