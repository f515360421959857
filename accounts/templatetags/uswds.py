"""Widget rendering for the USWDS crispy-forms template pack (templates/uswds/).

Adds the USWDS classes, ``aria-invalid`` and an ``aria-describedby`` naming the
hint and error message, so a screen reader announces both with the field.
"""

from django import forms, template
from django.forms.boundfield import BoundWidget

register = template.Library()


def _widget_class(widget: forms.Widget, has_errors: bool) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "usa-checkbox__input"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "usa-checkbox__input"
    if isinstance(widget, forms.RadioSelect):
        return "usa-radio__input"
    if isinstance(widget, forms.Select):
        return "usa-select" + (" usa-input--error" if has_errors else "")
    if isinstance(widget, forms.Textarea):
        return "usa-textarea" + (" usa-input--error" if has_errors else "")
    if isinstance(widget, forms.FileInput):
        return "usa-file-input"
    return "usa-input" + (" usa-input--error" if has_errors else "")


def _attrs(field) -> dict[str, str]:
    widget = field.field.widget
    classes = " ".join(
        c for c in (_widget_class(widget, bool(field.errors)), widget.attrs.get("class", "")) if c
    )
    attrs = {"class": classes}
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}-hint")
    if field.errors:
        described.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return attrs


@register.simple_tag
def uswds_widget(field):
    return field.as_widget(attrs=_attrs(field))


@register.simple_tag
def uswds_choices(field):
    """The options of a radio or checkbox group, each with the USWDS input class."""
    widget = field.field.widget
    attrs = _attrs(field)
    attrs["id"] = field.auto_id
    return [
        BoundWidget(widget, option, field.form.renderer)
        for option in widget.subwidgets(field.html_name, field.value(), attrs=attrs)
    ]
