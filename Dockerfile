# Safe Access container image: gunicorn serving config.wsgi:application on :8000;
# the same image runs the Celery worker and beat (see docker-compose.yml).
#
#   docker build -t safe-access .
#
# Stages:
#   assets  npm ci from package-lock.json (USWDS; no front-end build step)
#   base    Python runtime + the pinned runtime dependencies, non-root user
#   build   base + gettext + source: compile translations, collectstatic
#   runtime base + the built /app tree (no gettext, no node, no build tools)
#
# No secret is baked into the image: settings come from the environment at run
# time (config.settings.production refuses to start without SECRET_KEY,
# ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and FIELD_ENCRYPTION_KEYS). The build
# steps that load settings get throwaway dummy values on their RUN line only.

# --- assets: USWDS from npm ----------------------------------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- base: Python + runtime dependencies -----------------------------------------------
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production

# tzdata: TIME_ZONE (default America/New_York) needs the IANA database, which
# slim images do not promise to carry.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tzdata libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app \
 && python -m venv /opt/venv

WORKDIR /app

# Runtime dependencies only (not the [dev] extra), resolved against the full pin
# set in requirements.lock. The project itself is not pip-installed: it runs from
# /app (BASE_DIR is derived from the settings file's location, and templates/,
# static/ and locale/ live beside the packages, outside the Python packages).
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
 && pip install -c requirements.lock -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# --- build: translations and static files ---------------------------------------------
FROM base AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*

COPY . .
COPY --from=assets /build/node_modules/@uswds ./node_modules/@uswds

# Dummy values exist only for these commands (settings refuse to load without
# them); nothing here connects to PostgreSQL or Redis, and none of it is kept.
# compilemessages runs only when a django.po exists (locale/ may be absent).
RUN export SECRET_KEY=build-only-not-a-secret \
        ALLOWED_HOSTS=localhost \
        DATABASE_URL=postgres://build:build@127.0.0.1:5432/build \
        REDIS_URL=redis://127.0.0.1:6379/0 \
        FIELD_ENCRYPTION_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
 && if find . -path ./node_modules -prune -o -name django.po -print | grep -q .; then \
        python manage.py compilemessages --ignore node_modules; \
    else \
        echo "No translations (django.po) found; skipping compilemessages."; \
    fi \
 && python manage.py collectstatic --noinput

# --- runtime ------------------------------------------------------------------------------
FROM base AS runtime

# Code, compiled .mo files, collected static files and the USWDS source tree
# (still listed in STATICFILES_DIRS) stay owned by root: the app user can read
# but not modify them. Writable places: /tmp and the user's home.
COPY --from=build /app /app
# The notice outbox (a named volume in docker-compose.yml starts from this folder,
# so it is writable by the app user).
RUN mkdir -p /var/lib/safe-access/outbox && chown app:app /var/lib/safe-access/outbox

USER app:app
EXPOSE 8000

# Gunicorn's options live in GUNICORN_CMD_ARGS so that docker-compose.yml (which
# runs migrate first) starts exactly the same server; flags given on a command
# line override them. WEB_CONCURRENCY is gunicorn's worker count. The access log
# is left off on purpose (it would log URLs; see LOGGING in config/settings/base.py).
ENV GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --worker-tmp-dir /dev/shm --timeout 60 --graceful-timeout 30" \
    WEB_CONCURRENCY=3

CMD ["gunicorn", "config.wsgi:application"]
