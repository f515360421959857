"""`make services` / `make stop` on a second, private state folder: starting twice is
harmless (same ports, same keys), the written env file works, and stop stops exactly
the processes it started and nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "services.sh"


def _services(local: Path, action: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), action],
        env={**os.environ, "SAFE_ACCESS_LOCAL": str(local)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _env_file(local: Path) -> dict[str, str]:
    values = {}
    for line in (local / "env").read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value
    return values


@pytest.fixture
def local():
    # PostgreSQL runs as the postgres user, who must be able to reach the folder.
    path = Path(tempfile.mkdtemp(prefix="sa-services-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    _services(path, "stop")
    shutil.rmtree(path, ignore_errors=True)


def test_services_start_twice_then_stop(local):
    first = _services(local, "start")
    assert first.returncode == 0, first.stderr
    env = _env_file(local)
    assert set(env) >= {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}
    assert (local / "env").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert (local / "keys").stat().st_mode & 0o077 == 0

    with psycopg.connect(env["DATABASE_URL"], connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("safe_access",)
        assert conn.execute("SHOW server_version").fetchone()[0].startswith("15")
        rolsuper = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert rolsuper.fetchone() == (False,)
        extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
        assert {"pg_trgm", "pgcrypto"} <= extensions
    assert redis.Redis.from_url(env["REDIS_URL"]).ping()
    pg_pid = int((local / "pg/data/postmaster.pid").read_text().split()[0])
    redis_pid = int((local / "redis/redis.pid").read_text())

    second = _services(local, "start")
    assert second.returncode == 0, second.stderr
    assert "Starting" not in second.stdout  # nothing was started again
    assert _env_file(local) == env  # same ports, same keys
    assert int((local / "pg/data/postmaster.pid").read_text().split()[0]) == pg_pid

    assert "postgresql: running" in _services(local, "status").stdout
    stop = _services(local, "stop")
    assert stop.returncode == 0, stop.stderr
    status = _services(local, "status").stdout
    assert "postgresql: stopped" in status and "redis: stopped" in status
    for pid in (pg_pid, redis_pid):
        assert not Path(f"/proc/{pid}").exists(), f"pid {pid} still running after stop"
    # The project's own services (the ones this test suite runs on) are untouched.
    main = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert main.ping()

    # Stopping again is harmless too.
    assert _services(local, "stop").returncode == 0
