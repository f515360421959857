from django.conf import settings
from django.utils.translation import gettext as _


def default_login_banner() -> str:
    return _(
        "This system holds confidential child support and family violence information. "
        "Use is restricted to authorized staff for official duties and is monitored and "
        "recorded. Unauthorized access or disclosure may result in disciplinary action "
        "and criminal penalties."
    )


def staff_context(request):
    user = getattr(request, "user", None)
    verified = bool(user and user.is_authenticated and user.is_verified())
    return {
        "staff_verified": verified,
        "login_banner_text": settings.LOGIN_BANNER_TEXT or default_login_banner(),
    }
