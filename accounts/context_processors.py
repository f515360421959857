from django.conf import settings


def staff_context(request):
    user = getattr(request, "user", None)
    verified = bool(user and user.is_authenticated and user.is_verified())
    return {
        "staff_verified": verified,
        "login_banner_text": settings.LOGIN_BANNER_TEXT,
    }
