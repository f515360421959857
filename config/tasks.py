import time
from importlib import import_module

from celery import shared_task
from celery.signals import beat_init
from django.conf import settings
from django.core.cache import cache


@shared_task(name="config.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Records that beat and a worker are alive; /healthz reports its age."""
    cache.set(settings.HEARTBEAT_CACHE_KEY, time.time(), timeout=None)


@shared_task(name="config.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """Deletes expired sessions (rows holding user and device ids) every night."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@beat_init.connect
def first_heartbeat_on_beat_start(sender=None, **kwargs):
    """Beat sends one heartbeat as it starts, so /healthz shows the whole path
    (beat -> Redis -> worker) working within seconds of start-up, not a minute."""
    heartbeat.delay()
