#!/usr/bin/env bash
# Installs everything the project needs on a Debian/Ubuntu machine, idempotently:
# system packages (only the missing ones), the virtualenv at .venv with the pinned
# Python dependencies, the USWDS assets from npm, and compiled translations.
# Every step is skipped when its inputs have not changed since the last run.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
mkdir -p "$LOCAL/stamps"

# --- System packages -------------------------------------------------------
need=()
[ -x "$PG_BIN/initdb" ] || need+=(postgresql postgresql-contrib)
[ -d /usr/share/postgresql/15/extension ] && [ -f /usr/share/postgresql/15/extension/pg_trgm.control ] \
  || need+=(postgresql-contrib)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v python3.11 >/dev/null 2>&1 || need+=(python3.11 python3.11-venv)
if [ ${#need[@]} -gt 0 ]; then
  say "Installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Python virtualenv -----------------------------------------------------
if [ ! -x "$PY" ]; then
  say "Creating virtualenv at .venv"
  python3.11 -m venv "$VENV"
fi
deps_hash=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$LOCAL/stamps/pip" 2>/dev/null)" != "$deps_hash" ]; then
  say "Installing Python dependencies (pinned by requirements.lock)"
  "$PY" -m pip install -q --disable-pip-version-check -c requirements.lock -e ".[dev]"
  echo "$deps_hash" > "$LOCAL/stamps/pip"
fi

# --- USWDS from npm --------------------------------------------------------
npm_hash=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -d node_modules/@uswds/uswds/dist ] || [ "$(cat "$LOCAL/stamps/npm" 2>/dev/null)" != "$npm_hash" ]; then
  say "Installing USWDS static assets from npm"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > "$LOCAL/stamps/npm"
fi

# --- Translations ----------------------------------------------------------
shopt -s nullglob
for po in locale/*/LC_MESSAGES/django.po; do
  msgfmt --check -o "${po%.po}.mo" "$po"
done
shopt -u nullglob
say "Bootstrap complete"
