"""Production. Every secret and service address comes from the environment with
no default: a missing one stops the process at start-up (ImproperlyConfigured)."""

from .base import *  # noqa: F403
from .base import env, parse_field_keys

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
REDIS_URL = env("REDIS_URL")
FIELD_ENCRYPTION_KEYS = parse_field_keys(env("FIELD_ENCRYPTION_KEYS"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "safe-access",
    }
}
CELERY_BROKER_URL = REDIS_URL
DEMO_TOOLS = False

# HTTPS only. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER_NAME
# (e.g. HTTP_X_FORWARDED_PROTO) so Django knows the original scheme.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
_proxy_header = env("SECURE_PROXY_SSL_HEADER_NAME", default="")
SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=63072000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
