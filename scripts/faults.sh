#!/usr/bin/env bash
# The fault suite (tests/faults, pytest marker 'faults') on a PostgreSQL and a
# Redis of its own, under .local/faults/: it kills, stops and restarts them, which
# must never touch the services 'make run' and the rest of 'make test' use.
#   scripts/faults.sh [pytest arguments]
# FAULT_CASES and FAULT_CHUNK set the size (README); 'make faults' runs it larger
# and writes docs/reliability.md. Its services are stopped afterwards unless
# KEEP_SERVICES=1.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
export SAFE_ACCESS_LOCAL="$LOCAL/faults"
"$ROOT/scripts/services.sh" start
if [ "${KEEP_SERVICES:-0}" != 1 ]; then
  trap 'SAFE_ACCESS_LOCAL="$SAFE_ACCESS_LOCAL" "$ROOT/scripts/services.sh" stop' EXIT
fi
# shellcheck disable=SC1091
. "$SAFE_ACCESS_LOCAL/env"
# The harness restarts these services through scripts/services.sh with this folder.
export FAULT_LOCAL="$SAFE_ACCESS_LOCAL"
say "fault suite (real worker processes; PostgreSQL and Redis restarted under them)"
DJANGO_ALLOW_ASYNC_UNSAFE=true "$VENV/bin/pytest" -p no:cacheprovider -m faults tests/faults "$@"
