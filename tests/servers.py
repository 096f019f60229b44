"""Real PostgreSQL and Redis servers for tests: started on free loopback ports in temporary folders, stopped after.

The binaries are Debian's `postgresql` and `redis-server` packages (`make servers` installs them). Without
them a test skips, except in CI (`CI` set), where it fails: the shared-state tests must not silently vanish.
PostgreSQL refuses to run as root, so as root its folder belongs to the `postgres` user and its commands run
as that user (runuser).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT_S = 30


def missing(what: str, package: str, make_target: str = "servers") -> None:
    """Skip, or fail in CI: a test that needs a server (or the browser) must run there."""
    unavailable(f"{what} is not installed (Debian package {package}; `make {make_target}`)")


def unavailable(message: str) -> None:
    """Skip with `message`, or fail with it when `CI` is set."""
    if os.environ.get("CI"):
        pytest.fail(message + ": required in CI", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen | None, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"the server on port {port} did not start:\n{text}")


# ---------------------------------------------------------------- PostgreSQL


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


@dataclass
class Postgres:
    bin: Path
    folder: Path
    port: int
    _as_user: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"postgresql://qa@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as_user, *args], capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        data, log = self.folder / "data", self.folder / "log"
        done = self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "qa", "--auth=trust", "-E", "UTF8",
                         "--no-locale", "--no-sync")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr[-2000:]}")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        done = self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
                         "-t", str(START_TIMEOUT_S), "start")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr[-1000:]}\n{log.read_text(errors='replace')[-2000:]}")
        _wait_for_port(self.port, None, log)

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def new_database(self, name: str) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        with psycopg.connect(f"postgresql://qa@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://qa@127.0.0.1:{self.port}/{name}"


def start_postgres() -> Postgres:
    """A running PostgreSQL server (user `qa`, no password, loopback only); call `.stop()` after."""
    bin_dir = postgres_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        missing("PostgreSQL (initdb, pg_ctl)", "postgresql")
    folder = Path(tempfile.mkdtemp(prefix="qa-postgres-"))  # in /tmp: the postgres user cannot enter pytest's
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    last: Exception | None = None
    for _ in range(3):  # a free port may be taken between choosing and binding it: choose again
        server = Postgres(bin_dir, folder, free_port(), as_user)
        try:
            server.start()
            return server
        except RuntimeError as exc:
            last = exc
            server._run(str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop")
            for child in folder.iterdir():
                subprocess.run([*as_user, "rm", "-rf", str(child)], check=False)
    shutil.rmtree(folder, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {last}")


# ---------------------------------------------------------------- Redis


@dataclass
class Redis:
    folder: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = self.folder / "log"
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--save", "", "--appendonly", "no", "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process, log)

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url).flushall()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_redis() -> Redis:
    """A running Redis server on loopback, nothing persisted; call `.stop()` after."""
    if shutil.which("redis-server") is None:
        missing("redis-server", "redis-server")
    last: Exception | None = None
    for _ in range(3):
        server = Redis(Path(tempfile.mkdtemp(prefix="qa-redis-")), free_port())
        try:
            server.start()
            return server
        except RuntimeError as exc:
            last = exc
            server.stop()
    raise RuntimeError(f"redis-server did not start: {last}")
