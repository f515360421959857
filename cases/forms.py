from __future__ import annotations

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.db.models import Q
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
    flag = forms.ChoiceField(
        label=_("Safety flag"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Flagged")), ("no", _("Not flagged"))],
    )

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


# --- Intake and changes ------------------------------------------------------------

DATE_FORMATS = ["%m/%d/%Y", "%Y-%m-%d"]
DATE_HELP = _("Month/day/year, for example 4/28/1986")
DATE_ERRORS = {"invalid": _("Enter a real date as month/day/year, for example 4/28/1986.")}


EARLIEST_BIRTH = datetime.date(1900, 1, 1)
# The IV-D child support program began in 1975: nothing on a case is older.
EARLIEST_CASE_DATE = datetime.date(1975, 1, 1)


def date_field(
    label, *, required_message=None, required=True, earliest=EARLIEST_BIRTH, **kwargs
) -> forms.DateField:
    errors = dict(DATE_ERRORS)
    if required_message:
        errors["required"] = required_message

    def not_too_early(value):
        if value and value < earliest:
            raise forms.ValidationError(
                _("Check the year: the date cannot be before %(year)d.") % {"year": earliest.year}
            )

    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        help_text=DATE_HELP,
        error_messages=errors,
        validators=[not_too_early],
        **kwargs,
    )


def not_future(value, message):
    if value and value > timezone.localdate():
        raise forms.ValidationError(message)
    return value


# Shared office computers must not remember (or offer) survivors' details.
NO_AUTOFILL = {"autocomplete": "off"}


def clean_ssn(value: str) -> str:
    """Nine digits, not impossible: not area 000, 666 or 900-999, group 00 or
    serial 0000. Demo and test settings (ACCEPT_TEST_SSNS) accept the 9xx area,
    which is what synthetic records use."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if not value.strip():
        return ""
    if len(digits) != 9 or any(ch not in "0123456789- " for ch in value):
        raise forms.ValidationError(_("Enter the SSN as 9 digits, for example 900-12-3456."))
    if digits[:3] in ("000", "666") or digits[3:5] == "00" or digits[5:] == "0000":
        raise forms.ValidationError(_("That is not a possible SSN. Check the number."))
    if digits[0] == "9" and not settings.ACCEPT_TEST_SSNS:
        # Area 900-999 is never issued as an SSN (it is used for ITINs).
        raise forms.ValidationError(_("That is not a possible SSN. Check the number."))
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def person_fields(prefix: str, *, ssn=True) -> dict[str, forms.Field]:
    """First/last name, date of birth and SSN fields under a prefix."""
    fields = {
        f"{prefix}_first_name": forms.CharField(label=_("First name"), max_length=100),
        f"{prefix}_last_name": forms.CharField(label=_("Last name"), max_length=100),
        f"{prefix}_date_of_birth": date_field(_("Date of birth"), required=False),
    }
    if ssn:
        fields[f"{prefix}_ssn"] = forms.CharField(
            widget=forms.TextInput(attrs=NO_AUTOFILL),
            label=_("SSN"),
            required=False,
            max_length=11,
            help_text=_("9 digits. Leave blank if not known."),
        )
    return fields


class CaseOpenForm(forms.Form):
    number = forms.CharField(
        label=_("Case number"),
        max_length=20,
        error_messages={"required": _("Enter the case number.")},
    )
    office = forms.ModelChoiceField(label=_("Office"), queryset=None, empty_label=_("- Select -"))
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=None, empty_label=_("- Select -"))
    programs = forms.MultipleChoiceField(
        label=_("Programs"),
        choices=list(PROGRAMS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    opened_on = date_field(
        _("Date the case opened"),
        required_message=_("Enter the date the case opened."),
        earliest=EARLIEST_CASE_DATE,
    )
    cp_role = forms.ChoiceField(
        label=_("Custodial party is the"),
        choices=[("custodial_parent", _("Custodial parent")), ("caretaker", _("Caretaker"))],
        widget=forms.RadioSelect,
        initial="custodial_parent",
    )
    ncp_role = forms.ChoiceField(
        label=_("Other parent is the"),
        choices=[
            ("noncustodial_parent", _("Noncustodial parent")),
            ("alleged_father", _("Alleged father")),
        ],
        widget=forms.RadioSelect,
        initial="noncustodial_parent",
    )
    address_line1 = forms.CharField(label=_("Street address"), max_length=120, required=False)
    address_line2 = forms.CharField(
        label=_("Apartment, unit, etc."), max_length=120, required=False
    )
    address_city = forms.CharField(label=_("City"), max_length=80, required=False)
    address_state = forms.CharField(label=_("State (2 letters)"), max_length=2, required=False)
    address_zip = forms.RegexField(
        label=_("ZIP code"),
        regex=r"^\d{5}(-\d{4})?$",
        required=False,
        max_length=10,
        error_messages={"invalid": _("Enter a 5-digit ZIP code, or ZIP+4 like 12345-6789.")},
    )
    phone = forms.RegexField(
        label=_("Phone"),
        regex=r"^[\d\s().+-]{10,20}$",
        required=False,
        max_length=20,
        error_messages={"invalid": _("Enter a phone number with area code, like 555-010-0100.")},
    )
    email = forms.EmailField(label=_("Email"), required=False, max_length=254)

    def __init__(self, *args, user, **kwargs):
        from cases.models import Office, Unit

        super().__init__(*args, **kwargs)
        # Only the caseworker's own units (and their offices) can be chosen.
        units = Unit.objects.filter(caseworkers=user).select_related("office")
        self.fields["unit"].queryset = units
        self.fields["office"].queryset = Office.objects.filter(units__in=units).distinct()
        for prefix in ("cp", "ncp", "child"):
            self.fields.update(person_fields(prefix, ssn=prefix != "child"))
        for name in (
            "address_line1",
            "address_line2",
            "address_city",
            "address_state",
            "address_zip",
            "phone",
            "email",
        ):
            self.fields[name].widget.attrs.update(NO_AUTOFILL)
        self.helper = _helper("case-open", _("Open the case"), name="open")
        from crispy_forms.layout import Fieldset, Layout

        self.helper.layout = Layout(
            Fieldset(_("Case"), "number", "office", "unit", "programs", "opened_on"),
            Fieldset(
                _("Custodial party"),
                "cp_role",
                "cp_first_name",
                "cp_last_name",
                "cp_date_of_birth",
                "cp_ssn",
                "address_line1",
                "address_line2",
                "address_city",
                "address_state",
                "address_zip",
                "phone",
                "email",
            ),
            Fieldset(
                _("Other parent"),
                "ncp_role",
                "ncp_first_name",
                "ncp_last_name",
                "ncp_date_of_birth",
                "ncp_ssn",
            ),
            Fieldset(_("Child"), "child_first_name", "child_last_name", "child_date_of_birth"),
        )

    def clean_number(self):
        from cases.models import Case

        number = self.cleaned_data["number"].strip().upper()
        if Case.objects.filter(number__iexact=number).exists():
            raise forms.ValidationError(_("A case with this number exists already."))
        return number

    def clean_opened_on(self):
        return not_future(
            self.cleaned_data["opened_on"], _("The opening date cannot be in the future.")
        )

    def clean_address_state(self):
        state = self.cleaned_data["address_state"].strip().upper()
        if state and not (len(state) == 2 and state.isalpha()):
            raise forms.ValidationError(_("Enter the 2-letter state code, like NM."))
        return state

    def clean(self):
        cleaned = super().clean()
        for prefix in ("cp", "ncp"):
            key = f"{prefix}_ssn"
            if key in cleaned:
                try:
                    cleaned[key] = clean_ssn(cleaned[key])
                except forms.ValidationError as error:
                    self.add_error(key, error)
        for prefix in ("cp", "ncp", "child"):
            key = f"{prefix}_date_of_birth"
            if cleaned.get(key) and cleaned[key] > timezone.localdate():
                self.add_error(key, _("The date of birth cannot be in the future."))
        if cleaned.get("cp_ssn") and cleaned.get("cp_ssn") == cleaned.get("ncp_ssn"):
            self.add_error(
                "ncp_ssn", _("The custodial party and the other parent cannot have the same SSN.")
            )
        address = [cleaned.get(f"address_{p}") for p in ("line1", "city", "state", "zip")]
        if any(address) and not all(address):
            for part, value in zip(("line1", "city", "state", "zip"), address, strict=True):
                if not value and f"address_{part}" not in self.errors:
                    self.add_error(
                        f"address_{part}", _("Complete the address, or leave it all blank.")
                    )
        unit, office = cleaned.get("unit"), cleaned.get("office")
        if unit and office and unit.office_id != office.pk:
            self.add_error("unit", _("Choose a unit of the selected office."))
        return cleaned

    def people(self) -> list[dict]:
        data = self.cleaned_data
        address = ""
        if data["address_line1"]:
            lines = [
                data["address_line1"],
                data["address_line2"],
                f"{data['address_city']}, {data['address_state']} {data['address_zip']}",
            ]
            address = "\n".join(line for line in lines if line)
        cp_contacts = [
            (kind, value, "self")
            for kind, value in (
                ("residential", address),
                ("phone", data["phone"]),
                ("email", data["email"]),
            )
            if value
        ]
        return [
            {
                "role": data["cp_role"],
                "first_name": data["cp_first_name"],
                "last_name": data["cp_last_name"],
                "date_of_birth": data["cp_date_of_birth"],
                "ssn": data["cp_ssn"],
                "contacts": cp_contacts,
            },
            {
                "role": data["ncp_role"],
                "first_name": data["ncp_first_name"],
                "last_name": data["ncp_last_name"],
                "date_of_birth": data["ncp_date_of_birth"],
                "ssn": data["ncp_ssn"],
            },
            {
                "role": "child",
                "first_name": data["child_first_name"],
                "last_name": data["child_last_name"],
                "date_of_birth": data["child_date_of_birth"],
            },
        ]

    def case_fields(self) -> dict:
        data = self.cleaned_data
        fields = {name: name in data["programs"] for name in PROGRAMS}
        fields.update(
            number=data["number"],
            office=data["office"],
            unit=data["unit"],
            opened_on=data["opened_on"],
        )
        return fields


class CaseEditForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)
    programs = forms.MultipleChoiceField(
        label=_("Programs"),
        choices=list(PROGRAMS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    closed_on = date_field(_("Date the case closed"), required=False, earliest=EARLIEST_CASE_DATE)

    def __init__(self, *args, case, **kwargs):
        self.case = case
        kwargs.setdefault(
            "initial",
            {
                "status": case.status,
                "closed_on": case.closed_on,
                "programs": [name for name in PROGRAMS if getattr(case, name)],
            },
        )
        super().__init__(*args, **kwargs)
        self.helper = _helper("case-edit", _("Save changes"), name="save")

    def clean(self):
        cleaned = super().clean()
        closed_on, status = cleaned.get("closed_on"), cleaned.get("status")
        if status == CaseStatus.CLOSED and not closed_on and "closed_on" not in self.errors:
            self.add_error("closed_on", _("Enter the date the case closed."))
        if closed_on and status != CaseStatus.CLOSED:
            self.add_error("closed_on", _("Only a closed case has a closing date."))
        if closed_on and closed_on < self.case.opened_on:
            self.add_error("closed_on", _("A case cannot close before it opened."))
        if closed_on and closed_on > timezone.localdate():
            self.add_error("closed_on", _("The closing date cannot be in the future."))
        return cleaned

    def fields_to_save(self) -> dict:
        data = self.cleaned_data
        fields = {name: name in data["programs"] for name in PROGRAMS}
        fields.update(status=data["status"], closed_on=data["closed_on"])
        return fields


class ParticipantAddForm(forms.Form):
    role = forms.ChoiceField(label=_("Role on the case"), choices=[])

    def __init__(self, *args, case, **kwargs):
        from cases.models import ParticipantRole

        self.case = case
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = ParticipantRole.choices
        self.fields.update(person_fields("person"))
        self.helper = _helper("participant-add", _("Add to the case"), name="add")

    def clean(self):
        from cases.models import CUSTODIAL_ROLES, OTHER_PARENT_ROLES, Participant
        from cases.selectors import people_with_ssn

        cleaned = super().clean()
        try:
            cleaned["person_ssn"] = clean_ssn(cleaned.get("person_ssn", ""))
        except forms.ValidationError as error:
            self.add_error("person_ssn", error)
            return cleaned
        dob = cleaned.get("person_date_of_birth")
        if dob and dob > timezone.localdate():
            self.add_error("person_date_of_birth", _("The date of birth cannot be in the future."))
        role = cleaned.get("role")
        if not role or self.errors:
            return cleaned
        on_case = Participant.objects.filter(case=self.case)
        same_role = on_case.filter(role=role)
        first = cleaned.get("person_first_name", "")
        last = cleaned.get("person_last_name", "")
        by_name = Q(person__first_name__iexact=first, person__last_name__iexact=last)
        twice = False
        ssn = cleaned["person_ssn"]
        if ssn:
            same_ssn = on_case.filter(person__in=people_with_ssn(ssn))
            twice = same_ssn.filter(role=role).exists()
            custodial, other_side = set(CUSTODIAL_ROLES), set(OTHER_PARENT_ROLES)
            roles_held = set(same_ssn.values_list("role", flat=True))
            if (role in custodial and roles_held & other_side) or (
                role in other_side and roles_held & custodial
            ):
                self.add_error(
                    "person_ssn",
                    _("This SSN belongs to someone on the other side of this case."),
                )
        if not twice and dob:
            # Same name and date of birth, or same name where either has no date.
            twice = (
                same_role.filter(by_name)
                .filter(Q(person__date_of_birth=dob) | Q(person__date_of_birth__isnull=True))
                .exists()
            )
        elif not twice and not ssn:
            twice = same_role.filter(by_name).exists()
        if twice:
            self.add_error("role", _("This person is already on the case in this role."))
        return cleaned


class AssignForm(forms.Form):
    caseworker = forms.ModelChoiceField(
        label=_("Caseworker"),
        queryset=None,
        empty_label=_("- Select -"),
        error_messages={"required": _("Choose a caseworker.")},
    )

    def __init__(self, *args, case, **kwargs):
        from accounts import roles
        from accounts.models import User

        super().__init__(*args, **kwargs)
        # Only the active caseworkers of the case's own unit.
        self.fields["caseworker"].queryset = User.objects.filter(
            is_active=True, groups__name=roles.CASEWORKER, units=case.unit
        ).order_by("last_name", "first_name")
        self.fields["caseworker"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.helper = _helper("case-assign", _("Assign"), name="assign")


class ContactAddForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it?"), choices=[])
    value = forms.CharField(
        label=_("Details"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, **NO_AUTOFILL}),
        help_text=_(
            "An address on several lines, a phone number, an email, or an employer's "
            "name and address."
        ),
        error_messages={"required": _("Enter the details.")},
    )
    valid_from = date_field(_("Valid from"), required_message=_("Enter the date it is valid from."))
    valid_to = date_field(_("Valid until (if known)"), required=False)
    source = forms.ChoiceField(label=_("Where did it come from?"), choices=[])
    safe_for_mail = forms.BooleanField(
        label=_("The person told us mail to this address is safe"),
        required=False,
        help_text=_(
            "Only for an address the person gave themselves. Notices about their own "
            "protection are sent here if they have no Address Confidentiality Program address."
        ),
    )

    def __init__(self, *args, **kwargs):
        from cases.models import ContactKind, ContactSource

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ContactKind.choices
        self.fields["source"].choices = ContactSource.choices
        self.helper = _helper("contact-add", _("Save contact details"), name="save")

    def clean(self):
        import re

        from django.core.validators import validate_email

        cleaned = super().clean()
        kind, value = cleaned.get("kind"), (cleaned.get("value") or "").strip()
        if not kind or not value:
            return cleaned
        if kind == "phone":
            digits = re.sub(r"\D", "", value)
            if not (10 <= len(digits) <= 15) or not re.fullmatch(r"[\d\s().+-]+", value):
                self.add_error(
                    "value", _("Enter a phone number with area code, like 555-010-0100.")
                )
        elif kind == "email":
            try:
                validate_email(value)
            except forms.ValidationError:
                self.add_error("value", _("Enter a valid email address."))
        elif len(value.splitlines()) < 2 and kind in ("mailing", "residential"):
            self.add_error(
                "value", _("Enter the street on one line and the city, state and ZIP on the next.")
            )
        valid_from = cleaned.get("valid_from")
        if valid_from and valid_from > timezone.localdate():
            self.add_error("valid_from", _("The date cannot be in the future."))
        valid_to = cleaned.get("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            self.add_error("valid_to", _("The end date cannot be before the start date."))
        if cleaned.get("safe_for_mail"):
            if kind not in ("mailing", "residential"):
                self.add_error("safe_for_mail", _("Only an address can be marked safe for mail."))
            elif cleaned.get("source") != "self":
                self.add_error(
                    "safe_for_mail",
                    _("Only an address the person gave themselves can be marked safe for mail."),
                )
        cleaned["value"] = value
        return cleaned


class OrderForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount ($)"),
        min_value=0,
        max_value=100000,
        decimal_places=2,
        max_digits=10,
    )
    frequency = forms.ChoiceField(label=_("How often"), choices=[])
    arrears = forms.DecimalField(
        label=_("Arrears ($)"),
        min_value=0,
        max_value=10_000_000,
        decimal_places=2,
        max_digits=12,
        initial=0,
    )
    court = forms.CharField(label=_("Court"), max_length=160)
    order_date = date_field(
        _("Order date"), required_message=_("Enter the order date."), earliest=EARLIEST_CASE_DATE
    )

    def __init__(self, *args, **kwargs):
        from cases.models import Frequency

        super().__init__(*args, **kwargs)
        self.fields["frequency"].choices = Frequency.choices
        self.helper = _helper("order-record", _("Record the order"), name="save")

    def clean_order_date(self):
        return not_future(
            self.cleaned_data["order_date"], _("The order date cannot be in the future.")
        )


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Never write an address, phone number or other locating detail in a note."),
        error_messages={"required": _("Write the note.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("note-add", _("Add the note"), name="save")


class PersonEditForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    date_of_birth = date_field(_("Date of birth"), required=False)
    new_ssn = forms.CharField(
        label=_("Replace the SSN"),
        required=False,
        max_length=11,
        widget=forms.TextInput(attrs=NO_AUTOFILL),
        help_text=_("Only to correct it. Leave blank to keep the SSN on file."),
    )

    def __init__(self, *args, person, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "first_name": person.first_name,
                "middle_name": person.middle_name,
                "last_name": person.last_name,
                "date_of_birth": person.date_of_birth,
            },
        )
        super().__init__(*args, **kwargs)
        self.helper = _helper("person-edit", _("Save changes"), name="save")

    def clean_new_ssn(self):
        return clean_ssn(self.cleaned_data["new_ssn"])

    def clean_date_of_birth(self):
        return not_future(
            self.cleaned_data["date_of_birth"], _("The date of birth cannot be in the future.")
        )


class ContactEndForm(forms.Form):
    valid_to = date_field(
        _("No longer valid from"), required_message=_("Enter the date it stopped being valid.")
    )

    def __init__(self, *args, contact_point, **kwargs):
        self.contact_point = contact_point
        super().__init__(*args, **kwargs)
        self.helper = _helper("contact-end", _("Mark as no longer valid"), name="save")

    def clean_valid_to(self):
        value = self.cleaned_data["valid_to"]
        if value < self.contact_point.valid_from:
            raise forms.ValidationError(_("The end date cannot be before the start date."))
        return not_future(value, _("The date cannot be in the future."))


class BreakGlassForm(forms.Form):
    """Open a case outside one's caseload: the number, a reason and an explanation."""

    number = forms.CharField(
        label=_("Case number"),
        max_length=20,
        error_messages={"required": _("Enter the case number.")},
    )
    reason = forms.ChoiceField(
        label=_("Why do you need this case?"),
        choices=[],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the reason you need this case.")},
    )
    reason_text = forms.CharField(
        label=_("Explanation"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your supervisor sees this. Never write an address here."),
        error_messages={
            "required": _("Explain why you need this case."),
            "max_length": _("Keep the explanation under 1,000 characters."),
        },
    )

    def __init__(self, *args, **kwargs):
        from cases.models import BreakGlassReason

        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = BreakGlassReason.choices
        self.helper = _helper("break-glass", _("Open the case and record my reason"), name="open")

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()
