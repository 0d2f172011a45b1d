"""Storage: engine and sessions for one database URL, plus the few dialect-aware helpers.

SQLite (a file, WAL journal) is the default; any PostgreSQL URL works as well. The only
dialect-specific construct is the upsert (``INSERT ... ON CONFLICT``), which both backends
support and SQLAlchemy spells for each; nothing else depends on the backend.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.service_errors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 10_000  # wait this long for another process's write lock
GROUP_COMMIT_MAX_JOBS = 64  # most write jobs sharing one SQLite commit
# Connections kept open per process, and how many more a burst may open (closed after use).
# SQLAlchemy's default keeps 5: concurrent requests beyond that opened and closed a connection
# each (on PostgreSQL a server process each). 4 workers x 20 stay within PostgreSQL's default 100.
POOL_SIZE, POOL_OVERFLOW = 10, 10


def now_us() -> int:
    """Current wall-clock time in integer microseconds since the Unix epoch."""
    return time.time_ns() // 1000


class Database:
    """An engine, a session factory and (for SQLite) an in-process write lock.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:///desk.db`` or ``postgresql+psycopg://u@127.0.0.1/db``.
    create : bool
        Check the schema: an empty database gets the newest schema, a database at an older or
        newer revision is refused (``service.schema_version``). False: no check (``spectrum db``).
    sqlite_synchronous : {"FULL", "NORMAL"}
        SQLite only. FULL: every commit is on disk before the sensor is told "stored" (and
        deletes its copy). NORMAL: commits survive a crash of the service but the last ones
        may be lost on power loss; about twice the ingest rate with small batches.

    Raises
    ------
    StorageError
        The URL cannot be parsed, names an unknown driver, or the database cannot be opened
        or written (e.g. a missing directory or a read-only file).
    service.schema_version.SchemaError
        The schema is not this code's (``spectrum db upgrade`` fixes an older one).
    """

    def __init__(self, url: str, create: bool = True, sqlite_synchronous: str = "FULL") -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StorageError(f"--db {url!r}: not a database URL (try sqlite:///path/to/desk.db)") from exc
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise StorageError(f"--db {url!r}: {self.dialect!r} is not supported; use sqlite:///FILE or postgresql://...")
        if self.dialect == "sqlite":
            _check_sqlite_path(parsed.database, url)
        try:
            kwargs = {"pool_pre_ping": True} if self.dialect != "sqlite" else {"connect_args": {"check_same_thread": False}}
            self.engine: Engine = create_engine(parsed, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, **kwargs)
        except (NoSuchModuleError, ImportError) as exc:
            raise StorageError(f"--db {url!r}: no driver for {parsed.drivername!r} ({exc})") from exc
        if self.dialect == "sqlite":
            if sqlite_synchronous not in ("FULL", "NORMAL"):
                raise StorageError(f"sqlite_synchronous {sqlite_synchronous!r}: expected FULL or NORMAL")
            event.listen(self.engine, "connect",
                         lambda conn, _record: _sqlite_pragmas(conn, sqlite_synchronous))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer at a time; queueing writers here is cheaper and fairer
        # than letting threads spin in SQLite's busy handler. PostgreSQL needs no lock.
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        self._committer = _GroupCommitter(self) if self.dialect == "sqlite" else None
        self._prepared: dict[Callable, object] = {}
        if create:
            from service.schema_version import ensure_current

            try:
                ensure_current(self.engine, parsed.render_as_string(hide_password=True))
            except SQLAlchemyError as exc:
                raise StorageError(f"--db {url!r}: cannot open or write the database: "
                                   f"{getattr(exc, 'orig', None) or exc}") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads (no commit)."""
        with self.sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error."""
        if self._write_lock is None:
            with self.sessions.begin() as session:
                yield session
            return
        with self._write_lock, self.sessions.begin() as session:
            yield session

    def transact(self, job: Callable[[Session], object]):
        """Run ``job(session)`` in a transaction and return its result once committed.

        On SQLite, jobs from concurrent requests are committed together (group commit): one
        fsync for many batches instead of one each, so durability before answering costs
        little throughput. A job must only touch the database; if a shared transaction
        fails, each of its jobs is retried alone, so one job's error never undoes another's.
        """
        if self._committer is None:
            with self.sessions.begin() as session:
                return job(session)
        return self._committer.submit(job)

    def transact_core(self, job: Callable[[Session | Connection], object]):
        """:meth:`transact` for a job that only runs Core statements (``execute``, ``scalars``):
        on PostgreSQL it gets a plain connection, cheaper per request than an ORM session."""
        if self._committer is None:
            with self.engine.begin() as conn:
                return job(conn)
        return self._committer.submit(job)

    def insert(self, table):
        """The dialect's ``INSERT`` supporting ``on_conflict_do_update`` / ``do_nothing``."""
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        return insert(table)

    def prepared(self, build: Callable[[Database], object]):
        """``build(self)``, made once and reused: a statement run on every request. (SQLAlchemy
        caches the compiled SQL, but building the statement object anew each time costs more
        than running it.)"""
        stmt = self._prepared.get(build)
        if stmt is None:
            stmt = self._prepared[build] = build(self)
        return stmt

    def ping(self) -> bool:
        """True when a trivial query succeeds."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def dispose(self) -> None:
        if self._committer is not None:
            self._committer.stop()
        self.engine.dispose()


class _GroupCommitter:
    """One writer thread that commits queued write jobs together (SQLite only)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, job: Callable[[Session], object]):
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="spectrum-db-writer", daemon=True)
                self._thread.start()
        done: Future = Future()
        self._jobs.put((job, done))
        return done.result()

    def stop(self) -> None:
        with self._start_lock:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join(10)
                self._thread = None

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < GROUP_COMMIT_MAX_JOBS:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._jobs.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list) -> None:
        db = self._db
        try:
            with db._write_lock, db.sessions.begin() as session:
                results = [job(session) for job, _ in batch]
        except Exception:
            if len(batch) == 1:
                self._alone(batch[0])
                return
            for item in batch:  # find the failing job: each alone, all-or-nothing as promised
                self._alone(item)
            return
        for (_, done), result in zip(batch, results):
            done.set_result(result)

    def _alone(self, item) -> None:
        job, done = item
        try:
            with self._db._write_lock, self._db.sessions.begin() as session:
                result = job(session)
        except Exception as exc:
            done.set_exception(exc)
        else:
            done.set_result(result)  # only once committed: the caller may answer "stored"


def _check_sqlite_path(database: str | None, url: str) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        if not database or database == ":memory:":
            raise StorageError(f"--db {url!r}: an in-memory SQLite database would lose every event; give a file")
        return
    path = Path(database)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise StorageError(f"--db {url!r}: directory {str(parent)!r} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise StorageError(f"--db {url!r}: {str(path)!r} is not writable")
    if not path.exists() and not os.access(parent, os.W_OK):
        raise StorageError(f"--db {url!r}: cannot create a file in {str(parent)!r} (not writable)")


def _sqlite_pragmas(dbapi_conn, synchronous: str) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cur.execute(f"PRAGMA synchronous={synchronous}")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
