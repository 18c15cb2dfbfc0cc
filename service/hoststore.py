"""Counters shared by every worker on one host, without a server: one SQLite file.

Without Redis, a per-client limit kept in each process's memory is a limit per worker: with
gunicorn's five workers one address got five times its share. The limits need a store that
all workers of the host see, cannot lose an update between two of them, and needs nothing
installed: SQLite ships with Python and serialises writers with a file lock, so a
check-and-take is atomic across processes (``BEGIN IMMEDIATE``). A transaction costs a
fraction of a millisecond and only limited requests make one. Nothing here is durable on
purpose (``synchronous=OFF``): counters lost in a crash just start again.

Two users: the work budget (service/budget.py: each client's token bucket, the leases of its
running computations, and the charges Redis never answered) and flask-limiter's request
counts (``SqliteStorage``, the ``sqlite://`` storage scheme of the ``limits`` package
flask-limiter builds on; its own storages keep
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
    # A lease: one computation running for one level of its client, until it ends or ``until``.
    "CREATE TABLE IF NOT EXISTS leases"
    " (ticket TEXT, key TEXT, until REAL, PRIMARY KEY (ticket, key))",
    "CREATE INDEX IF NOT EXISTS leases_key ON leases (key)",
    "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER, expires REAL)",
    # Charges sent to the shared Redis whose answer never came (service/budget.py): released
    # there by whichever worker of this host reaches Redis next.
    "CREATE TABLE IF NOT EXISTS orphans (ticket TEXT PRIMARY KEY, body TEXT, until REAL)",
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


Levels = list[tuple[str, Allowance]]  # (bucket key, what it allows), all charged together


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
        """One level's ``take_all`` of an engine computation."""
        return self.take_all([(key, allowance)], cost, ticket)

    def take_all(self, levels: Levels, cost: float, ticket: str, kind: str = "") -> float:
        """Take ``cost`` from every level's token bucket and lease ``ticket`` on each, and
        return 0; or take nothing and return the seconds until every level could pay, or
        BUSY if a level already holds its ``allowance.running`` leases of ``kind`` (the
        engine's computations, "", or whole requests, "request:"; a ``running`` of -1 takes
        no lease). A cost above a level's
        burst is taken from a full bucket (the balance goes below zero and refills first); a
        cost of 0 is refused only to a level in debt. Levels are a client's own bucket and,
        for a browser session, its address's classroom ceiling: both must pay, or neither
        does."""
        with self.transaction() as db:
            # The clock is read holding the lock: read before it, a worker that waited for
            # another's transaction would refill from a time earlier than the bucket's own.
            now = self.clock()
            db.execute("DELETE FROM leases WHERE until < ?", (now,))
            wait = 0.0
            balances = []
            for key, allowance in levels:
                (running,) = db.execute(
                    "SELECT COUNT(*) FROM leases WHERE key = ?", (kind + key,)
                ).fetchone()
                if 0 <= allowance.running <= running:
                    return BUSY
                tokens, at = self._balance(db, key, allowance, now)
                wait = max(wait, bucket_wait(tokens, cost, allowance.burst, allowance.rate))
                balances.append((key, allowance, tokens, at))
            if wait > 0:
                return wait
            for key, allowance, tokens, at in balances:
                db.execute(
                    "INSERT OR REPLACE INTO buckets VALUES (?, ?, ?)", (key, tokens - cost, at)
                )
                if allowance.running >= 0:  # -1: a debt check, no lease
                    db.execute(
                        "INSERT OR REPLACE INTO leases VALUES (?, ?, ?)",
                        (ticket, kind + key, now + allowance.hold),
                    )
            self._forget_full(db, levels, now)
            return 0.0

    def charge(self, levels: Levels, cost: float) -> None:
        """Take ``cost`` from every level after the fact (what a request turned out to cost),
        down to at most one burst of debt: never refused, paid for by the next requests'
        wait."""
        with self.transaction() as db:
            self._charge(db, levels, cost)

    def finish(self, ticket: str, levels: Levels, cost: float) -> None:
        """``release`` and ``charge`` (when ``cost`` is above 0) in one transaction: a
        request's end."""
        with self.transaction() as db:
            db.execute("DELETE FROM leases WHERE ticket = ?", (ticket,))
            if cost > 0:
                self._charge(db, levels, cost)

    def _charge(self, db: sqlite3.Connection, levels: Levels, cost: float) -> None:
        now = self.clock()
        for key, allowance in levels:
            tokens, at = self._balance(db, key, allowance, now)
            left = max(tokens - cost, -allowance.burst)
            db.execute("INSERT OR REPLACE INTO buckets VALUES (?, ?, ?)", (key, left, at))

    def _balance(
        self, db: sqlite3.Connection, key: str, allowance: Allowance, now: float
    ) -> tuple[float, float]:
        """(tokens now, the time they are counted from) of ``key``'s bucket."""
        row = db.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key,)).fetchone()
        if row is None:
            return allowance.burst, now
        # A clock that stepped back (another host's, a wall clock set back) refills nothing.
        elapsed = max(0.0, now - row[1])
        return min(allowance.burst, row[0] + elapsed * allowance.rate), max(now, row[1])

    @staticmethod
    def _forget_full(db: sqlite3.Connection, levels: Levels, now: float) -> None:
        # Buckets full again are the same as none: dropped, so the table stays small.
        longest = max(2 * a.burst / a.rate for _, a in levels)
        db.execute("DELETE FROM buckets WHERE at < ?", (now - longest,))

    def release(self, ticket: str) -> None:
        """The computation leased as ``ticket`` has ended: its leases end on every level."""
        with self.transaction() as db:
            db.execute("DELETE FROM leases WHERE ticket = ?", (ticket,))

    def orphan(self, ticket: str, body: str, until: float) -> None:
        """Remember a shared-store charge whose answer never came (``body``: what releasing
        it there needs), until ``until``."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO orphans VALUES (?, ?, ?)", (ticket, body, until))

    def orphans(self) -> list[tuple[str, str]]:
        """(ticket, body) of every orphan not yet expired (a cheap read when there are none)."""
        db = self._connection()
        return db.execute(
            "SELECT ticket, body FROM orphans WHERE until >= ?", (self.clock(),)
        ).fetchall()

    def adopted(self, ticket: str) -> None:
        """The orphan ``ticket`` was released in its store."""
        with self.transaction() as db:
            db.execute("DELETE FROM orphans WHERE ticket = ? OR until < ?", (ticket, self.clock()))


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
