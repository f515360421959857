"""Administrators keep the offices and units (reference data); they get no
permission on case records, which they must not read by default."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = [("office", ["view", "add", "change"]), ("unit", ["view", "add", "change"])]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="administrator")
    for model, actions in PERMISSIONS:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label="cases", codename=f"{action}_{model}")
            )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="administrator").first()
    if group:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="cases"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("accounts", "0003_administrator_permissions")]

    operations = [migrations.RunPython(grant, revoke)]
