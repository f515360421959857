#!/usr/bin/env bash
# Runs 'manage.py check --deploy' under production settings with dummy values
# and fails on any warning, not only on errors.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
dummy_key=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
field_key=$("$PY" -c 'import base64, os; print("kdummy:" + base64.urlsafe_b64encode(os.urandom(32)).decode())')
out=$(env -i PATH="$PATH" HOME="${HOME:-/root}" \
  DJANGO_SETTINGS_MODULE=config.settings.production \
  SECRET_KEY="$dummy_key" \
  DATABASE_URL=postgres://dummy@127.0.0.1:1/dummy \
  REDIS_URL=redis://127.0.0.1:1/0 \
  ALLOWED_HOSTS=safe-access.example.gov \
  FIELD_ENCRYPTION_KEYS="$field_key" \
  "$PY" manage.py check --deploy --fail-level WARNING 2>&1) || { echo "$out"; exit 1; }
echo "$out"
