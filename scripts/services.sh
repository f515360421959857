#!/usr/bin/env bash
# Starts (or stops) the project's private PostgreSQL 15 cluster and Redis server
# under .local/, on free loopback ports, and writes .local/env.
#   scripts/services.sh start   # idempotent: running services are left alone
#   scripts/services.sh stop    # stops exactly the processes started from .local/
#   scripts/services.sh status
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

PGDATA="$LOCAL/pg/data"
PGSOCK="$LOCAL/pg/run"
PGLOG="$LOCAL/pg/postgres.log"
RDIR="$LOCAL/redis"
RPID="$RDIR/redis.pid"
PORTS="$LOCAL/ports"
DB_NAME=safe_access
DB_USER=safe_access

free_port() {
  python3 - "$@" <<'PY'
import socket, sys
# Prefer the port used last time, so URLs stay stable across restarts.
for p in [int(a) for a in sys.argv[1:] if a] + [0]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(s.getsockname()[1]); s.close(); break
PY
}

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
redis_running() { [ -f "$RPID" ] && kill -0 "$(cat "$RPID")" 2>/dev/null; }

# Generated once per checkout and kept: secrets never live in git.
ensure_secrets() {
  mkdir -p "$LOCAL/keys"; chmod 700 "$LOCAL/keys"
  if [ ! -s "$LOCAL/keys/secret_key" ]; then
    python3 -c 'import secrets; print(secrets.token_urlsafe(50))' > "$LOCAL/keys/secret_key"
  fi
  if [ ! -s "$LOCAL/keys/field_keys" ]; then
    python3 -c 'import base64, os, secrets; print("k%s:%s" % (secrets.token_hex(4), base64.urlsafe_b64encode(os.urandom(32)).decode()))' \
      > "$LOCAL/keys/field_keys"
  fi
  chmod 600 "$LOCAL/keys/"*
}

start() {
  [ -x "$PG_BIN/initdb" ] && command -v redis-server >/dev/null 2>&1 \
    || "$ROOT/scripts/bootstrap.sh"
  mkdir -p "$LOCAL" "$RDIR" "$PGSOCK"
  # shellcheck disable=SC1090
  [ -f "$PORTS" ] && . "$PORTS"
  ensure_secrets

  # --- PostgreSQL ---
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$LOCAL/pg"; fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    say "Creating a private PostgreSQL 15 cluster in .local/pg"
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if pg_running; then
    PG_PORT=$(sed -n 4p "$PGDATA/postmaster.pid")
  else
    PG_PORT=$(free_port "${PG_PORT:-}")
    say "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PGSOCK -c fsync=on" start >/dev/null
  fi
  psql_su() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
  # The application role owns its database and may create test databases, but is
  # not a superuser (later issues revoke privileges from it on the audit table).
  psql_su -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'" | grep -q 1 \
    || psql_su -d postgres -c "CREATE ROLE $DB_USER LOGIN CREATEDB"
  psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1 \
    || psql_su -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  # Extensions are created by the superuser in template1, so test databases have them too.
  for db in template1 "$DB_NAME"; do
    psql_su -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS unaccent;"
  done

  # --- Redis ---
  if redis_running; then
    REDIS_PORT=$(redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-0}" CONFIG GET port 2>/dev/null | sed -n 2p || true)
    [ -n "$REDIS_PORT" ] || die "Redis pid $(cat "$RPID") is running but does not answer on the recorded port"
  else
    REDIS_PORT=$(free_port "${REDIS_PORT:-}")
    say "Starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --pidfile "$RPID" \
      --dir "$RDIR" --logfile "$RDIR/redis.log" --save "" --appendonly no >/dev/null
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null || die "Redis did not start (see .local/redis/redis.log)"
  fi

  printf 'PG_PORT=%s\nREDIS_PORT=%s\n' "$PG_PORT" "$REDIS_PORT" > "$PORTS"
  umask 077
  cat > "$LOCAL/env" <<ENV
# Written by 'make services'. Source it: . .local/env
export DATABASE_URL=postgres://$DB_USER@127.0.0.1:$PG_PORT/$DB_NAME
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export SECRET_KEY=$(cat "$LOCAL/keys/secret_key")
export FIELD_ENCRYPTION_KEYS=$(cat "$LOCAL/keys/field_keys")
ENV
  say "Services up: PostgreSQL 127.0.0.1:$PG_PORT, Redis 127.0.0.1:$REDIS_PORT (settings in .local/env)"
}

stop() {
  # shellcheck disable=SC1090
  [ -f "$PORTS" ] && . "$PORTS"
  if pg_running; then
    say "Stopping PostgreSQL"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  if redis_running; then
    say "Stopping Redis"
    pid=$(cat "$RPID"); kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$RPID"
  fi
}

status() {
  if pg_running; then echo "postgresql: running"; else echo "postgresql: stopped"; fi
  if redis_running; then echo "redis: running"; else echo "redis: stopped"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
