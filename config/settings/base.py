"""Settings shared by every environment. Read through django-environ.

Environment-specific modules (local, test, production) import this and override.
Anything secret comes from the environment; production has no defaults for it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp import constants as csp
from django.utils.translation import gettext_lazy as _

from config.keys import parse_field_keys

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
DEMO_TOOLS = False  # demo-only commands (printing TOTP codes); never in production
# Accept SSNs from the never-issued 900-999 area (synthetic demo and test data only).
ACCEPT_TEST_SSNS = False
# Hold every remedy on a case with no safety review recorded (fail closed).
SAFETY_HOLD_UNSCREENED = env.bool("SAFETY_HOLD_UNSCREENED", default=True)
# Days between an approved FVI removal and the flag actually coming off.
FVI_REMOVAL_WAIT_DAYS = env.int("FVI_REMOVAL_WAIT_DAYS", default=30)
# Where delivered notices are written, as a print vendor's drop would receive them.
NOTICE_OUTBOX_DIR = Path(env("NOTICE_OUTBOX_DIR", default=str(BASE_DIR / ".local" / "outbox")))
# Released notices are dispatched in chunks of this many.
NOTICE_DISPATCH_CHUNK = env.int("NOTICE_DISPATCH_CHUNK", default=200)
# The sweeper leaves a notice marked sent but not yet in the outbox alone this long
# (a worker may still be publishing it), then publishes it itself.
NOTICE_SWEEP_GRACE_SECONDS = env.int("NOTICE_SWEEP_GRACE_SECONDS", default=300)
# A notice released this long ago and still waiting, when the broker holds no task
# at all, lost its task (Redis restarted empty, say): the sweeper queues it again.
NOTICE_REQUEUE_AFTER_SECONDS = env.int("NOTICE_REQUEUE_AFTER_SECONDS", default=600)
# Staff are prompted this many days before an ACP certification expires.
ACP_EXPIRY_WARNING_DAYS = env.int("ACP_EXPIRY_WARNING_DAYS", default=60)
# How long "break the glass" access to a case outside one's scope lasts.
BREAK_GLASS_MINUTES = env.int("BREAK_GLASS_MINUTES", default=30)

# --- Secrets and services (production overrides with required values) -------
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres:///safe_access")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Set on every connection (decision 0012). No JIT: it compiled for up to half a
# second on the state-scale name search, more than the query then saved; our
# queries are short. No parallel workers: under 50 users each parallel query
# started processes the busy cores could not run, and throughput fell (14.8
# against 17.6 requests/s on the same load). A work_mem of 16MB keeps a broad
# bitmap scan exact: at the 4MB default it went lossy and re-checked every row
# of its pages.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    "-c jit=off -c max_parallel_workers_per_gather=0 -c work_mem=16MB"
)
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
_field_keys = env("FIELD_ENCRYPTION_KEYS", default="")
FIELD_ENCRYPTION_KEYS = parse_field_keys(_field_keys) if _field_keys else {}

# --- Applications -------------------------------------------------------------
INSTALLED_APPS = [
    "config.apps.SafeAccessAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "crispy_forms",
    "csp",
    "accounts",
    "cases",
    "safety",
    "screening",
    "referrals",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.AccessRuleMiddleware",
    "accounts.middleware.NoStoreMiddleware",
    # Last, so it sees failures of everything above (lockout handling).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "accounts.context_processors.staff_context",
            ],
        },
    },
]

# --- Authentication, MFA, lockout, sessions ------------------------------------
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses authentication for a locked username before any
    # password check, so a locked account is indistinguishable from a wrong password
    # apart from the lockout message, which is shown for unknown usernames too.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout (docs/decisions/0002-mfa-lockout-sessions.md): 5 failed password
# attempts for a username lock that username for 30 minutes, whatever the client
# address, whether or not the username exists.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 suggests also locking by client address. Agency offices sit behind one
# NAT address, so a per-address lockout would let one mistyping (or one hostile)
# user lock out a whole office; address-based rate limiting belongs at the edge
# proxy. Per-account lockout is the requirement (decision record 0002).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Failed OTP codes per signed-in session before the session is ended and the
# password must be entered again (django-otp's device throttling also applies).
OTP_FAILURE_LIMIT = env.int("OTP_FAILURE_LIMIT", default=5)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Safe Access")
# The admin never shows a device's secret key or QR code: an administrator who
# could read them could sign in as anyone.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=15 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "sa_session"
CSRF_COOKIE_NAME = "sa_csrftoken"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

# The system-use notice on the sign-in page. Empty: the standard wording below,
# translated (accounts/context_processors.py). A state's own legal text replaces it.
LOGIN_BANNER_TEXT = env("LOGIN_BANNER_TEXT", default="")

# --- Security headers ----------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Scripts and styles come only from our own static files; an inline <script> needs
# the per-request nonce ({{ request.csp_nonce }}). No inline styles at all.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "base-uri": [csp.NONE],
        "object-src": [csp.NONE],
    }
}

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Español"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", default="America/New_York")
USE_TZ = True

# --- Static files (USWDS from npm, served by WhiteNoise; no CDN) ----------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
USWDS_DIST = BASE_DIR / "node_modules" / "@uswds" / "uswds" / "dist"
# Only the built USWDS assets (the CSS refers to ../img and ../fonts), not its
# Sass sources and components: a third of the files to collect and serve.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    *((f"uswds/{part}", USWDS_DIST / part) for part in ("css", "js", "img", "fonts")),
]

# --- Forms -------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ("uswds",)
CRISPY_TEMPLATE_PACK = "uswds"
CRISPY_FAIL_SILENTLY = False

# --- Cache, Celery -------------------------------------------------------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "safe-access",
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task running when the broker goes away finishes its work (every delivery
# re-checks the gate as it is marked sent); its acknowledgement is lost with the
# connection, so the broker hands it out again later and it skips what is done.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# With acks_late, an unacknowledged task is redelivered after this many seconds; it
# must exceed the hard time limit or a long task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "config.tasks.heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "notice-cycle": {
        "task": "safety.tasks.notice_cycle",
        "schedule": crontab(hour=2, minute=0),
    },
    "sweep-notices": {
        "task": "safety.tasks.sweep_notices",
        "schedule": 10 * 60.0,
    },
    "apply-fvi-removals": {
        "task": "safety.tasks.apply_fvi_removals",
        "schedule": 15 * 60.0,
    },
    "clear-expired-sessions": {
        "task": "config.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
}
HEARTBEAT_CACHE_KEY = "celery:heartbeat"

# --- Logging: ids, never personal data -----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s request=%(request_id)s "
            "user=%(user_id)s %(message)s"
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request and server loggers would print URLs with query strings; our URLs
        # carry ids only, but keep them at WARNING to stay quiet and safe.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
