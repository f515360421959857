#!/usr/bin/env bash
# Installs everything the project needs on a Debian/Ubuntu machine, idempotently:
# system packages (only the missing ones), the virtualenv at .venv with the pinned
# Python dependencies, the USWDS assets from npm, and compiled translations.
# Every step is skipped when its inputs have not changed since the last run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

# --- System packages -------------------------------------------------------
need=()
[ -x "$PG_BIN/initdb" ] || need+=(postgresql postgresql-contrib)
[ -d /usr/share/postgresql/15/extension ] && [ -f /usr/share/postgresql/15/extension/pg_trgm.control ] \
  || need+=(postgresql-contrib)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
# WeasyPrint (notice PDFs) needs Pango and a font.
compgen -G "/usr/lib/*/libpangoft2-1.0.so.0" >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if ! command -v python3.11 >/dev/null 2>&1; then
  need+=(python3.11 python3.11-venv)
elif [ ! -x "$PY" ] && ! python3.11 -c 'import ensurepip' >/dev/null 2>&1; then
  # Debian ships ensurepip (which 'python3.11 -m venv' needs) in python3.11-venv.
  need+=(python3.11-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  say "Installing system packages: ${need[*]}"
  # Passed through env: sudo resets the environment, so an export would be lost.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Python virtualenv -----------------------------------------------------
if [ ! -x "$PY" ]; then
  say "Creating virtualenv at .venv"
  python3.11 -m venv "$VENV"
fi
# The stamps live inside what they describe, so a deleted .venv or node_modules
# is always reinstalled.
pip_stamp="$VENV/.safe-access-deps"
deps_hash=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$pip_stamp" 2>/dev/null)" != "$deps_hash" ]; then
  say "Installing Python dependencies (pinned by requirements.lock)"
  "$PY" -m pip install -q --disable-pip-version-check -c requirements.lock -e ".[dev]"
  echo "$deps_hash" > "$pip_stamp"
fi

# --- USWDS from npm --------------------------------------------------------
npm_stamp=node_modules/.safe-access-deps
npm_hash=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -d node_modules/@uswds/uswds/dist ] || [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_hash" ]; then
  say "Installing USWDS static assets from npm"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > "$npm_stamp"
fi

# --- Translations ----------------------------------------------------------
shopt -s nullglob
for po in locale/*/LC_MESSAGES/django.po; do
  msgfmt --check -o "${po%.po}.mo" "$po"
done
shopt -u nullglob
say "Bootstrap complete"
