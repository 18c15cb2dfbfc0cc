"""Compile (or load from the cache) every kernel's loop before anyone waits for it, saying
how far it is.

The work is split into jobs: one per surface function tree (``surfaces.compiled``) and one
per optimizer loop (``engine.driver``). Jobs run in separate processes, one per core (numba
compiles under a process-wide lock, so threads would take turns), each writing the shared
cache (``common.jit``: safe for several writers); a job starts once the trees its loop calls
are in the cache, so no two processes compile the same tree. The default page race's loops
come first. Each finished job is one progress line: which, how many of how many, time so
far.

Three callers:

* ``python -m optimizers.warm`` (``make test``; ``make bench``): everything, then exits.
* gunicorn's ``on_starting`` hook: ``warm()`` in the master before it forks, so a request
  never makes a worker compile; with the cache in place it loads everything in seconds.
* ``make run`` (app.py): ``start()`` in the background; the page is served as soon as the
  default race can run. Until the warm-up ends, ``engine.driver`` asks ``wait_for`` before
  it loads a loop: a loop not ready yet is moved to the front of the queue and its race
  waits for it alone; ``status()`` (``/healthz``) and ``preparing()`` (the page) say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from common.fingerprint import reached
from common.jit import ROOT, cached, prune
from optimizers.readiness import ACTIVE, PROGRESS, Progress

# The default page race (layouts' entry race): compiled first.
FIRST = ("sgd", "momentum", "rmsprop", "adam")
TREES = ("value", "gradient", "hessian", "residuals", "jacobian")


def _tree(kind: str) -> Any:
    from surfaces import compiled

    return getattr(compiled, kind)


def _run_one(optimizer: str) -> None:
    """A two-step race of one racer with noise, clipping and the inspector's record: reaches
    every compiled function its loop uses (their types do not depend on the surface, the
    sizes or the settings)."""
    from optimizers.engine import Noise, Record, simulate
    from optimizers.validate import validate_racer
    from surfaces import get_surface

    surface = get_surface("quadratic")
    racer = validate_racer({"optimizer": optimizer, "lr": 1e-3, "clip_norm": 1.0}, "warm")
    start = np.array([surface.default_start])
    simulate(surface, [racer], start, 2, Noise(0.1, [0]), record=Record.STATE)


def compile_job(job: str) -> float:
    """Compile (or load) one job in this process: ``tree:<kind>`` or ``loop:<optimizer>``;
    returns its seconds. What the worker processes run."""
    start = time.perf_counter()
    kind, name = job.split(":", 1)
    if kind == "tree":
        _tree(name)(0, 0.0, 0.0, (0.0, 0.0, 0.0, 0.0))
    else:
        _run_one(name)
    return time.perf_counter() - start


@dataclass(frozen=True)
class Job:
    key: str  # "tree:gradient", "loop:adam"
    label: str  # what the progress line and the page call it
    needs: frozenset[str]  # jobs whose cache entries it reads


def jobs(first: Iterable[str] = FIRST) -> list[Job]:
    """Every job, in the order they are wanted: the trees the first loops need, those loops,
    the other trees, the other loops (those another loop waits for first, then registry
    order).

    No two processes compile the same code: a loop shared by several optimizers (Nesterov's
    is SGD's) is its first optimizer's job, which the others wait for; a compiled function
    that several loops link besides the trees (the line search of L-BFGS and GD + line
    search) is compiled with the first of them, which the others wait for. Both cost CPU
    that the loops a race waits for could have had (bench/results.md, compile section)."""
    from optimizers.engine import loop
    from optimizers.registry import OPTIMIZERS

    trees = {id(_tree(kind)): kind for kind in TREES}
    under_trees = {id(d) for kind in TREES for d in reached(_tree(kind).py_func)}
    heads = [n for n in first if n in OPTIMIZERS]
    names = heads + [n for n in OPTIMIZERS if n not in heads]
    used: dict[str, set[str]] = {}  # the trees each loop calls
    linked: dict[str, set[int]] = {}  # the other compiled functions it links
    for name in names:
        pieces = reached(loop(OPTIMIZERS[name].kernel.step).py_func)
        used[name] = {trees[id(d)] for d in pieces if id(d) in trees}
        linked[name] = {
            id(d)
            for d in pieces
            if id(d) not in trees
            and id(d) not in under_trees
            and d.targetoptions.get("inline") != "always"
        }
    # After the first race's, a loop that links what another links goes first (the others
    # wait for it); the rest keep the registry's order.
    shared = {n for n in names for o in names if o != n and linked[n] & linked[o]}
    rest = [n for n in names if n not in heads]
    names = heads + [n for n in rest if n in shared] + [n for n in rest if n not in shared]
    loops = []
    owners: dict[object, str] = {}  # the first optimizer of a kernel or of a linked piece
    titles = {n: OPTIMIZERS[n].card.title for n in names}
    for name in names:
        step = OPTIMIZERS[name].kernel.step
        owner = owners.setdefault(step, name)
        before = {owner} | {owners.setdefault(piece, name) for piece in linked[name]}
        needs = frozenset(f"tree:{kind}" for kind in used[name]) | frozenset(
            f"loop:{o}" for o in before if o != name
        )
        label = f"{titles[name]}'s loop"
        if owner != name:
            label += f" (the same as {titles[owner]}'s)"
        loops.append(Job(f"loop:{name}", label, needs))
    wanted = {f"loop:{n}" for n in heads}
    first_trees = {k for j in loops if j.key in wanted for k in j.needs}
    tree_jobs = [Job(f"tree:{k}", f"the surfaces' {k}", frozenset()) for k in TREES]
    trees_first = [j for j in tree_jobs if j.key in first_trees]
    trees_later = [j for j in tree_jobs if j.key not in first_trees]
    head_loops = [j for j in loops if j.key in wanted]
    return trees_first + head_loops + trees_later + [j for j in loops if j.key not in wanted]


def _line(progress: Progress, key: str, seconds: float | None) -> str:
    how = "in the cache" if seconds is None else f"ready in {seconds:.1f} s"
    return (
        f"[{len(progress.done):>2}/{progress.total}] {progress.labels[key]} {how} "
        f"({time.perf_counter() - progress.started:.1f} s so far)"
    )


def _in_cache(key: str) -> bool:
    """Whether a job's function is in the cache already (no process needs starting for it)."""
    from optimizers.engine import loop
    from optimizers.registry import OPTIMIZERS

    kind, name = key.split(":", 1)
    return cached(_tree(name) if kind == "tree" else loop(OPTIMIZERS[name].kernel.step))


def _next_job(progress: Progress, pending: list[Job]) -> Job | None:
    """The first pending job whose trees are in the cache, urgent ones (a race waits for
    them) and their trees first; None when none can start yet. Called under the lock."""
    for key in progress.urgent:
        job = next((j for j in pending if j.key == key), None)
        if job is not None:
            order = [j for j in pending if j.key in job.needs] + [job]
            for candidate in order:
                if candidate.needs <= set(progress.done):
                    return candidate
    return next((j for j in pending if j.needs <= set(progress.done)), None)


def _worker(progress: Progress, pending: list[Job], report: Callable[[str], None]) -> None:
    """One compiling process (``python -m optimizers.warm --serve``), fed one job at a time."""
    process = subprocess.Popen(
        [sys.executable, "-m", "optimizers.warm", "--serve"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        while True:
            with progress.lock:
                progress.lock.wait_for(
                    lambda: not pending or _next_job(progress, pending) is not None
                )
                job = _next_job(progress, pending) if pending else None
                if job is None:
                    return
                pending.remove(job)
                progress.running.append(job.key)
            process.stdin.write(job.key + "\n")
            process.stdin.flush()
            answer: list[str] = []
            while answer[:2] != ["ok", job.key]:  # other output (a library's) is passed over
                line = process.stdout.readline()
                if not line:
                    raise RuntimeError(f"compiling {job.label} failed (its process ended)")
                answer = line.split()
            with progress.lock:
                progress.running.remove(job.key)
                progress.done.append(job.key)
                line = _line(progress, job.key, float(answer[2]))
                progress.lock.notify_all()
            report(line)
    finally:
        process.stdin.close()
        process.wait()


def run(
    report: Callable[[str], None] = print,
    workers: int | None = None,
    progress: Progress | None = None,
) -> float:
    """Every job, in ``workers`` processes (default: one per core, at most four), then every
    loop loaded into this process; returns the seconds it took. ``report`` gets one line per
    job."""
    progress = progress or PROGRESS
    start = time.perf_counter()
    prune()
    pending = jobs()
    with progress.lock:
        progress.total, progress.started, progress.finished = len(pending), start, None
        progress.labels = {j.key: j.label for j in pending}
        progress.done.clear()
        progress.running.clear()
    for job in list(pending):  # a restart with the cache in place starts no process
        if _in_cache(job.key):
            pending.remove(job)
            with progress.lock:
                progress.done.append(job.key)
                line = _line(progress, job.key, None)
            report(line)
    count = min(workers or max(1, min(os.cpu_count() or 1, 4)), len(pending))
    if pending:
        report(
            f"compiling {len(pending)} of {len(progress.labels)} (the surfaces' functions and "
            f"each optimizer's loop; once per install, then cached) in {count} processes, "
            "a line each as it is ready"
        )
    failures: list[BaseException] = []

    def body() -> None:
        try:
            _worker(progress, pending, report)
        except BaseException as exc:
            failures.append(exc)
            with progress.lock:
                pending.clear()
                progress.lock.notify_all()

    threads = [threading.Thread(target=body, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    from optimizers.registry import OPTIMIZERS

    for name in OPTIMIZERS:  # loaded here (gunicorn's workers inherit them)
        _run_one(name)
    with progress.lock:
        progress.finished = time.perf_counter()
        progress.lock.notify_all()
    return time.perf_counter() - start


def serve() -> None:
    """A worker process: compiles each job named on stdin, answers ``ok <job> <seconds>``."""
    try:
        for line in sys.stdin:
            key = line.strip()
            seconds = compile_job(key)
            print("ok", key, f"{seconds:.3f}", flush=True)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the warm-up that fed it has gone (Ctrl-C on make run): nothing to report to


def warm(report: Callable[[str], None] | None = None) -> float:
    """Everything compiled or loaded in this process (``run``); lines to ``report`` if given."""
    return run(report or (lambda line: None))


def start(report: Callable[[str], None] = print) -> threading.Thread:
    """``run`` in a background thread of this process; until it ends, ``wait_for`` holds a
    loop that is not ready yet (``engine.driver`` asks it)."""
    ACTIVE.set()

    def body() -> None:
        try:
            run(report)
        except Exception as exc:  # the loops then compile where they are asked for
            with PROGRESS.lock:
                PROGRESS.error = f"{type(exc).__name__}: {exc}"
                PROGRESS.finished = time.perf_counter()
                PROGRESS.lock.notify_all()
            report(f"warm-up failed ({PROGRESS.error}); loops compile when first raced")
        finally:
            ACTIVE.clear()

    thread = threading.Thread(target=body, name="warm-up", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        seconds = run(lambda line: print(line, flush=True))
        print(f"compiled kernels ready in {seconds:.1f} s", flush=True)
