from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from accounts import roles
from accounts.access import access, staff
from cases import permissions, selectors, services
from cases.forms import (
    AssignForm,
    CaseEditForm,
    CaseloadFilterForm,
    CaseOpenForm,
    CaseSearchForm,
    ContactAddForm,
    ContactEndForm,
    NoteForm,
    OrderForm,
    ParticipantAddForm,
    PersonEditForm,
    RevealForm,
)
from cases.models import CaseStatus
from safety.protected import ProtectedValueError

CASELOAD = staff(roles.CASEWORKER, roles.SUPERVISOR, name="caseload")
PAGE_SIZE = 25


@access(CASELOAD)
@require_GET
def caseload(request):
    """A caseworker's own cases (a supervisor's: the unit's), sorted, filtered, paged."""
    counties = selectors.counties_for_user(request.user)
    form = CaseloadFilterForm(request.GET or None, counties=counties)
    filters = selectors.CaseloadFilters(sort=request.GET.get("sort", selectors.DEFAULT_SORT))
    if form.is_bound and form.is_valid():
        filters = selectors.CaseloadFilters(sort=filters.sort, **form.cleaned_data)
    if filters.sort not in selectors.SORTS:
        filters = selectors.CaseloadFilters(**{**filters.__dict__, "sort": selectors.DEFAULT_SORT})
    page = Paginator(selectors.caseload_for_user(request.user, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    return render(
        request,
        "cases/caseload.html",
        {
            "form": form,
            "page": page,
            "cases": selectors.mark_safety_flags(list(page.object_list)),
            "sort": filters.sort,
            "query": query.urlencode(),
            "statuses": dict(CaseStatus.choices),
            "acp_expiring": selectors.acp_expiring_for_user(request.user),
        },
    )


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
def case_search(request):
    form = CaseSearchForm(request.POST if request.method == "POST" else None)
    results = None
    if request.method == "POST" and form.is_valid():
        results = list(
            selectors.case_search_for_user(
                request.user,
                number=form.cleaned_data["number"],
                name=form.cleaned_data["name"],
                date_of_birth=form.cleaned_data["date_of_birth"],
            )
        )
    return render(request, "cases/search.html", {"form": form, "results": results})


@access(CASELOAD)
@require_GET
def case_detail(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id, with_last_review=True)
    return render(request, "cases/detail.html", {"case": case, **selectors.case_detail(case)})


@sensitive_variables("value")
def _reveal(request, case, *, what: str, reveal):
    form = RevealForm(request.POST if request.method == "POST" else None)
    value, failed = None, False
    if request.method == "POST" and form.is_valid():
        try:
            value = reveal(form.cleaned_data["reason"], form.cleaned_data["reason_text"])
        except ProtectedValueError:
            failed = True  # recorded by the service; nothing is shown
    return render(
        request,
        "cases/reveal.html",
        {
            "case": case,
            "form": form,
            "what": what,
            "value": value,
            "revealed": value is not None,
            "failed": failed,
        },
    )


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def contact_reveal(request, case_id: int, contact_id):
    case = selectors.case_get_for_user(request.user, case_id)
    point = selectors.contact_point_for_case(case, contact_id)
    return _reveal(
        request,
        case,
        what=_("%(kind)s of %(name)s")
        % {"kind": point.get_kind_display(), "name": point.person.full_name},
        reveal=lambda reason, text: services.contact_reveal(
            user=request.user, case=case, contact_point=point, reason=reason, reason_text=text
        ),
    )


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def ssn_reveal(request, case_id: int, person_id):
    case = selectors.case_get_for_user(request.user, case_id)
    person = selectors.person_for_case(case, person_id)

    def reveal(reason, text):
        last_four = services.ssn_reveal_last_four(
            user=request.user, case=case, person=person, reason=reason, reason_text=text
        )
        return f"•••-••-{last_four}" if last_four else _("No SSN on file")

    return _reveal(
        request,
        case,
        what=_("Last four digits of the SSN of %(name)s") % {"name": person.full_name},
        reveal=reveal,
    )


# --- Intake and changes ------------------------------------------------------------

CASEWORKERS = staff(roles.CASEWORKER, name="caseworker")
SUPERVISORS = staff(roles.SUPERVISOR, name="supervisor")


def _form_page(request, form, *, title, case=None, intro="", cancel=None):
    return render(
        request,
        "cases/form.html",
        {
            "form": form,
            "title": title,
            "case": case,
            "intro": intro,
            "cancel": cancel
            or (reverse("cases:detail", args=[case.pk]) if case else reverse("cases:caseload")),
        },
    )


@access(CASEWORKERS)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def case_open(request):
    form = CaseOpenForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(
                user=request.user, case_fields=form.case_fields(), people=form.people()
            )
        except IntegrityError:
            # Another caseworker took the number between the check and the save.
            form.add_error("number", _("A case with this number exists already."))
        else:
            messages.success(request, _("Case %(number)s is open.") % {"number": case.number})
            return redirect("cases:detail", case_id=case.pk)
    return _form_page(
        request,
        form,
        title=_("Open a case"),
        intro=_("Enter what you know now; you can add participants and details later."),
    )


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
def case_edit(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    form = CaseEditForm(request.POST if request.method == "POST" else None, case=case)
    if request.method == "POST" and form.is_valid():
        services.case_update(user=request.user, case=case, fields=form.fields_to_save())
        messages.success(request, _("The case details are saved."))
        return redirect("cases:detail", case_id=case.pk)
    return _form_page(request, form, title=_("Change case details"), case=case)


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def participant_add(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    form = ParticipantAddForm(request.POST if request.method == "POST" else None, case=case)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            person = services.person_create(
                user=request.user,
                first_name=data["person_first_name"],
                last_name=data["person_last_name"],
                date_of_birth=data["person_date_of_birth"],
                ssn=data["person_ssn"],
            )
            services.participant_add(user=request.user, case=case, person=person, role=data["role"])
        messages.success(request, _("%(name)s is added to the case.") % {"name": person.full_name})
        return redirect("cases:detail", case_id=case.pk)
    return _form_page(request, form, title=_("Add a participant"), case=case)


@access(SUPERVISORS)
@require_http_methods(["GET", "POST"])
def case_assign(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    if not permissions.can_assign_cases(request.user):
        raise Http404
    form = AssignForm(
        request.POST if request.method == "POST" else None,
        case=case,
        initial={"caseworker": case.caseworker_id},
    )
    if request.method == "POST" and form.is_valid():
        worker = form.cleaned_data["caseworker"]
        services.case_assign(user=request.user, case=case, caseworker=worker)
        messages.success(
            request,
            _("Case %(number)s is assigned to %(name)s.")
            % {"number": case.number, "name": worker.get_full_name() or worker.username},
        )
        return redirect("cases:detail", case_id=case.pk)
    return _form_page(request, form, title=_("Assign the case"), case=case)


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def contact_add(request, case_id: int, person_id):
    case = selectors.case_get_for_user(request.user, case_id)
    person = selectors.person_for_case(case, person_id)
    form = ContactAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.contact_add(
            user=request.user,
            case=case,
            person=person,
            kind=data["kind"],
            value=data["value"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            source=data["source"],
            safe_for_mail=data["safe_for_mail"],
        )
        messages.success(request, _("The contact details are saved and hidden."))
        return redirect("cases:detail", case_id=case.pk)
    return _form_page(
        request,
        form,
        case=case,
        title=_("Add contact details for %(name)s") % {"name": person.full_name},
        intro=_("Saved encrypted. On the case page it shows only when someone gives a reason."),
    )


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
def order_record(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    form = OrderForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.order_record(user=request.user, case=case, **form.cleaned_data)
        messages.success(request, _("The support order is recorded."))
        return redirect("cases:detail", case_id=case.pk)
    return _form_page(request, form, case=case, title=_("Record a support order"))


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
def note_add(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    form = NoteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.note_add(user=request.user, case=case, body=form.cleaned_data["body"])
        messages.success(request, _("The note is added."))
        return redirect("cases:detail", case_id=case.pk)
    return _form_page(request, form, case=case, title=_("Add a note"))


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def person_edit(request, case_id: int, person_id):
    case = selectors.case_get_for_user(request.user, case_id)
    person = selectors.person_for_case(case, person_id)
    form = PersonEditForm(request.POST if request.method == "POST" else None, person=person)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        new_ssn = data.pop("new_ssn")
        services.person_update(
            user=request.user, case=case, person=person, fields=data, new_ssn=new_ssn
        )
        messages.success(
            request, _("The details of %(name)s are saved.") % {"name": person.full_name}
        )
        return redirect("cases:detail", case_id=case.pk)
    return _form_page(
        request,
        form,
        case=case,
        title=_("Correct the details of %(name)s") % {"name": person.full_name},
    )


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
def contact_end(request, case_id: int, contact_id):
    case = selectors.case_get_for_user(request.user, case_id)
    point = selectors.contact_point_for_case(case, contact_id)
    form = ContactEndForm(request.POST if request.method == "POST" else None, contact_point=point)
    if request.method == "POST" and form.is_valid():
        services.contact_end(
            user=request.user,
            case=case,
            contact_point=point,
            valid_to=form.cleaned_data["valid_to"],
        )
        messages.success(request, _("The contact details are marked as no longer valid."))
        return redirect("cases:detail", case_id=case.pk)
    return _form_page(
        request,
        form,
        case=case,
        title=_("%(kind)s of %(name)s is no longer valid")
        % {"kind": point.get_kind_display(), "name": point.person.full_name},
        intro=_("It stays on file, hidden, with the dates it was valid."),
    )


@access(CASELOAD)
@require_http_methods(["GET", "POST"])
def break_glass(request):
    """Open a case outside one's caseload, saying why. The access lasts
    BREAK_GLASS_MINUTES, is recorded, and the unit's supervisor is told."""
    from django.conf import settings

    from cases.forms import BreakGlassForm

    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        mine = selectors.cases_visible_to(request.user).filter(number=data["number"]).first()
        if mine is not None:
            messages.info(request, _("This case is already in your caseload."))
            return redirect("cases:detail", case_id=mine.pk)
        try:
            grant = services.break_glass_open(
                user=request.user,
                case_number=data["number"],
                reason=data["reason"],
                reason_text=data["reason_text"],
            )
        except services.BreakGlassRefused as refused:
            form.add_error(refused.field, str(refused))
        else:
            messages.warning(
                request,
                _(
                    "You have opened a case outside your caseload. Your reason is recorded "
                    "and your supervisor is told. Access ends in %(minutes)s minutes."
                )
                % {"minutes": settings.BREAK_GLASS_MINUTES},
            )
            return redirect("cases:detail", case_id=grant.case_id)
    return _form_page(
        request,
        form,
        title=_("Open a case outside your caseload"),
        intro=_(
            "Only when you need it now. You must give a reason; it is recorded with your "
            "name, and the case's unit supervisor sees it."
        ),
        cancel=reverse("cases:search"),
    )
