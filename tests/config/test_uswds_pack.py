"""Our crispy-forms template pack renders USWDS markup: labels, hints, errors tied to
their inputs, fieldsets with legends for grouped choices, and no unescaped input."""

from __future__ import annotations

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from crispy_forms.utils import render_crispy_form
from django import forms


class SampleForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As on the court order.", max_length=20)
    county = forms.ChoiceField(label="County", choices=[("", "- Select -"), ("a", "Alpha")])
    contact = forms.ChoiceField(
        label="Contact by", choices=[("mail", "Mail"), ("phone", "Phone")], widget=forms.RadioSelect
    )
    programs = forms.MultipleChoiceField(
        label="Programs",
        choices=[("tanf", "TANF"), ("snap", "SNAP")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    confirmed = forms.BooleanField(label="I have checked this")
    note = forms.CharField(label="Note", widget=forms.Textarea, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.template_pack = "uswds"
        self.helper.layout = Layout(
            Fieldset("About the person", "name", "county", "contact", "programs"),
            "confirmed",
            "note",
        )
        self.helper.add_input(Submit("save", "Save"))


def _html(form) -> str:
    return render_crispy_form(form)


def test_unbound_form_has_labels_hints_and_fieldsets():
    html = _html(SampleForm())
    assert '<label class="usa-label" for="id_name">Name' in html
    assert 'id="id_name-hint"' in html and 'aria-describedby="id_name-hint"' in html
    assert 'class="usa-select"' in html
    assert '<fieldset class="usa-fieldset"' in html
    assert '<legend class="usa-legend usa-legend--large">About the person</legend>' in html
    assert '<legend class="usa-legend">Contact by' in html  # radio group in its own fieldset
    assert html.count('class="usa-radio__input"') == 2
    assert html.count('class="usa-checkbox__input"') == 3  # two programs and the confirmation
    assert 'class="usa-textarea"' in html
    assert 'class="usa-button"' in html
    assert "usa-error-message" not in html


def test_bound_form_with_errors_marks_each_field_for_screen_readers():
    form = SampleForm(data={"name": "x" * 30, "county": "zzz"})
    assert not form.is_valid()
    html = _html(form)
    for field in ("name", "county", "contact", "confirmed"):
        assert f'id="id_{field}-error"' in html, field
    assert 'aria-describedby="id_name-hint id_name-error"' in html
    assert re.search(r'<input[^>]*name="name"[^>]*aria-invalid="true"', html)
    assert "usa-form-group--error" in html
    assert "usa-input--error" in html
    # Programs and note were fine: no error on them.
    assert 'id="id_programs-error"' not in html


def test_submitted_values_are_escaped():
    form = SampleForm(data={"name": '"><script>alert(1)</script>', "note": "</textarea><b>x"})
    html = _html(form)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html or "&quot;&gt;&lt;script" in html
    assert "</textarea><b>" not in html
