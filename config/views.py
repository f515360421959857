import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.access import ANY_STAFF, PUBLIC, access

log = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        log.warning("health: database unreachable")
        return False


def _redis_ok() -> bool:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        return bool(client.ping())
    except Exception:
        log.warning("health: redis unreachable")
        return False


def _heartbeat_age() -> int | None:
    try:
        beat = cache.get(settings.HEARTBEAT_CACHE_KEY)
    except Exception:
        return None
    return None if beat is None else max(0, int(time.time() - beat))


@access(PUBLIC)
@require_GET
@never_cache
@transaction.non_atomic_requests
def healthz(request):
    """Reachability of the database and Redis. No secrets, no personal data."""
    database, redis_ = _database_ok(), _redis_ok()
    healthy = database and redis_
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": "ok" if database else "unreachable",
        "redis": "ok" if redis_ else "unreachable",
        # Informational: seconds since the Celery beat-driven heartbeat last ran.
        "worker_heartbeat_age_seconds": _heartbeat_age() if redis_ else None,
    }
    return JsonResponse(body, status=200 if healthy else 503)


@access(ANY_STAFF)
@require_GET
def home(request):
    from accounts import roles
    from cases.selectors import break_glass_for_supervisor, held_notice_counts

    context = {}
    if request.user.has_role(roles.SUPERVISOR):
        context["notices"] = held_notice_counts(request.user)
        context["break_glass"] = break_glass_for_supervisor(request.user)
    return render(request, "home.html", context)


def csrf_failure(request, reason=""):
    """A clear page instead of Django's technical CSRF message."""
    return render(request, "403_csrf.html", status=403)
