"""What the administrator role may do in the Django admin: manage staff accounts
and roles, delete a lost authenticator (the key itself is never shown:
OTP_ADMIN_HIDE_SENSITIVE_DATA), and clear a sign-in lockout. Nothing else."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINISTRATOR_PERMISSIONS = [
    ("accounts", "user", ["view", "add", "change"]),
    ("otp_totp", "totpdevice", ["view", "delete"]),
    ("axes", "accessattempt", ["view", "delete"]),
    ("axes", "accesslog", ["view"]),
]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="administrator")
    for app_label, model, actions in ADMINISTRATOR_PERMISSIONS:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                )
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="administrator").first().permissions.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("otp_totp", "0003_add_timestamps"),
        ("axes", "0010_accessattemptexpiration"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
