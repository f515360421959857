from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter your username.")},
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # pages write their own <form> with csrf and next
        self.helper.form_id = "sign-in-form"
        self.helper.add_input(Submit("sign_in", _("Sign in")))


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("One-time code"),
        help_text=_("The 6-digit code shown in your authenticator app."),
        # Room for the spaces or dash people copy from their app ("123 456").
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "usa-input--small",
            }
        ),
        error_messages={
            "required": _("Enter the 6-digit code from your authenticator app."),
            "invalid": _("Enter the 6-digit code, using numbers only."),
            "max_length": _("Enter the 6-digit code, using numbers only."),
        },
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).replace("-", "")
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise forms.ValidationError(
                self.fields["code"].error_messages["invalid"], code="invalid"
            )
        return code

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # pages write their own <form> with csrf and next
        self.helper.form_id = "one-time-code-form"
        self.helper.add_input(Submit("verify", submit_label or _("Verify")))
