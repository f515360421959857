"""`make services` / `make stop` on a second, private state folder: starting twice is
harmless (same ports, same keys), the written env file works, nothing answers without
a password over TCP (PostgreSQL superuser included) or to Redis, and stop stops exactly
the processes it started and nothing else, even when a pid file is stale."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "services.sh"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
# As root the script runs PostgreSQL as the postgres user (scripts/lib.sh, as_pg).
AS_PG = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _services(local: Path, action: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), action],
        env={**os.environ, "SAFE_ACCESS_LOCAL": str(local)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _start(local: Path) -> subprocess.CompletedProcess:
    result = _services(local, "start")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _env_file(local: Path) -> dict[str, str]:
    values = {}
    for line in (local / "env").read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value
    return values


def _alive(pid: int) -> bool:
    """The process exists and has not exited (a zombie awaiting its parent has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _redis_refuses(port: int, password: str | None = None) -> None:
    # No retries: redis-py retries a refused AUTH as a connection error, with backoff.
    client = redis.Redis(
        host="127.0.0.1", port=port, password=password, retry=Retry(NoBackoff(), 0)
    )
    with pytest.raises(redis.AuthenticationError):
        client.ping()


def _pg_pid(local: Path) -> int:
    return int((local / "pg/data/postmaster.pid").read_text().split()[0])


def _redis_pid(local: Path) -> int:
    return int((local / "redis/redis.pid").read_text())


def _pg_refuses(port: int, user: str, password: str | None = None) -> str:
    """Connects over TCP without DATABASE_URL's password; returns the refusal."""
    kwargs = {"password": password} if password else {}
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(
            host="127.0.0.1",
            port=port,
            user=user,
            dbname="postgres",
            connect_timeout=5,
            passfile="/nonexistent/pgpass",
            **kwargs,
        )
    return str(refused.value)


@pytest.fixture
def local(monkeypatch):
    # No password may come from the environment of whoever runs the suite.
    for name in ("PGPASSWORD", "PGPASSFILE", "PGSERVICE", "REDISCLI_AUTH"):
        monkeypatch.delenv(name, raising=False)
    # PostgreSQL runs as the postgres user, who must be able to reach the folder.
    # The space in the name checks that the script quotes its paths.
    parent = Path(tempfile.mkdtemp(prefix="sa-services-", dir="/tmp"))
    parent.chmod(0o755)
    path = parent / "lo cal"
    yield path
    _services(path, "stop")
    shutil.rmtree(parent, ignore_errors=True)


def test_services_start_twice_then_stop(local):
    _start(local)
    env = _env_file(local)
    assert set(env) >= {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}
    assert (local / "env").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert (local / "keys").stat().st_mode & 0o077 == 0
    keys = {key.name: key for key in (local / "keys").iterdir()}
    assert set(keys) >= {"secret_key", "field_keys", "db_password", "redis_password"}
    for key in keys.values():
        assert key.stat().st_mode & 0o777 == 0o600, key
    db_url, redis_url = urlsplit(env["DATABASE_URL"]), urlsplit(env["REDIS_URL"])
    assert db_url.password == keys["db_password"].read_text().strip()
    assert redis_url.password == keys["redis_password"].read_text().strip()
    # Only the user running PostgreSQL may enter the superuser's socket folder.
    run = local / "pg/run"
    assert run.stat().st_mode & 0o777 == 0o700
    assert run.stat().st_uid == (local / "pg/data").stat().st_uid

    # PostgreSQL over TCP: a password for everyone, and the superuser has none.
    assert "no password supplied" in _pg_refuses(db_url.port, "postgres")
    assert "password authentication failed" in _pg_refuses(db_url.port, "postgres", db_url.password)
    assert "no password supplied" in _pg_refuses(db_url.port, "safe_access")
    assert "password authentication failed" in _pg_refuses(db_url.port, "safe_access", "wrong")
    with psycopg.connect(env["DATABASE_URL"], connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("safe_access",)
        assert conn.execute("SHOW server_version").fetchone()[0].startswith("15")
        rolsuper = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert rolsuper.fetchone() == (False,)
        extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
        assert {"pg_trgm", "pgcrypto"} <= extensions

    # Redis: commands need the password.
    _redis_refuses(redis_url.port)  # NOAUTH
    _redis_refuses(redis_url.port, "wrong")
    assert redis.Redis.from_url(env["REDIS_URL"]).ping()
    pg_pid, redis_pid = _pg_pid(local), _redis_pid(local)

    second = _start(local)
    assert "Starting" not in second.stdout  # nothing was started again
    assert _env_file(local) == env  # same ports, same keys
    assert (_pg_pid(local), _redis_pid(local)) == (pg_pid, redis_pid)
    assert psycopg.connect(env["DATABASE_URL"], connect_timeout=5).close() is None

    status = _services(local, "status").stdout
    assert "postgresql: running" in status and "redis: running" in status
    stop = _services(local, "stop")
    assert stop.returncode == 0, stop.stderr
    status = _services(local, "status").stdout
    assert "postgresql: stopped" in status and "redis: stopped" in status
    for pid in (pg_pid, redis_pid):
        assert not _alive(pid), f"pid {pid} still running after stop"
    # The project's own services (the ones this test suite runs on) are untouched.
    assert redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
    psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5).close()

    # Stopping again is harmless too.
    assert _services(local, "stop").returncode == 0

    # Stale pid files (after a reboot, say) naming an unrelated live process: stop and
    # status leave it alone, and the next start still works, on the same ports.
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (local / "redis/redis.pid").write_text(f"{stranger.pid}\n")
        (local / "pg/data/postmaster.pid").write_text(f"{stranger.pid}\n")
        status = _services(local, "status").stdout
        assert "postgresql: stopped" in status and "redis: stopped" in status
        stop = _services(local, "stop")
        assert stop.returncode == 0, stop.stderr
        assert "left alone" in stop.stdout
        assert stranger.poll() is None, "stop killed a process it did not start"
    finally:
        stranger.kill()
        stranger.wait()
    _start(local)
    assert _env_file(local) == env


def test_services_started_before_passwords_are_upgraded(local):
    """A cluster whose pg_hba.conf trusts TCP and a Redis without a password (as an
    older services.sh left them) get passwords at the next start."""
    _start(local)
    env = _env_file(local)
    db_port, redis_port = urlsplit(env["DATABASE_URL"]).port, urlsplit(env["REDIS_URL"]).port
    # Back to the old state: TCP trusted, Redis restarted without a password.
    hba = local / "pg/data/pg_hba.conf"
    hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    pg_ctl = [*AS_PG, str(PG_BIN / "pg_ctl"), "-D", str(local / "pg/data")]
    subprocess.run([*pg_ctl, "reload"], check=True, capture_output=True, timeout=30)
    redis.Redis.from_url(env["REDIS_URL"]).shutdown(nosave=True)
    subprocess.run(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port)]
        + ["--daemonize", "yes", "--pidfile", str(local / "redis/redis.pid")]
        + ["--dir", str(local / "redis"), "--logfile", str(local / "redis/redis.log")]
        + ["--save", "", "--appendonly", "no"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    for _ in range(50):
        try:
            assert redis.Redis(host="127.0.0.1", port=redis_port).ping()  # no password
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    old_redis_pid = _redis_pid(local)
    psycopg.connect(host="127.0.0.1", port=db_port, user="postgres", dbname="postgres").close()

    upgrade = _start(local)
    assert "reloading" in upgrade.stdout and "restarting it with the password" in upgrade.stdout
    assert _env_file(local) == env  # same ports, same passwords
    assert not _alive(old_redis_pid)
    assert "no password supplied" in _pg_refuses(db_port, "postgres")
    _redis_refuses(redis_port)
    assert redis.Redis.from_url(env["REDIS_URL"]).ping()
    psycopg.connect(env["DATABASE_URL"], connect_timeout=5).close()


def test_a_folder_the_postgres_user_cannot_reach_is_explained_not_half_made():
    """As root, PostgreSQL runs as the postgres user: a private (0700) parent folder
    stops start with an explanation and nothing half-made. As anyone else,
    PostgreSQL runs as that user, so the same folder works."""
    private = Path(tempfile.mkdtemp(prefix="sa-private-", dir="/tmp"))  # mode 0700
    try:
        result = _services(private / "local", "start")
        if os.geteuid() == 0:
            assert result.returncode != 0
            assert f"the folder {private} is not traversable" in result.stderr
            assert "SAFE_ACCESS_LOCAL" in result.stderr
            assert not (private / "local/pg/data").exists()
        else:
            assert result.returncode == 0, result.stderr
            assert _services(private / "local", "stop").returncode == 0
    finally:
        shutil.rmtree(private, ignore_errors=True)
