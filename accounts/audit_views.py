"""The audit trail's pages: who viewed or changed a person's data, what a member of
staff did, and a CSV export of either (itself recorded in the trail).

Every person, member of staff and case is reached through accounts/audit_selectors.py,
so anything outside the user's audit scope is a 404. The pages show ids, codes and
staff names only: never a survivor's or other parent's name, and the trail holds no
protected value to show (docs/decisions/0010-audit-trail.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.paginator import Paginator
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import audit_selectors as selectors
from accounts import roles
from accounts import services as account_services
from accounts.access import access, staff
from accounts.audit import audit_record
from accounts.audit_labels import (
    AUDIT_EXPORT,
    UNKNOWN_ACCOUNT_KINDS,
    detail_items,
    kind_labels,
)
from accounts.forms import OneTimeCodeForm
from cases.forms import DATE_ERRORS, DATE_FORMATS, DATE_HELP
from cases.models import CaseEvent, ParticipantRole

log = logging.getLogger(__name__)

AUDIT = staff(roles.SUPERVISOR, roles.AUDITOR, name="audit")
VIEWED = CaseEvent.Kind.CONTACT_REVEALED  # "Only what they viewed"


# --- Forms --------------------------------------------------------------------------


def _helper(form_id: str, submit: str) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.form_id = form_id
    helper.add_input(Submit("apply", submit))
    return helper


class CaseLookupForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Case number"),
        max_length=20,
        error_messages={
            "required": gettext_lazy("Enter a case number."),
            "max_length": gettext_lazy("A case number has at most 20 characters."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("case-lookup", _("Show the people on the case"))


class ExportForm(OneTimeCodeForm):
    """Downloading a trail is a risky action: it asks for a fresh one-time code."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="export", submit_label=_("Download (CSV)"), **kwargs)
        self.helper.form_id = "trail-export"
        self.fields["code"].label = _("Your one-time code, to confirm the download")


class TrailFilterForm(forms.Form):
    """Filters on a trail. Dates are whole days in the agency's time zone."""

    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=DATE_HELP,
        error_messages=DATE_ERRORS,
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        input_formats=DATE_FORMATS,
        help_text=DATE_HELP,
        error_messages=DATE_ERRORS,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Event type"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose an event type from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = sorted(
            ((code, str(label)) for code, label in kind_labels().items()), key=lambda c: c[1]
        )
        self.fields["kind"].choices = [("", _("Any"))] + labels
        self.helper = _helper("trail-filters", _("Apply filters"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date must be on or after the start date."))
        return cleaned

    def filters(self) -> selectors.TrailFilters:
        return selectors.TrailFilters(**self.cleaned_data)


# --- Pages --------------------------------------------------------------------------


@access(AUDIT)
@require_http_methods(["GET", "POST"])
def index(request):
    """Two ways into the trail: a case's participants (by role, never by name), or
    the members of staff the user may audit. The case number is posted (search
    forms POST: nothing typed goes into a URL)."""
    form = CaseLookupForm(request.POST if request.method == "POST" else None)
    case, participants = None, []
    if form.is_bound and form.is_valid():
        case = selectors.case_find_for_audit(request.user, form.cleaned_data["number"])
        if case is None:
            # Missing and out of scope read the same: the page does not reveal a case.
            form.add_error("number", _("No case with that number that you can audit."))
        else:
            labels = dict(ParticipantRole.choices)
            for role, number, person_id in selectors.case_participants_for_audit(case):
                label = str(labels.get(role, role))
                if number:
                    label = _("%(role)s %(number)d") % {"role": label, "number": number}
                participants.append((label, person_id))
    members = selectors.staff_auditable_by(request.user).order_by("username")
    page = Paginator(members, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/index.html",
        {
            "form": form,
            "case": case,
            "participants": participants,
            "page": page,
            "members": page.object_list,
            "query": query.urlencode(),
        },
    )


def _who(event) -> tuple[str, str]:
    """(username, full name) of the actor, or a label for a record without one."""
    if event.actor is not None:
        return event.actor.username, event.actor.get_full_name()
    if event.kind in UNKNOWN_ACCOUNT_KINDS:
        return _("Unknown account"), ""
    return _("System"), ""


def _rows(request, events, *, person_id=None, link_people=False) -> list[dict]:
    """A page of records, ready to show: one query for its case numbers and (on a
    staff trail) one for which of its people the user may audit."""
    events = list(events)
    numbers = selectors.case_numbers(e.case_id for e in events)
    auditable = (
        selectors.people_in_scope(request.user, (e.person_id for e in events))
        if link_people
        else set()
    )
    labels = kind_labels()
    rows = []
    for event in events:
        username, full_name = _who(event)
        rows.append(
            {
                "seq": event.seq,
                "when": event.occurred_at,
                "username": username,
                "full_name": full_name,
                "what": str(labels.get(event.kind, event.kind)),
                "case_number": numbers.get(event.case_id, event.case_id),
                "person_id": event.person_id,
                "person_linked": event.person_id in auditable,
                "detail": detail_items(event.kind, event.detail, person_id=person_id),
            }
        )
    return rows


def _trail_page(request, *, form, events, subject: str, subject_id, person_id, context):
    """The trail page, or (POST with a fresh one-time code) its CSV export. Invalid
    filters show their errors and no records (not the unfiltered trail), and
    export nothing."""
    valid = form.is_valid()
    export = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and valid and export.is_valid():
        result, _device = account_services.totp_code_check(
            user=request.user, code=export.cleaned_data["code"]
        )
        if result is account_services.CodeCheck.ACCEPTED:
            return _export(
                request,
                events,
                subject=subject,
                subject_id=subject_id,
                person_id=person_id,
                form=form,
            )
        export.add_error("code", _("That code is not valid. Enter the current code from your app."))
    page, rows = None, []
    if valid:
        page = Paginator(events, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
        rows = _rows(request, page.object_list, person_id=person_id, link_people=not person_id)
    query = form.data.copy()
    for key in ("page", "csrfmiddlewaretoken") + tuple(k for k in query if k.startswith("export")):
        query.pop(key, None)
    quick = query.copy()
    quick.pop("kind", None)
    all_query = quick.urlencode()
    quick["kind"] = VIEWED
    return render(
        request,
        "audit/trail.html",
        {
            **context,
            "form": form,
            "export_form": export,
            "export_filters": [(k, v) for k, v in query.items() if k in form.fields],
            "valid": valid,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "all_query": all_query,
            "viewed_query": quick.urlencode(),
            "kind_filter": form.data.get("kind", ""),
            "viewed": str(VIEWED),
            "show_person": not person_id,
        },
    )


@access(AUDIT)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("export-code")
@transaction.non_atomic_requests
def person_trail(request, person_id):
    """Who viewed or changed this person's data: every record about them."""
    person = selectors.person_get_for_audit(request.user, person_id)
    form = TrailFilterForm(request.POST if request.method == "POST" else request.GET)
    events = selectors.trail_for_person(person, form.filters()) if form.is_valid() else None
    labels = dict(ParticipantRole.choices)
    on_cases = [
        (str(labels.get(role, role)), number)
        for role, number in selectors.person_roles_for_audit(request.user, person)
    ]
    return _trail_page(
        request,
        form=form,
        events=events,
        subject="person",
        subject_id=str(person.pk),
        person_id=person.pk,
        context={"person_id": person.pk, "on_cases": on_cases},
    )


@access(AUDIT)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("export-code")
@transaction.non_atomic_requests
def staff_trail(request, user_id: int):
    """What a member of staff did (viewed, changed, signed in), newest first."""
    member = selectors.staff_get_for_audit(request.user, user_id)
    form = TrailFilterForm(request.POST if request.method == "POST" else request.GET)
    events = selectors.trail_for_staff(member, form.filters()) if form.is_valid() else None
    return _trail_page(
        request,
        form=form,
        events=events,
        subject="staff",
        subject_id=member.pk,
        person_id=None,
        context={"member": member},
    )


# --- CSV export ---------------------------------------------------------------------

CSV_HEADER = [
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "kind",
    "case_id",
    "case_number",
    "person_id",
    "detail",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value as a CSV cell that no spreadsheet will run as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


def _csv_lines(events, through_seq):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for batch in selectors.trail_in_batches(events, through_seq=through_seq):
        numbers = selectors.case_numbers(e.case_id for e in batch)
        for e in batch:
            yield writer.writerow(
                [
                    csv_cell(v)
                    for v in (
                        e.seq,
                        e.occurred_at.astimezone(dt.UTC).isoformat() if e.occurred_at else None,
                        e.actor_id,
                        e.actor.username if e.actor else None,
                        e.kind,
                        e.case_id,
                        numbers.get(e.case_id),
                        e.person_id,
                        json.dumps(e.detail, sort_keys=True, separators=(",", ":")),
                    )
                ]
            )


def _export(request, events, *, subject: str, subject_id, person_id, form):
    """Stream the filtered trail as CSV. The export is recorded (and committed)
    before the first row is sent, so one that fails mid-stream is on record too."""
    rows, through_seq = selectors.trail_export_size(events)
    filters = form.cleaned_data
    with transaction.atomic():
        audit_record(
            kind=AUDIT_EXPORT,
            actor=request.user,
            person_id=person_id,
            subject=subject,
            subject_id=subject_id,
            rows=rows,
            through_seq=through_seq,
            date_from=filters["date_from"].isoformat() if filters["date_from"] else None,
            date_to=filters["date_to"].isoformat() if filters["date_to"] else None,
            event_kind=filters["kind"] or None,
        )
    log.info(
        "user %s exported the %s trail %s: %d rows", request.user.pk, subject, subject_id, rows
    )
    response = StreamingHttpResponse(
        _csv_lines(events, through_seq), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f"attachment; filename=audit-{subject}-{subject_id}.csv"
    response["Cache-Control"] = "no-store"
    return response
