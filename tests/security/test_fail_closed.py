"""Fail closed: an error inside a permission check denies (a 404, the view never
runs), and an error inside the gate holds (tests/safety/test_gate.py and
tests/safety/test_notice_gate.py drop the gate function under a live decision)."""

from __future__ import annotations

import pytest
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from accounts.access import Decision, Rule, access
from accounts.middleware import AccessRuleMiddleware
from safety import gate
from tests.factories import full_case

pytestmark = pytest.mark.django_db


def _broken(user):
    raise RuntimeError("the role lookup failed")


BROKEN = Rule("broken-check", predicate=_broken)
ran = []


@access(BROKEN)
def guarded(request):
    ran.append(request)
    return HttpResponse("secret")


def test_an_error_inside_a_permission_check_denies(caseworker, caplog):
    # As django-otp's middleware marks a user who passed the second factor.
    caseworker.is_verified = lambda: True
    assert BROKEN.decide(caseworker) is Decision.DENY
    request = RequestFactory().get("/guarded/")
    request.user = caseworker
    middleware = AccessRuleMiddleware(lambda r: HttpResponse())
    with pytest.raises(Http404):
        middleware.process_view(request, guarded, (), {})
    assert ran == []
    assert "access rule broken-check raised; denying" in caplog.text


def test_an_error_inside_the_gate_holds(caseworker):
    case = full_case(caseworker=caseworker)
    from django.db import connection, transaction

    with transaction.atomic():
        sid = transaction.savepoint()
        with connection.cursor() as cursor:
            cursor.execute("ALTER FUNCTION safety_gate(bigint, text, boolean) RENAME TO gone")
        assert gate.decide(case.pk, "income_withholding").reasons == (gate.GATE_ERROR,)
        assert all(d.reasons == (gate.GATE_ERROR,) for _r, d in gate.decide_all(case.pk))
        transaction.savepoint_rollback(sid)
