from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import OneTimeCodeForm
from cases.forms import _helper, date_field
from safety.models import FviReason, SafetyReview, hold_remedy_choices


class FviSetForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=FviReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the reason for the flag.")},
    )
    note = forms.CharField(
        label=_("Source or evidence (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The survivor's statement is enough. Never write an address here."),
    )
    review_on = date_field(_("Review reminder (optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("fvi-set", _("Set the flag now"), name="set")


class FviRemovalRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why should the flag be removed?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Give the reason for removing the flag.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("fvi-removal", _("Ask a supervisor to approve"), name="request")


class FviRemovalApproveForm(OneTimeCodeForm):
    """A fresh one-time code from the approving supervisor."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, submit_label=_("Approve removal"), **kwargs)
        self.fields["code"].label = _("Your one-time code, to confirm it is you")


class SafetyReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome of the safety review"),
        choices=SafetyReview.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the outcome of the review.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("safety-review", _("Record the review"), name="save")


class SafetyPlanForm(forms.Form):
    held = forms.MultipleChoiceField(
        label=_("Hold these remedies"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Her choice decides: she may want some remedies and not others."),
    )
    survivor_words = forms.CharField(
        label=_("In her words (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    pause = forms.BooleanField(
        label=_("She asks to pause the case (holds everything)"), required=False
    )
    closure = forms.BooleanField(
        label=_("She asks to close the case (holds everything)"), required=False
    )
    confirm_lift = forms.BooleanField(
        label=_("She asked for the holds I am taking off to be lifted"),
        required=False,
        help_text=_("Needed only when this change takes a hold off."),
    )

    def __init__(self, *args, plan=None, **kwargs):
        self.before = {"held": set(), "pause": False, "closure": False}
        if plan is not None:
            self.before = {
                "held": {r.remedy for r in plan.remedies.all() if r.held},
                "pause": plan.pause_requested_at is not None,
                "closure": plan.closure_requested_at is not None,
            }
            kwargs.setdefault("initial", {**self.before, "held": sorted(self.before["held"])})
        super().__init__(*args, **kwargs)
        self.fields["held"].choices = hold_remedy_choices()
        self.helper = _helper("safety-plan", _("Save the safety plan"), name="save")

    def clean(self):
        """Taking a hold off is confirmed: a blank or mistaken submission must not
        quietly lift the survivor's protection."""
        cleaned = super().clean()
        labels = dict(hold_remedy_choices())
        lifted = [
            str(labels[r]) for r in sorted(self.before["held"] - set(cleaned.get("held", [])))
        ]
        if self.before["pause"] and not cleaned.get("pause"):
            lifted.append(str(_("the pause")))
        if self.before["closure"] and not cleaned.get("closure"):
            lifted.append(str(_("the closure request")))
        if lifted and not cleaned.get("confirm_lift"):
            self.add_error(
                "confirm_lift",
                _("This takes off: %(holds)s. Tick the box to confirm she asked for it.")
                % {"holds": ", ".join(lifted)},
            )
        return cleaned


class CourtHoldForm(forms.Form):
    remedy = forms.ChoiceField(label=_("What the court held"), choices=[], required=False)
    ordered_on = date_field(
        _("Date of the order"), required_message=_("Enter the date of the order.")
    )
    note = forms.CharField(label=_("Court and order reference"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remedy"].choices = [("", _("All enforcement"))] + hold_remedy_choices()
        self.helper = _helper("court-hold", _("Record the court hold"), name="save")

    def clean_ordered_on(self):
        from cases.forms import not_future

        return not_future(self.cleaned_data["ordered_on"], _("The date cannot be in the future."))


class CourtHoldLiftForm(forms.Form):
    lifted_on = date_field(_("Date the hold was lifted"), required_message=_("Enter the date."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("court-hold-lift", _("Lift the hold"), name="save")

    def clean_lifted_on(self):
        from cases.forms import not_future

        return not_future(self.cleaned_data["lifted_on"], _("The date cannot be in the future."))


class AcpForm(forms.Form):
    program_name = forms.CharField(label=_("Program"), max_length=120, initial="Safe at Home")
    participant_id = forms.CharField(
        label=_("Participant id"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    substitute_address = forms.CharField(
        label=_("Substitute address"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The program's address that notices will carry instead of hers."),
    )
    certified_until = date_field(
        _("Certified until"), required_message=_("Enter the date the certification ends.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("acp", _("Record the enrolment"), name="save")

    def clean_certified_until(self):
        from django.utils import timezone

        value = self.cleaned_data["certified_until"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("That certification has already ended."))
        return value


def _decision_reason(label):
    return forms.CharField(
        label=label,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Give the reason for your decision."),
            "max_length": _("Keep the reason under 2,000 characters."),
        },
        help_text=_("Never write an address or other locating detail here."),
    )


class NoticeKeepForm(forms.Form):
    reason = _decision_reason(_("Why keep it held?"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="keep", **kwargs)
        self.helper = _helper("notice-keep", _("Keep it held"), name="keep")


class NoticeCancelForm(OneTimeCodeForm):
    reason = _decision_reason(_("Why cancel it?"))
    confirm = forms.BooleanField(
        label=_("I understand a cancelled notice is never sent and cannot be restored."),
        error_messages={"required": _("Confirm that you want to cancel the notice for good.")},
    )
    field_order = ["reason", "confirm", "code"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="cancel", submit_label=_("Cancel the notice"), **kwargs)
        self.helper.form_id = "notice-cancel"
        self.fields["code"].label = _("Your one-time code, to confirm the cancellation")


class NoticeReleaseForm(OneTimeCodeForm):
    """Release a held notice: a written reason, an explicit confirmation of the
    reasons being overridden, and a fresh one-time code."""

    reason = _decision_reason(_("Why is it safe to send?"))
    confirm = forms.BooleanField(
        label=_("I have read every reason above and I decide this notice may be sent."),
        error_messages={"required": _("Confirm that you have read the reasons it is held.")},
    )
    # The gate reasons shown on the page; the release is refused if they changed.
    seen = forms.CharField(required=False, widget=forms.HiddenInput, max_length=400)
    field_order = ["reason", "confirm", "code", "seen"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="release", submit_label=_("Release the notice"), **kwargs)
        self.helper.form_id = "notice-release"
        self.fields["code"].label = _("Your one-time code, to confirm the release")

    def clean_seen(self):
        return sorted(filter(None, self.cleaned_data.get("seen", "").split(",")))
