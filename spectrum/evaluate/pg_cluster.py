"""A throwaway PostgreSQL server for the tests and the fleet load benchmark: a fresh cluster in a
temporary folder, listening on a free loopback port only, stopped and deleted afterwards. Uses Debian's ``postgresql`` binaries
(scripts/install-postgresql.sh); where they or the Python driver are missing, says why so the
tests can skip, and the benchmark leave its PostgreSQL rows out, with that reason.

The server refuses to run as root, so under root (CI) it runs as the ``postgres`` system user
that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spectrum.evaluate.bench_processes import free_port


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def unavailable_reason() -> str | None:
    """Why no throwaway server can be started here, or None when it can."""
    if _bin_dir() is None:
        return "PostgreSQL server not installed (bash scripts/install-postgresql.sh, or apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg not installed (pip install 'spectrum-watch[postgres]')"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


@dataclass
class PgCluster:
    """A running throwaway server; :meth:`url` names a fresh database on it."""

    folder: Path
    port: int
    _bin: Path
    _as_user: list[str]
    _databases: int = 0

    @classmethod
    def start(cls, durable: bool = False) -> "PgCluster":
        """A running server. ``durable``: every commit is flushed to disk (PostgreSQL's defaults,
        for benchmarks); otherwise fsync is off, which is quicker and enough for tests."""
        bin_dir = _bin_dir()
        folder = Path(tempfile.mkdtemp(prefix="spectrum-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        cluster = cls(folder, free_port(), bin_dir, as_user)
        data = folder / "data"
        cluster._run("initdb", "-D", str(data), "-U", "spectrum", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {folder} -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        cluster._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "start")
        return cluster

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self._as_user, str(self._bin / tool), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def url(self) -> str:
        """A new, empty database on this server (SQLAlchemy URL with the psycopg driver)."""
        import psycopg

        self._databases += 1
        name = f"desk{self._databases}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=spectrum dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://spectrum@127.0.0.1:{self.port}/{name}"

    def drop(self, url: str) -> None:
        """Delete a database :meth:`url` made, ending the connections still open to it."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=spectrum dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def server_pid(self) -> int | None:
        """The postmaster's process id (its backends are its children), or None if unknown."""
        try:
            return int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
