"""Admin screens for cases' reference data (offices, units) and read-only views of
case records. The administrator role gets the reference data only (least
privilege: administrators do not read survivor data). Protected values are never
decrypted here: a sealed value displays as a mask, and list pages do not show it
at all."""

from django.contrib import admin

from cases import models


@admin.register(models.Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "county")
    search_fields = ("code", "name", "county")


@admin.register(models.Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "office", "supervisor")
    list_select_related = ("office", "supervisor")
    list_filter = ("office",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Case records change only through the application's own pages and services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "office", "unit", "status", "caseworker", "opened_on")
    list_select_related = ("office", "unit", "caseworker")
    list_filter = ("status",)
    search_fields = ("number",)


@admin.register(models.Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("last_name", "first_name", "date_of_birth")
    search_fields = ("last_name", "first_name")
    exclude = ("ssn", "ssn_index")


@admin.register(models.ContactPoint)
class ContactPointAdmin(ReadOnlyAdmin):
    list_display = ("person", "kind", "valid_from", "valid_to", "source")
    list_select_related = ("person",)
    exclude = ("value",)
