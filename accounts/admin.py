"""The staff-account screens of the Django admin (administrators only, see
config/admin_site.py and accounts/access.py DJANGO_ADMIN).

Administrators manage accounts and roles; they never get superuser powers or
per-user permissions from here, and cannot change their own access (another
administrator must), so one compromised administrator cannot quietly widen it.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.audit import audit_record
from accounts.models import User

ACCESS_FIELDS = ("is_active", "is_staff", "groups")


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "groups")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (
            _("Access"),
            {
                "fields": ACCESS_FIELDS,
                "description": _(
                    "Roles decide what a person may see and do. 'Staff status' opens "
                    "this administration site and is only for administrators. To "
                    "remove someone's access, untick 'Active'; accounts are never "
                    "deleted."
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    filter_horizontal = ("groups",)
    readonly_fields = ("last_login", "date_joined")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.pk == request.user.pk:
            return (*fields, *ACCESS_FIELDS)
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = Group.objects.filter(name__in=roles.ALL_ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        """Record every change to someone's access (roles, active, staff) in the
        audit trail, in the admin's own transaction."""
        before = set(form.instance.groups.values_list("name", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        after = set(form.instance.groups.values_list("name", flat=True))
        flags = [f for f in ("is_active", "is_staff") if f in form.changed_data]
        if change and before == after and not flags:
            return
        audit_record(
            kind="staff_access_changed" if change else "staff_created",
            actor=request.user,
            staff=form.instance.pk,
            roles_added=sorted(after - before),
            roles_removed=sorted(before - after),
            **{f: getattr(form.instance, f) for f in flags},
        )

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit trail keeps pointing at the account
