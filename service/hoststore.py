"""Counters shared by every worker on one host, without a server: one SQLite file.

Without Redis, a per-client limit kept in each process's memory is a limit per worker: with
gunicorn's five workers one address got five times its share. The limits need a store that
all workers of the host see, cannot lose an update between two of them, and needs nothing
installed: SQLite ships with Python and serialises writers with a file lock, so a
check-and-take is atomic across processes (``BEGIN IMMEDIATE``). A transaction costs a
fraction of a millisecond and only limited requests make one. Nothing here is durable on
purpose (``synchronous=OFF``): counters lost in a crash just start again.

Two users: the work budget (service/budget.py: each client's token bucket and its running
computations) and flask-limiter's request counts (``SqliteStorage``, the ``sqlite://``
storage scheme of the ``limits`` package flask-limiter builds on; its own storages keep
counts in one process's memory or in a server: Redis, Memcached, MongoDB). Several hosts
share Redis instead; this is one host's store.

The file is ``LIMITS_DB`` if set (``make serve`` puts it in its runtime directory), else a
new temporary file made when the app is built: gunicorn loads the app once before forking
(preload_app), so its workers share that file.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from limits.storage import Storage

BUSY_MS = 2000  # how long a writer waits for another worker's transaction (each is µs)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL, at REAL)",
    "CREATE TABLE IF NOT EXISTS running (ticket TEXT PRIMARY KEY, key TEXT, until REAL)",
    "CREATE INDEX IF NOT EXISTS running_key ON running (key)",
    "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER, expires REAL)",
)
BUSY = -1.0  # take()'s answer when the client already runs as much as it may at once


@dataclass(frozen=True)
class Allowance:
    """What one client may spend: a bucket of ``burst`` run-steps refilled at ``rate`` a
    second, and at most ``running`` computations at once (each marked running until it ends,
    or for ``hold`` seconds if its worker dies first)."""

    burst: float
    rate: float
    running: int
    hold: float


class HostStore:
    """One SQLite file; each process (and thread) opens its own connection, as SQLite
    requires after a fork."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock  # wall time: the buckets outlive a worker (the tests move it)
        self._local = threading.local()
        with self.transaction() as db:
            for statement in SCHEMA:
                db.execute(statement)

    def _connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            self._local.db, self._local.pid = db, pid
        return self._local.db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An exclusive write transaction: no other worker reads or writes in between."""
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def take(self, key: str, cost: float, allowance: Allowance, ticket: str) -> float:
        """Client ``key``'s token bucket: take ``cost`` and mark ``ticket`` running, and
        return 0; or take nothing and return the seconds until the cost could be taken, or
        BUSY if ``key`` already runs ``allowance.running`` computations. A cost above the
        burst is taken from a full bucket (the balance goes below zero and refills first)."""
        burst, rate = allowance.burst, allowance.rate
        with self.transaction() as db:
            # The clock is read holding the lock: read before it, a worker that waited for
            # another's transaction would refill from a time earlier than the bucket's own.
            now = self.clock()
            db.execute("DELETE FROM running WHERE until < ?", (now,))
            (running,) = db.execute("SELECT COUNT(*) FROM running WHERE key = ?", (key,)).fetchone()
            if running >= allowance.running:
                return BUSY
            row = db.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key,)).fetchone()
            # A clock that stepped back (another host's, a wall clock set back) refills nothing.
            elapsed = 0.0 if row is None else max(0.0, now - row[1])
            tokens = burst if row is None else min(burst, row[0] + elapsed * rate)
            wait = bucket_wait(tokens, cost, burst, rate)
            if wait == 0:
                at = now if row is None else max(now, row[1])
                db.execute(
                    "INSERT OR REPLACE INTO buckets VALUES (?, ?, ?)", (key, tokens - cost, at)
                )
                db.execute(
                    "INSERT INTO running VALUES (?, ?, ?)", (ticket, key, now + allowance.hold)
                )
                # Buckets full again are the same as none: dropped, so the table stays small.
                db.execute("DELETE FROM buckets WHERE at < ?", (now - 2 * burst / rate,))
            return wait

    def release(self, ticket: str) -> None:
        """The computation marked ``ticket`` has ended."""
        with self.transaction() as db:
            db.execute("DELETE FROM running WHERE ticket = ?", (ticket,))


def bucket_wait(tokens: float, cost: float, capacity: float, rate: float) -> float:
    """Seconds until a bucket holding ``tokens`` can give ``cost`` (0: now)."""
    needed = min(cost, capacity)
    return 0.0 if tokens >= needed else (needed - tokens) / rate


def host_store_path(env: Mapping[str, str]) -> str:
    """LIMITS_DB, or a new temporary file removed when the process that made it exits (not
    when a forked worker exits: the others still use it)."""
    path = env.get("LIMITS_DB", "").strip()
    if path:
        return path
    fd, path = tempfile.mkstemp(prefix="optimizer-race-limits-", suffix=".sqlite")
    os.close(fd)
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(path + suffix)

    atexit.register(remove)
    return path


class SqliteStorage(Storage):
    """flask-limiter's request counts (fixed windows) in a HostStore: ``sqlite:///path``."""

    STORAGE_SCHEME = ["sqlite"]  # noqa: RUF012 (the limits registry reads this list)

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: str) -> None:
        self.store = HostStore(uri.removeprefix("sqlite://"))
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT value FROM counters WHERE key = ? AND expires > ?", (key, now)
            ).fetchone()
            if row is None:
                db.execute("DELETE FROM counters WHERE expires <= ?", (now,))
                db.execute("INSERT INTO counters VALUES (?, ?, ?)", (key, amount, now + expiry))
                return amount
            db.execute("UPDATE counters SET value = value + ? WHERE key = ?", (amount, key))
            return row[0] + amount

    def get(self, key: str) -> int:
        row = self._row(key)
        return 0 if row is None else row[0]

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return time.time() if row is None else row[1]

    def _row(self, key: str) -> tuple[int, float] | None:
        db = self.store._connection()
        return db.execute(
            "SELECT value, expires FROM counters WHERE key = ? AND expires > ?", (key, time.time())
        ).fetchone()

    def check(self) -> bool:
        try:
            self.store._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self.store.transaction() as db:
            return db.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
