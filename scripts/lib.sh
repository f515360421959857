# shellcheck shell=bash
# Shared helpers for the project's scripts. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# SAFE_ACCESS_LOCAL moves the whole private state (used by the scripts' own test).
LOCAL="${SAFE_ACCESS_LOCAL:-$ROOT/.local}"
# Made absolute now, before the scripts cd into $ROOT.
case "$LOCAL" in /*) ;; *) LOCAL="$PWD/$LOCAL" ;; esac
VENV="$ROOT/.venv"
# shellcheck disable=SC2034 # used by the scripts that source this file
PY="$VENV/bin/python"
# shellcheck disable=SC2034
PG_BIN="/usr/lib/postgresql/15/bin"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() { printf '==> ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, through sudo when sudo works
# without a password. Never prompts (CI and scripted runs have no stdin) and never
# runs the command twice.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "need root to run: $* (run this as root, allow passwordless sudo, or run 'sudo $*' yourself and try again)"
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
