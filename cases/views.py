from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import roles
from accounts.access import access, staff

CASELOAD = staff(roles.CASEWORKER, roles.SUPERVISOR, name="caseload")


@access(CASELOAD)
@require_GET
def caseload(request):
    """A caseworker's own cases (a supervisor's: the unit's).

    Cases, participants and the user-scoped selector arrive with the case model;
    until then every caseload is empty and the page says so.
    """
    return render(request, "cases/caseload.html", {"cases": []})
