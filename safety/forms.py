from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import OneTimeCodeForm
from cases.forms import _helper, date_field
from safety.models import FviReason


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
