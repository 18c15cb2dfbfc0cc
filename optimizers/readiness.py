"""Whether the engine's compiled loops are ready: the state a background warm-up
(``optimizers.warm``) writes and the engine, ``/healthz`` and the page read.

Kept apart from the warm-up itself so the engine can ask it without importing what drives
the engine. Outside a background warm-up (gunicorn's master warms before serving; tests
warm before they run) nothing here ever waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Progress:
    """What the warm-up has done: read by ``/healthz`` and the page, written by ``run``."""

    total: int = 0
    done: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float | None = None
    error: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)
    urgent: list[str] = field(default_factory=list)

    def _state(self) -> str:
        if self.error:
            return "failed"
        if self.finished:
            return "ready"
        return "loading" if len(self.done) == self.total else "compiling"

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            end = self.finished or time.perf_counter()
            return {
                "state": self._state(),
                "done": len(self.done),
                "total": self.total,
                "compiling": [self.labels.get(k, k) for k in self.running],
                "seconds": round(end - self.started, 1) if self.started else 0.0,
            }


PROGRESS = Progress()
ACTIVE = threading.Event()  # set while a background warm-up runs in this process


def preparing(optimizers: Iterable[str]) -> list[str]:
    """The titles of ``optimizers`` whose loops a background warm-up has not made ready."""
    if not ACTIVE.is_set():
        return []
    from optimizers.registry import OPTIMIZERS

    with PROGRESS.lock:
        done = set(PROGRESS.done)
    names = dict.fromkeys(optimizers)
    return [OPTIMIZERS[n].card.title for n in names if f"loop:{n}" not in done and n in OPTIMIZERS]


def want(optimizers: Iterable[str]) -> None:
    """Put these optimizers' loops first in a background warm-up's queue (a race waits)."""
    with PROGRESS.lock:
        for name in optimizers:
            key = f"loop:{name}"
            if key not in PROGRESS.urgent and key not in PROGRESS.done:
                PROGRESS.urgent.append(key)
        PROGRESS.lock.notify_all()


def wait_for(kernel: Any) -> None:
    """Block until a background warm-up has this kernel's loop in the cache (first in its
    queue); returns at once when none runs. ``engine.driver`` calls it before loading."""
    if not ACTIVE.is_set():
        return
    from optimizers.registry import OPTIMIZERS

    name = next((n for n, s in OPTIMIZERS.items() if s.kernel.step is kernel), None)
    if name is None:
        return
    want([name])
    key = f"loop:{name}"
    with PROGRESS.lock:
        PROGRESS.lock.wait_for(lambda: key in PROGRESS.done or PROGRESS.finished is not None)


def status() -> dict[str, Any]:
    """The warm-up's state for ``/healthz``: ``ready`` (or ``idle`` in a process that never
    warmed), ``compiling`` with done/total and what is in progress, or ``failed``."""
    if PROGRESS.total == 0:
        return {"state": "idle", "done": 0, "total": 0, "compiling": [], "seconds": 0.0}
    return PROGRESS.snapshot()


_LOADED = threading.local()


@contextmanager
def loading(dispatcher: Any) -> Iterator[None]:
    """Counts the thread CPU time of a first call that loads ``dispatcher``'s compiled code
    from the cache (the server's own start-up work, done in a request while a background
    warm-up runs): the work budget does not charge it to the client whose request it
    happened in (``uncharged``). A call that compiled instead (a cache miss) is charged."""
    misses = sum(dispatcher.stats.cache_misses.values())
    started = time.thread_time()
    yield
    if sum(dispatcher.stats.cache_misses.values()) == misses:
        _LOADED.seconds = getattr(_LOADED, "seconds", 0.0) + time.thread_time() - started


def uncharged() -> float:
    """The thread CPU seconds spent loading compiled code since the last call (``loading``),
    and back to zero: what a request's meter leaves out (web/metering.py)."""
    seconds = getattr(_LOADED, "seconds", 0.0)
    _LOADED.seconds = 0.0
    return seconds
