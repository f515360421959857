from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import PROGRAMS, CaseStatus, RevealReason


def _helper(form_id: str, submit: str | None = None, name: str = "submit") -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # templates write the <form> with csrf
    helper.form_id = form_id
    if submit:
        helper.add_input(Submit(name, submit))
    return helper


class CaseloadFilterForm(forms.Form):
    """Filters for the caseload table (GET: no personal data in them)."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + list(CaseStatus.choices)
    )
    program = forms.ChoiceField(
        label=_("Program"), required=False, choices=[("", _("Any"))] + list(PROGRAMS.items())
    )
    county = forms.ChoiceField(label=_("County"), required=False)

    def __init__(self, *args, counties: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = [("", _("Any"))] + [(c, c) for c in counties]
        self.helper = _helper("caseload-filters", _("Apply filters"), name="apply")


class CaseSearchForm(forms.Form):
    """Search terms are personal data: the form POSTs, and nothing goes in the URL."""

    number = forms.CharField(label=_("Case number"), required=False, max_length=20)
    name = forms.CharField(
        label=_("Participant name"),
        required=False,
        max_length=100,
        help_text=_("First or last name, or both. Close spellings match too."),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        help_text=_("For example: 4/28/1986"),
        input_formats=["%m/%d/%Y", "%Y-%m-%d"],
        error_messages={"invalid": _("Enter the date as month/day/year, for example 4/28/1986.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("case-search", _("Search"), name="search")

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if name and len(name.replace(" ", "")) < 2:
            raise forms.ValidationError(_("Enter at least two letters of the name."))
        return name

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not any(cleaned.get(k) for k in ("number", "name", "date_of_birth")):
            raise forms.ValidationError(_("Enter a case number, a name or a date of birth."))
        return cleaned


class RevealForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why do you need to see it?"),
        choices=RevealReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the reason you need to see this.")},
    )
    reason_text = forms.CharField(
        label=_("Explain (required for 'Other')"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("reveal-form", _("Show it and record my reason"), name="reveal")

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("reason") == RevealReason.OTHER
            and not cleaned.get("reason_text", "").strip()
        ):
            self.add_error("reason_text", _("Explain why you need to see it."))
        return cleaned
