from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class SafeAccessAdminSite(OTPAdminSite):
    """The Django admin, reachable only from a password + TOTP verified session."""

    site_header = _("Safe Access administration")
    site_title = _("Safe Access administration")
    index_title = _("Staff accounts and reference data")

    def __init__(self, name="admin"):
        # OTPAdminSite names itself "otpadmin"; keep the usual admin: namespace.
        super().__init__(name=name)
