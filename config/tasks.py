import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache


@shared_task(name="config.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Records that beat and a worker are alive; /healthz reports its age."""
    cache.set(settings.HEARTBEAT_CACHE_KEY, time.time(), timeout=None)
