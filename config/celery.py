"""The Celery app. Settings come from Django settings with the CELERY_ prefix
(config/settings/base.py): JSON only, time limits, acks_late,
reject_on_worker_lost, prefetch 1."""

import os

from celery import Celery

# Production unless told otherwise: demo tools and DEBUG are never on by accident.
# make run / make test / the Makefile set config.settings.local or .test.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("safe_access")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])
