#!/usr/bin/env bash
# make test: the same bootstrap as make run, then every check. Exit 0 only if all pass.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"

# Stop the services afterwards only if this run started them.
started_here=0
status=$("$ROOT/scripts/services.sh" status)
if [[ "$status" != *"postgresql: running"* || "$status" != *"redis: running"* ]]; then
  started_here=1
fi
"$ROOT/scripts/services.sh" start
if [ "$started_here" = 1 ] && [ "${KEEP_SERVICES:-0}" != 1 ]; then
  trap '"$ROOT/scripts/services.sh" stop' EXIT
fi
load_env

say "ruff (lint, including the security rules, and formatting)"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

say "makemigrations --check"
DJANGO_SETTINGS_MODULE=config.settings.test "$PY" manage.py makemigrations --check --dry-run

say "check --deploy under production settings (dummy environment)"
"$ROOT/scripts/check_deploy.sh"

say "docker-compose.yml against the compose specification"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

say "translations (msgfmt --check)"
for po in locale/*/LC_MESSAGES/django.po; do msgfmt --check -o /dev/null "$po"; done

say "pytest (real PostgreSQL and Redis, headless Chromium)"
DJANGO_ALLOW_ASYNC_UNSAFE=true "$VENV/bin/pytest" "$@"

# The fault suite restarts PostgreSQL and Redis, so it runs on services of its own
# (scripts/faults.sh). 'make test PYTEST_ARGS=...' runs only the tests asked for.
if [ "$#" -eq 0 ]; then
  "$ROOT/scripts/faults.sh"
fi
