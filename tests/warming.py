"""This process's readiness as ``make run``'s background warm-up leaves it part of the way
through (optimizers/readiness.py), for tests of what the page, the engine and the starting
server do meanwhile; restored after."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from optimizers import readiness
from optimizers.readiness import Progress
from optimizers.registry import OPTIMIZERS


@contextlib.contextmanager
def warming(missing: Iterable[str], active: bool = True) -> Iterator[Progress]:
    """Every loop ready but those of ``missing`` (their workers still compiling them), with
    a background warm-up running (``active``: ``readiness.ACTIVE`` set). A race still waiting
    when the test ends is let go (its loops marked done) before the state is restored."""
    missing = list(missing)
    progress = readiness.PROGRESS
    with progress.lock:
        saved = (progress.total, list(progress.done), progress.started, progress.finished)
        progress.total, progress.started, progress.finished = len(OPTIMIZERS), 1.0, None
        progress.done[:] = [f"loop:{n}" for n in OPTIMIZERS if n not in missing]
        progress.urgent.clear()
    if active:
        readiness.ACTIVE.set()
    try:
        yield progress
    finally:
        with progress.lock:
            progress.done.extend(f"loop:{n}" for n in missing)
            progress.lock.notify_all()
        readiness.ACTIVE.clear()
        with progress.lock:
            progress.total, done, progress.started, progress.finished = saved
            progress.done[:] = done
            progress.urgent.clear()
