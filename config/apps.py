from django.contrib.admin.apps import AdminConfig


class SafeAccessAdminConfig(AdminConfig):
    """Makes the OTP-protected site (config/admin_site.py) the default admin site."""

    default_site = "config.admin_site.SafeAccessAdminSite"
