#!/usr/bin/env bash
# Starts (or stops) the project's private PostgreSQL 15 cluster and Redis server
# under .local/, on free loopback ports, and writes .local/env.
#   scripts/services.sh start   # idempotent: running services are left alone
#   scripts/services.sh stop    # stops exactly the processes started from .local/
#   scripts/services.sh status
# PG_SHARED_BUFFERS (default 1GB) is PostgreSQL's page cache; it applies when the
# cluster starts. The 128MB default of a fresh cluster made the million-case
# benchmark copy pages from the kernel's cache on every search (docs/performance.md).
# Authentication: the PostgreSQL superuser is reached only through the Unix socket
# in .local/pg/run (a folder only the user running PostgreSQL may enter); over TCP
# every role needs its password (scram-sha-256). Redis requires a password too.
# Both passwords are generated once into .local/keys/ and written into .local/env.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

PGDATA="$LOCAL/pg/data"
PGSOCK="$LOCAL/pg/run"
PGLOG="$LOCAL/pg/postgres.log"
RDIR="$LOCAL/redis"
RPID="$RDIR/redis.pid"
PORTS="$LOCAL/ports"
KEYS="$LOCAL/keys"
DB_NAME=safe_access
DB_USER=safe_access

is_root() { [ "$(id -u)" -eq 0 ]; }

free_port() {
  python3 - "$@" <<'PY'
import socket, sys
# Prefer the port used last time, so URLs stay stable across restarts.
for p in [int(a) for a in sys.argv[1:] if a] + [0]:
    s = socket.socket()
    # As the servers do: a port left in TIME_WAIT by the last run is free again.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(s.getsockname()[1]); s.close(); break
PY
}

# ours NAME DIR PID: PID is a live process called NAME whose working directory is
# DIR, i.e. a server started there by this script (the postmaster and redis-server
# both chdir into their data folder), not an unrelated process that happens to
# have the pid written in a stale pid file (after a reboot, say).
ours() {
  local name=$1 dir=$2 pid=${3:-} want
  [[ "$pid" =~ ^[1-9][0-9]*$ ]] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  want=$(cd "$dir" 2>/dev/null && pwd -P) || return 1
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$want" ]
}
# wait_gone PID TENTHS: waits up to TENTHS tenths of a second for PID to exit
# (a zombie has exited: only its parent, often init, has yet to collect it).
wait_gone() {
  local stat
  for _ in $(seq "$2"); do
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [ "${stat%% *}" != Z ] || return 0
    sleep 0.1
  done
  return 1
}
pg_pid() { head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true; }
redis_pid() { cat "$RPID" 2>/dev/null || true; }
pg_running() { ours postgres "$PGDATA" "$(pg_pid)"; }
redis_running() { ours redis-server "$RDIR" "$(redis_pid)"; }

# Superuser SQL, always through the Unix socket (TCP would need a password).
psql_su() { PGOPTIONS="-c client_min_messages=warning" as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK" -p "$PG_PORT" -U postgres "$@"; }
# redis-cli on our port with our password; REDISCLI_AUTH keeps it off the command
# line (and out of ps). Errors (refused connection, failed AUTH) are silenced:
# callers look at the answer.
rcli() { REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-0}" "$@" 2>/dev/null; }
# The pid of the Redis server that answers on our port with our password.
redis_answering_pid() { rcli INFO server | tr -d '\r' | sed -n 's/^process_id://p' || true; }
# True when the server on our port answers without a password (a Redis started
# before passwords were required).
redis_open() { [ "$(redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-0}" PING 2>/dev/null || true)" = PONG ]; }

# Generated once per checkout and kept: secrets never live in git.
new_secret() { # FILE PYTHON-EXPRESSION
  [ -s "$KEYS/$1" ] && return 0
  (umask 077 && python3 -c "import base64, os, secrets; print($2)" >"$KEYS/$1.tmp" && mv "$KEYS/$1.tmp" "$KEYS/$1")
}
ensure_secrets() {
  mkdir -p "$KEYS"; chmod 700 "$KEYS"
  new_secret secret_key 'secrets.token_urlsafe(50)'
  new_secret field_keys '"k%s:%s" % (secrets.token_hex(4), base64.urlsafe_b64encode(os.urandom(32)).decode())'
  # URL-safe alphabet (A-Z a-z 0-9 - _): they go into DATABASE_URL and REDIS_URL as they are.
  new_secret db_password 'secrets.token_urlsafe(32)'
  new_secret redis_password 'secrets.token_urlsafe(32)'
  chmod 600 "$KEYS/"*
}

check_local() {
  # pg_ctl hands -D and -o to a shell (-o inside our single quotes below), and a
  # Unix socket path is limited to 107 bytes.
  case "$LOCAL" in
    *[\'\"\$\`\\]* | *$'\n'*) die "the folder $LOCAL contains a quote, \$, \` or backslash, which pg_ctl cannot pass on: use another folder (SAFE_ACCESS_LOCAL=...)" ;;
  esac
  [ $((${#PGSOCK} + 16)) -le 107 ] \
    || die "the path $PGSOCK is too long for a Unix socket (at most 91 characters): set SAFE_ACCESS_LOCAL to a shorter folder"
  mkdir -p "$LOCAL" "$RDIR" "$PGSOCK"
  is_root || return 0
  # As root, PostgreSQL runs as the postgres user, who must be able to enter every
  # folder on the way to .local/ (execute permission).
  id postgres >/dev/null 2>&1 || die "the postgres system user is missing: run scripts/bootstrap.sh"
  runuser -u postgres -- test -x "$LOCAL" && return 0
  local p="" part parts
  IFS=/ read -ra parts <<<"${LOCAL#/}"
  for part in "${parts[@]}"; do
    p="$p/$part"
    runuser -u postgres -- test -x "$p" || break
  done
  die "PostgreSQL runs as the postgres user, who cannot reach $LOCAL: the folder $p is not traversable by other users (no execute permission for others). Run 'chmod o+x $p' (and on any other such folder on the way), or set SAFE_ACCESS_LOCAL to a folder whose parents are traversable, e.g. d=\$(mktemp -d /tmp/sa-XXXX); chmod 755 \$d"
}

# pg_hba.conf is ours and rewritten whenever it differs (clusters made when it
# said 'trust' for TCP are upgraded). Returns 0 when it changed.
PG_HBA='# Written by scripts/services.sh on every start: edits here are overwritten.
# The superuser is reached only through the Unix socket, whose folder (pg/run) is
# mode 0700 and owned by the user that runs PostgreSQL. TCP needs a password.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256'
write_pg_hba() {
  [ "$(cat "$PGDATA/pg_hba.conf" 2>/dev/null)" != "$PG_HBA" ] || return 1
  printf '%s\n' "$PG_HBA" >"$PGDATA/pg_hba.conf.new"
  chmod 600 "$PGDATA/pg_hba.conf.new"
  if is_root; then chown postgres:postgres "$PGDATA/pg_hba.conf.new"; fi
  mv "$PGDATA/pg_hba.conf.new" "$PGDATA/pg_hba.conf"
}

start() {
  if [ ! -x "$PG_BIN/initdb" ] || ! command -v redis-server >/dev/null 2>&1; then
    "$ROOT/scripts/bootstrap.sh"
  fi
  check_local
  # shellcheck source=/dev/null
  if [ -f "$PORTS" ]; then . "$PORTS"; fi
  ensure_secrets
  DB_PASSWORD=$(cat "$KEYS/db_password")
  REDIS_PASSWORD=$(cat "$KEYS/redis_password")

  # --- PostgreSQL ---
  if is_root; then chown -R postgres:postgres "$LOCAL/pg"; fi
  chmod 700 "$PGSOCK"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    say "Creating a private PostgreSQL 15 cluster in $PGDATA"
    as_pg "$PG_BIN/initdb" -D "$PGDATA" --auth-local=trust --auth-host=scram-sha-256 \
      -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  hba_changed=0
  if write_pg_hba; then hba_changed=1; fi
  if pg_running; then
    PG_PORT=$(sed -n 4p "$PGDATA/postmaster.pid")
    if [ "$hba_changed" = 1 ]; then
      say "PostgreSQL: TCP connections now need a password (pg_hba.conf rewritten); reloading it"
      as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" reload >/dev/null
    fi
  else
    PG_PORT=$(free_port "${PG_PORT:-}")
    say "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PGSOCK' -c unix_socket_permissions=0700 -c fsync=on -c shared_buffers=${PG_SHARED_BUFFERS:-1GB}" \
      start >/dev/null || die "PostgreSQL did not start (see $PGLOG)"
  fi
  # The application role owns its database and may create test databases, but is
  # not a superuser (later issues revoke privileges from it on the audit table).
  [ "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" = 1 ] \
    || psql_su -d postgres -c "CREATE ROLE $DB_USER LOGIN CREATEDB"
  # Its password is set on every start (harmless when unchanged). It travels in
  # psql's environment (\getenv) and is quoted by psql (:'var'), never on a command line.
  printf '%s\n' '\getenv db_password SAFE_ACCESS_DB_PASSWORD' \
    "SET password_encryption = 'scram-sha-256';" \
    "ALTER ROLE $DB_USER PASSWORD :'db_password';" \
    | SAFE_ACCESS_DB_PASSWORD="$DB_PASSWORD" psql_su -d postgres
  [ "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" = 1 ] \
    || psql_su -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  # Extensions are created by the superuser in template1, so test databases have them too.
  for db in template1 "$DB_NAME"; do
    psql_su -d "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS unaccent;"
  done

  # --- Redis ---
  if redis_running && [ "$(redis_answering_pid)" = "$(redis_pid)" ] && ! redis_open; then
    : # ours, answering on the recorded port, with our password only
  else
    if redis_running; then
      say "Redis (pid $(redis_pid)) on port ${REDIS_PORT:-?} does not require the password in $KEYS/redis_password (started before passwords were required?): restarting it with the password"
      stop_redis
    fi
    REDIS_PORT=$(free_port "${REDIS_PORT:-}")
    say "Starting Redis on 127.0.0.1:$REDIS_PORT"
    rm -f "$RPID" # stale: it names no Redis of ours
    # The password reaches redis-server on stdin ('-'), not on its command line.
    printf 'requirepass %s\n' "$REDIS_PASSWORD" \
      | redis-server - --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --pidfile "$RPID" \
        --dir "$RDIR" --logfile "$RDIR/redis.log" --save "" --appendonly no >/dev/null
    for _ in $(seq 50); do [ "$(rcli PING)" = PONG ] && break; sleep 0.1; done
    [ "$(rcli PING)" = PONG ] || die "Redis did not start (see $RDIR/redis.log)"
  fi

  printf 'PG_PORT=%s\nREDIS_PORT=%s\n' "$PG_PORT" "$REDIS_PORT" >"$PORTS"
  umask 077
  # Written aside and renamed, so a concurrent '. .local/env' never reads half a file.
  cat >"$LOCAL/env.new" <<ENV
# Written by 'make services'. Source it: . .local/env
export DATABASE_URL=postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME
export REDIS_URL=redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0
export SECRET_KEY=$(cat "$KEYS/secret_key")
export FIELD_ENCRYPTION_KEYS=$(cat "$KEYS/field_keys")
ENV
  mv "$LOCAL/env.new" "$LOCAL/env"
  say "Services up: PostgreSQL 127.0.0.1:$PG_PORT, Redis 127.0.0.1:$REDIS_PORT (settings in $LOCAL/env)"
}

# Stops the Redis server named by redis.pid, which the caller has verified is ours:
# 'SHUTDOWN NOSAVE' when it answers on our port, else SIGTERM to that pid.
stop_redis() {
  local pid
  pid=$(redis_pid)
  if [ "$(redis_answering_pid)" = "$pid" ]; then rcli SHUTDOWN NOSAVE >/dev/null || true; fi
  if ! wait_gone "$pid" 30 && ours redis-server "$RDIR" "$pid"; then
    kill "$pid"
    wait_gone "$pid" 50 || true
  fi
  ! ours redis-server "$RDIR" "$pid" || die "Redis (pid $pid) did not stop"
  rm -f "$RPID"
}

stop() {
  # shellcheck source=/dev/null
  if [ -f "$PORTS" ]; then . "$PORTS"; fi
  REDIS_PASSWORD=$(cat "$KEYS/redis_password" 2>/dev/null || true)
  if pg_running; then
    say "Stopping PostgreSQL"
    pid=$(pg_pid)
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    # pg_ctl returns once postmaster.pid is gone, a moment before the process is.
    wait_gone "$pid" 50 || true
  elif [ -n "$(pg_pid)" ]; then
    say "PostgreSQL is not running (pid $(pg_pid) in its stale postmaster.pid is not it: left alone)"
  fi
  if redis_running; then
    say "Stopping Redis"
    stop_redis
  elif [ -n "$(redis_pid)" ]; then
    say "Redis is not running (pid $(redis_pid) in its stale redis.pid is not it: left alone)"
  fi
}

# For the fault suite (tests/faults), on its own services (SAFE_ACCESS_LOCAL):
# PostgreSQL stopped as a crash would (immediate: no checkpoint, crash recovery
# on the next start), and Redis stopped keeping its data on disk (what a SIGTERM
# does to a Redis that persists) or losing it. 'start' brings either back on the
# same port.
kill_pg() {
  pg_running || die "PostgreSQL is not running"
  local pid
  pid=$(pg_pid)
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null
  wait_gone "$pid" 50 || true
}
stop_redis_keeping() {
  # shellcheck source=/dev/null
  if [ -f "$PORTS" ]; then . "$PORTS"; fi
  REDIS_PASSWORD=$(cat "$KEYS/redis_password")
  redis_running || die "Redis is not running"
  local pid
  pid=$(redis_pid)
  case "${1:-}" in
    keep) rcli SHUTDOWN SAVE >/dev/null || true ;;
    drop) rcli SHUTDOWN NOSAVE >/dev/null || true ;;
    *) die "usage: $0 stop-redis keep|drop" ;;
  esac
  wait_gone "$pid" 50 || die "Redis (pid $pid) did not stop"
  rm -f "$RPID"
  if [ "$1" = drop ]; then rm -f "$RDIR/dump.rdb"; fi
}

status() {
  if pg_running; then echo "postgresql: running"; else echo "postgresql: stopped"; fi
  if redis_running; then echo "redis: running"; else echo "redis: stopped"; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill-pg) kill_pg ;;
  stop-redis) stop_redis_keeping "${2:-}" ;;
  *) die "usage: $0 start|stop|status|kill-pg|stop-redis keep|drop" ;;
esac
