#!/usr/bin/env bash
# make run: bootstrap, services, migrate, demo data when the database is empty,
# Celery worker and beat, then the web server until interrupted.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
"$ROOT/scripts/services.sh" start
load_env
export DJANGO_SETTINGS_MODULE=config.settings.local
PORT="${PORT:-8000}"
mkdir -p "$LOCAL/log" "$LOCAL/celery"

say "Applying migrations"
"$PY" manage.py migrate --no-input
"$PY" manage.py seed_demo --if-empty

pids=()
cleanup() {
  trap - INT TERM EXIT
  say "Stopping the Celery worker and beat"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  say "Stopped. PostgreSQL and Redis keep running; 'make stop' stops them."
}
trap cleanup INT TERM EXIT

say "Starting the Celery worker and beat (logs in .local/log/)"
"$VENV/bin/celery" -A config worker --loglevel=INFO --concurrency=2 \
  --hostname="worker@%h" >"$LOCAL/log/worker.log" 2>&1 &
pids+=($!)
"$VENV/bin/celery" -A config beat --loglevel=INFO \
  --schedule="$LOCAL/celery/beat-schedule" --pidfile= >"$LOCAL/log/beat.log" 2>&1 &
pids+=($!)

cat <<MSG

  Safe Access is starting on http://127.0.0.1:$PORT/
  Sign in as one of the demo staff listed above (for example 'caseworker') with the
  demo password, then enter the six-digit code from an authenticator app holding
  that account's TOTP secret, or print the current code in another terminal with:
      make otp ACCOUNT=caseworker
  Press Ctrl-C to stop.

MSG
"$PY" manage.py runserver "127.0.0.1:$PORT" --noreload
