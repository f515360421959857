"""FVI pages. Every object is reached through a case the user may see
(cases.selectors), so anything else is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import roles
from accounts.access import access, staff
from cases import selectors
from safety import services
from safety.forms import (
    AcpForm,
    CourtHoldForm,
    CourtHoldLiftForm,
    FviRemovalApproveForm,
    FviRemovalRequestForm,
    FviSetForm,
    NoticeCancelForm,
    NoticeKeepForm,
    NoticeReleaseForm,
    SafetyPlanForm,
    SafetyReviewForm,
)
from safety.models import CourtOrderHold, FamilyViolenceIndicator, FviRemovalRequest, SafetyPlan

CASE_TEAM = staff(roles.CASEWORKER, roles.SUPERVISOR, name="case-team")
SUPERVISORS = staff(roles.SUPERVISOR, name="supervisor")


def _page(request, form, *, case, title, intro=""):
    from django.urls import reverse

    return render(
        request,
        "cases/form.html",
        {
            "form": form,
            "case": case,
            "title": title,
            "intro": intro,
            "cancel": reverse("cases:detail", args=[case.pk]),
        },
    )


def _fvi_on_case(case, fvi_id) -> FamilyViolenceIndicator:
    person_ids = case.participants.values("person_id")
    fvi = FamilyViolenceIndicator.objects.filter(pk=fvi_id, person_id__in=person_ids).first()
    if fvi is None:
        raise Http404
    return fvi


def _removal_on_case(case, request_id) -> FviRemovalRequest:
    person_ids = case.participants.values("person_id")
    removal = (
        FviRemovalRequest.objects.select_related("fvi", "fvi__person")
        .filter(pk=request_id, fvi__person_id__in=person_ids)
        .first()
    )
    if removal is None:
        raise Http404
    return removal


@access(CASE_TEAM)
@require_http_methods(["GET", "POST"])
def fvi_set(request, case_id: int, person_id):
    case = selectors.case_get_for_user(request.user, case_id)
    person = selectors.person_for_case(case, person_id)
    form = FviSetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.fvi_set(user=request.user, person=person, **form.cleaned_data)
        messages.success(
            request,
            _("The flag is set on %(name)s. Every case they are on is protected now.")
            % {"name": person.full_name},
        )
        return redirect("cases:detail", case_id=case.pk)
    return _page(
        request,
        form,
        case=case,
        title=_("Set a family violence indicator on %(name)s") % {"name": person.full_name},
        intro=_(
            "It applies at once to every case this person is on. Enforcement and notices "
            "are held, and their address is never disclosed."
        ),
    )


@access(CASE_TEAM)
@require_http_methods(["GET", "POST"])
def fvi_removal_request(request, case_id: int, fvi_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    fvi = _fvi_on_case(case, fvi_id)
    form = FviRemovalRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fvi_removal_request(
                user=request.user, fvi=fvi, reason=form.cleaned_data["reason"]
            )
        except services.SafetyActionRefused as refused:
            form.add_error(None, _(str(refused)))  # noqa: INT001
        else:
            messages.success(request, _("The removal request is waiting for a supervisor."))
            return redirect("cases:detail", case_id=case.pk)
    return _page(
        request,
        form,
        case=case,
        title=_("Ask to remove the flag"),
        intro=_(
            "A different person, a supervisor, must approve. The flag stays on for the "
            "waiting period after approval, and the request can be cancelled until then."
        ),
    )


@access(SUPERVISORS)
@require_http_methods(["GET", "POST"])
def fvi_removal_approve(request, case_id: int, request_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    removal = _removal_on_case(case, request_id)
    form = FviRemovalApproveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            removal = services.fvi_removal_approve(
                user=request.user, request=removal, code=form.cleaned_data["code"]
            )
        except services.SafetyActionRefused as refused:
            form.add_error(refused.field, _(str(refused)))  # noqa: INT001
        else:
            messages.success(
                request,
                _(
                    "Approved. The protected person is sent a notice now. The flag comes off "
                    "on %(date)s unless the request is cancelled, and not before that notice "
                    "is sent."
                )
                % {"date": removal.effective_at.date().isoformat()},
            )
            return redirect("cases:detail", case_id=case.pk)
    return _page(
        request,
        form,
        case=case,
        title=_("Approve removing the flag"),
        intro=_("Reason given: %(reason)s") % {"reason": removal.reason},
    )


@access(CASE_TEAM)
@require_http_methods(["POST"])
def fvi_removal_cancel(request, case_id: int, request_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    removal = _removal_on_case(case, request_id)
    try:
        services.fvi_removal_cancel(user=request.user, request=removal)
    except services.SafetyActionRefused as refused:
        messages.error(request, _(str(refused)))  # noqa: INT001
    else:
        messages.success(request, _("The removal is cancelled; the flag stays on."))
    return redirect("cases:detail", case_id=case.pk)


@access(CASE_TEAM)
@require_http_methods(["GET", "POST"])
def safety_review(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    form = SafetyReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.safety_review_record(user=request.user, case=case, **form.cleaned_data)
        messages.success(request, _("The safety review is recorded."))
        return redirect("cases:detail", case_id=case.pk)
    return _page(
        request,
        form,
        case=case,
        title=_("Record a safety review"),
        intro=_(
            "Offer safety information and a chance to talk privately. Never force a "
            "disclosure. Until a review is recorded, enforcement on this case is held."
        ),
    )


@access(CASE_TEAM)
@require_http_methods(["GET", "POST"])
def safety_plan(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    plan = SafetyPlan.objects.filter(case=case).prefetch_related("remedies").first()
    form = SafetyPlanForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.safety_plan_update(
            user=request.user,
            case=case,
            held_remedies=set(data["held"]),
            pause=data["pause"],
            closure=data["closure"],
            survivor_words=data["survivor_words"],
        )
        messages.success(request, _("The safety plan is saved and applies at once."))
        return redirect("cases:detail", case_id=case.pk)
    return _page(request, form, case=case, title=_("Safety plan"))


@access(CASE_TEAM)
@require_http_methods(["GET", "POST"])
def court_hold_add(request, case_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    form = CourtHoldForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.court_hold_add(user=request.user, case=case, **form.cleaned_data)
        messages.success(request, _("The court hold is recorded and applies at once."))
        return redirect("cases:detail", case_id=case.pk)
    return _page(request, form, case=case, title=_("Record a court hold"))


@access(CASE_TEAM)
@require_http_methods(["GET", "POST"])
def court_hold_lift(request, case_id: int, hold_id: int):
    case = selectors.case_get_for_user(request.user, case_id)
    hold = CourtOrderHold.objects.filter(pk=hold_id, case=case).first()
    if hold is None:
        raise Http404
    form = CourtHoldLiftForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.court_hold_lift(user=request.user, hold=hold, **form.cleaned_data)
        except services.SafetyActionRefused as refused:
            form.add_error("lifted_on", str(refused))
        else:
            messages.success(request, _("The court hold is lifted."))
            return redirect("cases:detail", case_id=case.pk)
    return _page(request, form, case=case, title=_("Lift a court hold"))


@access(CASE_TEAM)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("participant_id")
def acp_record(request, case_id: int, person_id):
    case = selectors.case_get_for_user(request.user, case_id)
    person = selectors.person_for_case(case, person_id)
    form = AcpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.acp_record(user=request.user, case=case, person=person, **form.cleaned_data)
        messages.success(request, _("The enrolment is recorded."))
        return redirect("cases:detail", case_id=case.pk)
    return _page(
        request,
        form,
        case=case,
        title=_("Address Confidentiality Program: %(name)s") % {"name": person.full_name},
    )


def _reason_labels() -> dict[str, str]:
    from safety.gate import REASON_LABELS
    from safety.pipeline import LEAK_BLOCKED, RENDER_FAILED

    return {
        **{k: str(v) for k, v in REASON_LABELS.items()},
        LEAK_BLOCKED: _("A protected value was found in the document"),
        RENDER_FAILED: _("The document could not be produced"),
    }


@access(SUPERVISORS)
@require_http_methods(["GET"])
def held_notices(request):
    """Held notices on the supervisor's units' cases, by reason and age."""
    from cases.models import Notice
    from cases.selectors import cases_visible_to

    reasons = _reason_labels()
    reason = request.GET.get("reason", "")
    held = (
        Notice.objects.filter(status="held", case__in=cases_visible_to(request.user))
        .select_related("case")
        .order_by("decided_at", "id")
    )
    if reason in reasons:
        held = held.filter(hold_reasons__contains=[reason])
    page = Paginator(held, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "safety/held_notices.html",
        {"page": page, "notices": page.object_list, "reason": reason, "reasons": reasons},
    )


def _notice_for(request, notice_id: int):
    """A notice on a case the supervisor may see, or 404."""
    from cases.models import Notice
    from cases.selectors import cases_visible_to

    notice = (
        Notice.objects.filter(pk=notice_id, case__in=cases_visible_to(request.user))
        .select_related("case")
        .first()
    )
    if notice is None:
        raise Http404
    return notice


def _review_page(request, notice, *, keep=None, cancel=None, release=None):
    """One held notice: why it is held (then and now), what was decided before,
    and the three decisions a supervisor can make."""
    from safety.notices import notice_gate_now

    labels = _reason_labels()
    standing = notice_gate_now(notice.pk) if notice.status == "held" else []
    seen = ",".join(sorted(standing or []))
    keep = keep or NoticeKeepForm()
    cancel = cancel or NoticeCancelForm()
    if release is None:
        release = NoticeReleaseForm(initial={"seen": seen})
    else:
        # Re-shown after a refusal: the form now carries the reasons shown now.
        release.data = release.data.copy()
        release.data[release.add_prefix("seen")] = seen
    return render(
        request,
        "safety/notice_review.html",
        {
            "notice": notice,
            "case": notice.case,
            "held_for": [labels.get(r, r) for r in notice.hold_reasons],
            "standing": None if standing is None else [labels.get(r, r) for r in standing],
            "releasable": standing is not None and not services.NOT_RELEASABLE & set(standing),
            "decisions": notice.decisions.select_related("decided_by").order_by("-id"),
            "keep_form": keep,
            "cancel_form": cancel,
            "release_form": release,
            "forms": [keep, cancel, release],
        },
    )


@access(SUPERVISORS)
@require_http_methods(["GET"])
def notice_review(request, notice_id: int):
    return _review_page(request, _notice_for(request, notice_id))


def _decide(request, notice_id: int, form_class, act, done_message, form_name):
    """Shared POST handling: a bad form or a refused decision re-shows the page
    with the message at the field; a decision made returns to the list."""
    notice = _notice_for(request, notice_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(notice, form.cleaned_data)
        except services.SafetyActionRefused as refused:
            form.add_error(refused.field, _(str(refused)))  # noqa: INT001
        else:
            messages.success(request, done_message % {"id": notice.pk})
            return redirect("safety:held_notices")
    return _review_page(request, notice, **{form_name: form})


@access(SUPERVISORS)
@require_http_methods(["POST"])
def notice_keep(request, notice_id: int):
    return _decide(
        request,
        notice_id,
        NoticeKeepForm,
        lambda notice, data: services.notice_keep(
            user=request.user, notice=notice, reason=data["reason"]
        ),
        _("Notice %(id)s stays held. Your reason is recorded."),
        "keep",
    )


@access(SUPERVISORS)
@require_http_methods(["POST"])
@sensitive_post_parameters("cancel-code")
def notice_cancel(request, notice_id: int):
    """Cancel a held notice (it will never be sent), with a written reason."""
    return _decide(
        request,
        notice_id,
        NoticeCancelForm,
        lambda notice, data: services.notice_cancel(
            user=request.user, notice=notice, reason=data["reason"], code=data["code"]
        ),
        _("Notice %(id)s is cancelled and will never be sent."),
        "cancel",
    )


@access(SUPERVISORS)
@require_http_methods(["POST"])
@sensitive_post_parameters("release-code")
def notice_release(request, notice_id: int):
    """Release a held notice with a reason and a fresh one-time code."""
    return _decide(
        request,
        notice_id,
        NoticeReleaseForm,
        lambda notice, data: services.notice_release(
            user=request.user,
            notice=notice,
            reason=data["reason"],
            code=data["code"],
            seen_reasons=data["seen"],
        ),
        _(
            "Notice %(id)s is released. It is checked again at the moment of sending "
            "and goes out only if nothing new holds it."
        ),
        "release",
    )
