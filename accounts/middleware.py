import logging
import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode

from accounts.access import Decision, rule_for
from config.context import user_id_var

log = logging.getLogger(__name__)

SESSION_STARTED = "sa_auth_started"
SESSION_LAST_SEEN = "sa_last_seen"
SESSION_EXPIRED_FLAG = "sa_session_expired"


BACKGROUND_REFRESH = "X-Background-Refresh"
# Activity is recorded at most once a minute: a page within a minute of the last
# recorded one leaves the session unchanged, so most pages do not write it (one
# UPDATE fewer each). An idle session therefore ends between SESSION_IDLE_TIMEOUT
# less a minute and SESSION_IDLE_TIMEOUT after the last page.
ACTIVITY_RESOLUTION = 60


class SessionExpiryMiddleware:
    """Ends a signed-in session after 15 minutes idle or 12 hours in all.

    The session is flushed server-side (not merely the cookie dropped), and the
    next page says why. Both limits are settings (SESSION_IDLE_TIMEOUT,
    SESSION_ABSOLUTE_TIMEOUT).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.setdefault(SESSION_STARTED, now)
            last_seen = session.get(SESSION_LAST_SEEN, now)
            if (
                now - last_seen > settings.SESSION_IDLE_TIMEOUT
                or now - started > settings.SESSION_ABSOLUTE_TIMEOUT
            ):
                log.info("session expired for user %s", request.user.pk)
                logout(request)
                request.session[SESSION_EXPIRED_FLAG] = True
            elif request.headers.get(BACKGROUND_REFRESH) != "1" and (
                SESSION_LAST_SEEN not in session or now - last_seen >= ACTIVITY_RESOLUTION
            ):
                # A page refreshing itself (notice-run progress) is not someone at
                # the desk: it never keeps an idle session alive.
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class AccessRuleMiddleware:
    """Enforces the view's access rule before the view runs (deny by default)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated:
            user_id_var.set(str(request.user.pk))
        rule = rule_for(view_func)
        if rule is None:
            log.error("view %s has no access rule; denying", getattr(view_func, "__name__", "?"))
            raise Http404
        decision = rule.decide(request.user)
        if decision is Decision.ALLOW:
            return None
        if decision is Decision.DENY:
            raise Http404
        target = "accounts:login" if decision is Decision.SIGN_IN else "accounts:otp"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


class NoStoreMiddleware:
    """Pages may hold confidential data: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response
