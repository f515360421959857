"""pytest: the real PostgreSQL and Redis started by make services (.local/env)."""

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, REDIS_URL, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="test-only-secret-key-not-used-anywhere-else-0123456789")
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Fast hashing keeps the suite quick; production uses Django's PBKDF2 default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests use their own Redis database, so a test worker never takes a task queued
# by the 'make run' worker (or the other way round) on the same Redis server.
REDIS_URL = env("TEST_REDIS_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/1")
CACHES["default"]["LOCATION"] = REDIS_URL
CACHES["default"]["KEY_PREFIX"] = "safe-access-test"
CELERY_BROKER_URL = REDIS_URL
# Two test runs on one server at once (say, a developer's and a helper's) need
# different test database names.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_safe_access")}
DEMO_TOOLS = True
ACCEPT_TEST_SSNS = True
STATIC_ROOT = None
# Static files are served by the live server's own handler in browser tests;
# WhiteNoise scanning the USWDS tree for every test client would cost ~0.3 s each.
WHITENOISE_USE_FINDERS = False
