# Shared helpers for the project's scripts. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# SAFE_ACCESS_LOCAL moves the whole private state (used by the scripts' own test).
LOCAL="${SAFE_ACCESS_LOCAL:-$ROOT/.local}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PG_BIN="/usr/lib/postgresql/15/bin"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() { printf '==> ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@" || sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# PostgreSQL refuses to run as root; as root we run the private cluster as the
# postgres system user, otherwise as ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

load_env() {
  [ -f "$LOCAL/env" ] || die ".local/env is missing: run 'make services' first"
  # shellcheck disable=SC1091
  . "$LOCAL/env"
}
