"""The engine: every run of a race, sweep, fan or many-starts view advanced by its optimizer's
compiled kernel, one run at a time, in one compiled loop per kernel.

A 2-D run is a handful of scalars, so the floor is a compiled loop over them; the loop here
(``_drive``) is that floor. For each run it resets the oracle's tally before each step, calls
the kernel, and records what the step did: the displayed point and its loss, the gradient
norm, how many function values, gradients and Hessians the step asked for, and (for the step
inspector) the state. A run that leaves the surface's divergence box or stops being finite is
stopped there and reported as diverged at that step; a run whose work reaches the race's
budget stops there. After a run ends its rows hold NaN (and zero evaluations).

What is recorded is chosen per call (``Record``): a sweep keeps only each run's outcome
(constant memory in the number of steps), a race keeps every point.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from common.jit import compute_fingerprint, specialize
from optimizers import readiness
from optimizers.base import OptimizerSpec
from optimizers.config import RacerConfig
from optimizers.oracle import CLIP_EPS, COST, Oracle, noise_tables
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import schedule_values
from surfaces import compiled as surface_math
from surfaces.base import Surface

__all__ = ["CLIP_EPS", "Noise", "Record", "Trajectories", "common_noise", "simulate"]


class Record(enum.IntEnum):
    """How much of each run the engine keeps."""

    OUTCOME = 0  # end point, final and best loss, divergence, arrival, evaluation totals
    POINTS = 1  # and per step: point and loss (noisy fans, many starts)
    PATHS = 2  # and per step: rate, gradient norm, evaluation counts (a race)
    STATE = 3  # and per step: the optimizer's state and its first gradient (the inspector)


@dataclass(frozen=True)
class Noise:
    """Gaussian gradient noise: σ and each run's seed (runs with one seed share its numbers)."""

    std: float
    seeds: Sequence[int]


@dataclass(frozen=True)
class Trajectories:
    """Every run's history, in the order the runs were given.

    ``points`` and ``losses`` hold steps+1 rows (x_0 … x_N); ``lrs``, ``grad_norms`` and
    ``evaluations`` (function values, gradients, Hessians) one row per step. A run holds
    ``ends[run]`` valid points; the rows after them are NaN. ``diverged_at`` is 0 for runs that
    never diverged, ``steps_to_tol`` −1 for runs that never arrived. With ``Record.OUTCOME``
    the per-step arrays have no rows. With ``Record.STATE``, ``states`` (steps, runs, size)
    holds each run's state after every step and ``first`` (steps, runs, 3) the step's first
    gradient (noise added, before clipping) and the factor clipping multiplied it by;
    ``probes`` (steps, runs, MAX_PROBES, 2) the points the step evaluated (f, ∇f or ∇²f), in
    order, and ``probe_counts`` (steps, runs) how many (beyond MAX_PROBES not kept).
    ``stopped_at`` is the step at which an optimizer that can stop for good
    (``Kernel.stops``) did so (0: it did not), ``stop_reason`` its reason's number
    (1 for the spec's first reason; 0: none). ``lrs`` holds each step's scheduled rate, or,
    for an optimizer that estimates its own (``Kernel.shown_rate``: Prodigy's d·lr),
    that estimate after the step; a step whose estimate is not finite is a divergence.
    """

    points: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    grad_norms: np.ndarray
    evaluations: np.ndarray
    diverged_at: np.ndarray
    steps_to_tol: np.ndarray
    ends: np.ndarray
    final_point: np.ndarray
    final_loss: np.ndarray
    best_loss: np.ndarray
    totals: np.ndarray
    states: np.ndarray
    first: np.ndarray
    probes: np.ndarray
    probe_counts: np.ndarray
    stopped_at: np.ndarray
    stop_reason: np.ndarray

    def length(self, run: int) -> int:
        """Number of valid points of ``run`` (steps+1 unless it diverged or ran out of work)."""
        return int(self.ends[run])

    @property
    def work(self) -> np.ndarray:
        """(steps, runs): each step's work in gradient evaluations (``oracle.COST``)."""
        return self.evaluations @ np.array(list(COST.values()))


def kernel(o, w, s, h, lr, cyc, t):  # rebound in each driver (common.jit.specialize)
    raise NotImplementedError


class Loop(NamedTuple):
    """Everything one engine call hands a kernel's loop (``_drive``), by name: the runs and
    their settings, the outputs it writes in place, and the scratch arrays it reuses (it
    allocates nothing). One typed record, so a loop's argument list cannot be misordered."""

    members: np.ndarray  # int64[k]: the runs this loop advances (its rows of every array)
    sid: int  # the surface's id (surfaces.compiled)
    c: tuple[float, ...]  # the surface's constants, padded to CONSTANTS
    starts: np.ndarray  # (runs, 2) start points
    hyper: np.ndarray  # (runs, ·) each run's h
    state0: np.ndarray  # (runs, width) each run's starting state
    lr_const: np.ndarray  # (runs,) the rate where the schedule is constant
    lr_row: np.ndarray  # int64 (runs,) the run's row of lr_table, −1: constant
    lr_table: np.ndarray  # (rows, steps) scheduled rates
    cyc_const: np.ndarray  # (runs,) momentum or β1 where nothing cycles it
    cyc_row: np.ndarray  # int64 (runs,) the run's row of cyc_table, −1: constant
    cyc_table: np.ndarray  # (rows, steps) cycled momentum or β1
    noise_row: np.ndarray  # int64 (runs,) the run's noise table, −1: none
    noise: np.ndarray  # (tables, steps, per_step, 2) gradient noise
    clip: np.ndarray  # (runs,) clipping norm, inf: none
    sam: np.ndarray  # (runs, 2) SAM's ρ (0: off) and whether ASAM's
    steps: int  # steps per run
    box: np.ndarray  # (4,) the divergence box: x_lo, y_lo, x_hi, y_hi
    f_star: float  # the surface's minimum, NaN: unknown
    tol: float  # arrival: f − f* ≤ tol
    budget: float  # work per run in gradient evaluations, inf: none
    cost: np.ndarray  # (3,) the work of f, ∇f, ∇²f (oracle.COST)
    stop_slot: int  # the state slot of 'stopped', −1: never stops
    rate_slot: int  # the state slot of the shown rate, −1: scheduled
    shown: np.ndarray  # out (steps, runs) rates shown
    points: np.ndarray  # out (runs, steps+1 or 0, 2)
    losses: np.ndarray  # out (runs, steps+1 or 0)
    grad_norms: np.ndarray  # out (runs, steps or 0)
    evaluations: np.ndarray  # out int32 (runs, steps or 0, 3)
    states: np.ndarray  # out (runs, steps or 0, named)
    firsts: np.ndarray  # out (runs, steps or 0, 3)
    probed: np.ndarray  # out (runs, steps or 0, MAX_PROBES, 2)
    probe_counts: np.ndarray  # out int64 (runs, steps or 0)
    diverged: np.ndarray  # out int64 (runs,)
    arrived: np.ndarray  # out int64 (runs,)
    ends: np.ndarray  # out int64 (runs,)
    final: np.ndarray  # out (runs, 4): x, y, loss, best
    totals: np.ndarray  # out int64 (runs, 3)
    stopped: np.ndarray  # out int64 (runs, 2): step, reason
    tally: np.ndarray  # scratch int64 (5,): the oracle's count
    first: np.ndarray  # scratch (3,): the step's first gradient and its clip factor
    probes: np.ndarray  # scratch (MAX_PROBES or 0, 2)
    quiet: np.ndarray  # scratch (0, per_step, 2): the noise table of a quiet run
    w: np.ndarray  # scratch (2,): the parameters
    s: np.ndarray  # scratch (width,): the state
    bases: np.ndarray  # scratch (POWER_SLOTS, 2): the powers remembered
    powers: np.ndarray  # scratch (POWER_SLOTS, steps + 2)


def _drive(a):
    """Runs ``a.members`` (a ``Loop``) through ``kernel`` (see the module docstring), writing
    their rows of the output arrays (every array holds every run; other kernels fill the
    other rows). Compiled without numba's reference counting (``_nrt=False``): arrays handed
    to an inlined kernel would otherwise be counted on every step, which costs more than the
    step itself; so nothing here allocates, and the scratch arrays (the oracle's tally, first
    gradient, probes and remembered powers, a silent noise table, the parameters ``w`` and
    state ``s``) come from the caller."""
    members = a.members
    sid = a.sid
    c = a.c
    starts = a.starts
    hyper = a.hyper
    state0 = a.state0
    lr_const = a.lr_const
    lr_row = a.lr_row
    lr_table = a.lr_table
    cyc_const = a.cyc_const
    cyc_row = a.cyc_row
    cyc_table = a.cyc_table
    noise_row = a.noise_row
    noise = a.noise
    clip = a.clip
    sam = a.sam
    steps = a.steps
    box = a.box
    f_star = a.f_star
    tol = a.tol
    budget = a.budget
    cost = a.cost
    stop_slot = a.stop_slot
    rate_slot = a.rate_slot
    shown = a.shown
    points = a.points
    losses = a.losses
    grad_norms = a.grad_norms
    evaluations = a.evaluations
    states = a.states
    firsts = a.firsts
    probed = a.probed
    probe_counts = a.probe_counts
    diverged = a.diverged
    arrived = a.arrived
    ends = a.ends
    final = a.final
    totals = a.totals
    stopped = a.stopped
    tally = a.tally
    first = a.first
    probes = a.probes
    quiet = a.quiet
    w = a.w
    s = a.s
    bases = a.bases
    powers = a.powers
    paths = points.shape[1] > 0
    per_step = grad_norms.shape[1] > 0
    record_state = states.shape[1] > 0
    arrive_check = not math.isnan(f_star)
    budgeted = budget < math.inf
    for r in members:
        lr_fixed, lr_at, cyc_fixed, cyc_at = lr_const[r], lr_row[r], cyc_const[r], cyc_row[r]
        table = noise[noise_row[r]] if noise_row[r] >= 0 else quiet
        o = Oracle(
            sid, c, table, clip[r], sam[r, 0], sam[r, 1], w, tally, first, probes, bases, powers
        )
        for k in range(s.shape[0]):
            s[k] = state0[r, k]
        h = hyper[r]
        w[0] = starts[r, 0]
        w[1] = starts[r, 1]
        x, y = w[0], w[1]
        loss = surface_math.value(sid, x, y, c)
        if paths:
            points[r, 0, 0] = x
            points[r, 0, 1] = y
            losses[r, 0] = loss
        best = loss
        arrive = 0 if arrive_check and loss - f_star <= tol else -1
        fx, fy, fl = x, y, loss
        end = steps + 1
        div = 0
        work = 0.0
        nf = ng = nh = 0
        stop_at = reason = 0
        for t in range(1, steps + 1):
            lr = lr_fixed if lr_at < 0 else lr_table[lr_at, t - 1]
            cyc = cyc_fixed if cyc_at < 0 else cyc_table[cyc_at, t - 1]
            tally[0] = t
            tally[1] = 0
            tally[2] = 0
            tally[3] = 0
            tally[4] = 0
            first[0] = math.nan
            first[1] = math.nan
            first[2] = 1.0
            x, y = kernel(o, w, s, h, lr, cyc, t)
            # ‖g‖² is finite exactly when ‖g‖ is: the root is taken only where it is kept.
            gn2 = first[0] * first[0] + first[1] * first[1] if tally[2] > 0 else 0.0
            loss = surface_math.value(sid, x, y, c)
            if paths:
                points[r, t, 0] = x
                points[r, t, 1] = y
                losses[r, t] = loss
            if per_step:
                grad_norms[r, t - 1] = math.sqrt(gn2)
                evaluations[r, t - 1, 0] = tally[1]
                evaluations[r, t - 1, 1] = tally[2]
                evaluations[r, t - 1, 2] = tally[3]
            if record_state:
                for k in range(states.shape[2]):
                    states[r, t - 1, k] = s[k]
                for k in range(3):
                    firsts[r, t - 1, k] = first[k]
                probe_counts[r, t - 1] = tally[4]
                for k in range(min(tally[4], probes.shape[0])):
                    probed[r, t - 1, k, 0] = probes[k, 0]
                    probed[r, t - 1, k, 1] = probes[k, 1]
            # An optimizer that estimates its own rate shows that (Kernel.shown_rate).
            rate = s[rate_slot] if rate_slot >= 0 else 0.0
            if per_step and rate_slot >= 0:
                shown[t - 1, r] = rate
            if stop_slot >= 0 and stop_at == 0 and s[stop_slot] != 0:
                stop_at = t
                reason = int(s[stop_slot])
            inside = box[0] < x < box[2] and box[1] < y < box[3]
            if not (inside and math.isfinite(loss) and math.isfinite(gn2) and math.isfinite(rate)):
                div = t
                end = t
                break
            nf += tally[1]
            ng += tally[2]
            nh += tally[3]
            if budgeted:
                work += tally[1] * cost[0] + tally[2] * cost[1] + tally[3] * cost[2]
            fx, fy, fl = x, y, loss
            if loss < best:
                best = loss
            if arrive < 0 and arrive_check and loss - f_star <= tol:
                arrive = t
            if budgeted and work >= budget:
                end = t + 1
                break
        if paths:
            for k in range(end, steps + 1):
                points[r, k, 0] = math.nan
                points[r, k, 1] = math.nan
                losses[r, k] = math.nan
        if per_step:
            for k in range(end - 1, steps):
                grad_norms[r, k] = math.nan
                for kind in range(3):
                    evaluations[r, k, kind] = 0
        diverged[r] = div
        arrived[r] = arrive
        ends[r] = end
        final[r, 0] = fx
        final[r, 1] = fy
        final[r, 2] = fl
        final[r, 3] = best
        totals[r, 0] = nf
        totals[r, 1] = ng
        totals[r, 2] = nh
        stopped[r, 0] = stop_at
        stopped[r, 1] = reason


_DRIVERS: dict[object, object] = {}
# The points of one step's evaluations the inspector keeps (a line search's trials).
MAX_PROBES = 8
# How many sequences ``oracle.power``, ``bias_root`` and ``decay_power`` remember per engine
# call (β1^t, β2^t, √(1 − β2^t), NAdam's 0.96^(t·decay), and a spare).
POWER_SLOTS = 5


def loop(step):
    """The compiled loop for one kernel, made once per process and not compiled yet (what a
    warm-up fingerprints and orders: ``optimizers.warm``)."""
    if step not in _DRIVERS:
        module = step.py_func.__module__.rsplit(".", 1)[-1]
        name = f"drive_{module}_{step.__name__}"
        _DRIVERS[step] = specialize(_drive, name, {"_nrt": False, "entry": True}, kernel=step)
    return _DRIVERS[step]


def driver(step):
    """The compiled loop for one kernel, ready to call (compiled or loaded once). Every loop
    takes the same argument types, so once one has been called, the next ones are loaded
    for its signature at once (numba would otherwise type each one's forty-odd arguments
    again on its first call: a new process's first race loads several). While a background
    warm-up runs (``make run``), a loop it has not made ready is waited for first."""
    made = loop(step)
    if not made.signatures:
        readiness.wait_for(step)
        known = [d.signatures[0] for d in _DRIVERS.values() if d.signatures]
        if known:
            made.compile(known[0])
    return made


_ENTRIES: dict[tuple[object, object], object] = {}
_TYPES: dict[object, object] = {}  # a record's C fingerprint → numba's type of it


def run_loop(step, record: Loop) -> None:
    """Runs ``record`` through ``step``'s loop. numba's dispatcher types a record argument in
    Python (hashing every field's type, ~0.05 ms a call, a tenth of a short race), where it
    types arrays and scalars in C. So a record is keyed by numba's own C fingerprint of its
    types (``compute_fingerprint``: each field's dtype, dimensions, layout and writability,
    ~4 µs): the first call with a new key goes through the dispatcher, which types it (and
    compiles a specialisation if it must: conftest's one-signature check still sees it), and
    the next ones call the compiled code it found directly. Every loop takes the same record
    types, so a record typed for one loop is not typed again for the next (a new process's
    first race loads five loops)."""
    shape = compute_fingerprint(record)
    key = (step, shape)
    entry = _ENTRIES.get(key)
    if entry is None:
        made = loop(step)
        with readiness.loading(made):
            ready = driver(step)
        known = _TYPES.get(shape)
        overload = ready.overloads.get((known,)) if known is not None else None
        if overload is None:
            with readiness.loading(made):
                ready(record)
            typed = _TYPES.setdefault(shape, ready.typeof_pyval(record))
            _ENTRIES[key] = ready.overloads[(typed,)].entry_point
            return
        entry = _ENTRIES[key] = overload.entry_point
    entry(record)


class _Rates(NamedTuple):
    lr_const: np.ndarray
    lr_row: np.ndarray
    lr_table: np.ndarray
    cyc_const: np.ndarray
    cyc_row: np.ndarray
    cyc_table: np.ndarray
    shown: np.ndarray


def _rates(racers: Sequence[RacerConfig], steps: int, keep: bool) -> _Rates:
    """Each run's rate and ``cyc`` per step: a constant where the schedule is constant, else a
    row of a table (one ``schedule_values`` call per schedule). Also the (steps, runs) rates
    when ``keep`` (the results show them; the driver writes an optimizer's own estimate over
    its rows, ``Kernel.shown_rate``)."""
    runs = len(racers)
    lr_const = np.array([r.lr for r in racers], dtype=float)
    lr_row = np.full(runs, -1, dtype=np.int64)
    cycled = {id(r): OPTIMIZERS[r.optimizer].kernel.cycled_default(r.params) for r in racers}
    cyc_const = np.array([cycled[id(r)] for r in racers], dtype=float)
    cyc_row = np.full(runs, -1, dtype=np.int64)
    lr_rows: list[np.ndarray] = []
    cyc_rows: list[np.ndarray] = []
    by_schedule: dict[str, list[int]] = {}
    for i, racer in enumerate(racers):
        if racer.schedule.name != "constant":
            key = json.dumps(racer.schedule.to_json(), sort_keys=True)
            by_schedule.setdefault(key, []).append(i)
    for members in by_schedule.values():
        schedule = racers[members[0]].schedule
        lr, cycled = schedule_values(schedule.name, schedule.params, lr_const[members], steps)
        for column, i in enumerate(members):
            lr_row[i] = len(lr_rows)
            lr_rows.append(lr[:, column])
        if cycled is not None:
            cycled_row = len(cyc_rows)
            cyc_rows.append(np.ascontiguousarray(cycled, dtype=float))
            for i in members:
                if OPTIMIZERS[racers[i].optimizer].kernel.cycles is not None:
                    cyc_row[i] = cycled_row
    lr_table = np.array(lr_rows).reshape(len(lr_rows), steps)
    cyc_table = np.array(cyc_rows).reshape(len(cyc_rows), steps)
    shown = np.empty((0, runs))
    if keep:
        shown = np.where(lr_row >= 0, lr_table[np.maximum(lr_row, 0)].T if lr_rows else 0, lr_const)
        # A writable C-ordered copy: the driver writes an optimizer's own estimate over its
        # rows, and a transposed (Fortran-ordered) table is another numba type (``driver``).
        shown = np.array(np.broadcast_to(shown, (steps, runs)), dtype=float, order="C")
    return _Rates(lr_const, lr_row, lr_table, cyc_const, cyc_row, cyc_table, shown)


def step_values(racers: Sequence[RacerConfig], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, runs) rates and ``cyc`` (momentum or β1) as the engine hands them to kernels."""
    rates = _rates(racers, steps, True)
    cyc = np.broadcast_to(rates.cyc_const, rates.shown.shape).copy()
    for run, row in enumerate(rates.cyc_row):
        if row >= 0:
            cyc[:, run] = rates.cyc_table[row]
    return rates.shown, cyc


def simulate(
    surface: Surface,
    racers: Sequence[RacerConfig],
    starts: np.ndarray,
    steps: int,
    noise: Noise | None = None,
    tol: float = 1e-6,
    *,
    record: Record = Record.PATHS,
    budget: float | None = None,
) -> Trajectories:
    """Run every racer from its start (``starts`` is (runs, 2)) for ``steps`` steps, or until
    its work reaches ``budget`` gradient evaluations."""
    runs = len(racers)
    # A fresh, writable copy: a caller's read-only array is another numba type, and the first
    # driver's types are the ones every later driver is loaded for (``driver``): a read-only
    # start made a process compile every kernel anew (tens of seconds) instead of loading it.
    starts = np.array(starts, dtype=float, order="C").reshape(runs, 2)
    specs = [OPTIMIZERS[r.optimizer] for r in racers]
    kinds = list({id(spec): spec for spec in specs}.values())  # a fan repeats each racer
    per_step = max(spec.kernel.gradients for spec in kinds)
    lr_const, lr_row, lr_table, cyc_const, cyc_row, cyc_table, shown = _rates(
        racers, steps, record >= Record.PATHS
    )
    noise_row = np.full(runs, -1, dtype=np.int64)
    tables = np.zeros((0, steps, per_step, 2))
    if noise is not None and noise.std > 0:
        unique = list(dict.fromkeys(noise.seeds))
        index = {seed: i for i, seed in enumerate(unique)}
        tables = noise_tables(noise.std, unique, steps, per_step)
        noise_row = np.array([index[s] for s in noise.seeds], dtype=np.int64)
    clip = np.array([r.clip_norm or math.inf for r in racers], dtype=float)
    # SAM's ρ (0: off) and whether its form is ASAM's, per run (oracle.gradient).
    sam = np.array([[r.sam_rho or 0.0, float(r.sam_adaptive)] for r in racers], dtype=float)
    low, high = surface.divergence_box()
    box = np.array([low[0], low[1], high[0], high[1]], dtype=float)
    f_star = math.nan if surface.f_star is None else float(surface.f_star)
    cost = np.array(list(COST.values()))
    c = surface_math.constants(surface)
    sid = surface_math.surface_id(surface)

    rows = steps + 1 if record >= Record.POINTS else 0
    step_rows = steps if record >= Record.PATHS else 0
    points = np.empty((runs, rows, 2))
    losses = np.empty((runs, rows))
    grad_norms = np.empty((runs, step_rows))
    evaluations = np.zeros((runs, step_rows, 3), dtype=np.int32)
    diverged = np.zeros(runs, dtype=np.int64)
    arrived = np.zeros(runs, dtype=np.int64)
    ends = np.zeros(runs, dtype=np.int64)
    final = np.empty((runs, 4))
    totals = np.zeros((runs, 3), dtype=np.int64)
    stopped = np.zeros((runs, 2), dtype=np.int64)
    state_rows = steps if record >= Record.STATE else 0
    width = max(max(spec.kernel.state_size, 1) for spec in kinds)
    # The inspector's record holds the named slots, not an optimizer's memory (base.py).
    named = max(max(spec.kernel.named_size, 1) for spec in kinds)
    states = np.full((runs, state_rows, named), np.nan)
    firsts = np.full((runs, state_rows, 3), np.nan)
    probed = np.full((runs, state_rows, MAX_PROBES, 2), np.nan)
    probe_counts = np.zeros((runs, state_rows), dtype=np.int64)

    # One call per kernel, over the runs it serves, each writing its own rows in place.
    hyper, state0 = _settings(specs, racers, width)
    by_kernel: dict[object, list[int]] = {}
    stop_slots = {spec.kernel.step: spec.kernel.stop_slot for spec in specs}
    rate_slots = {spec.kernel.step: spec.kernel.rate_slot for spec in specs}
    for i, spec in enumerate(specs):
        by_kernel.setdefault(spec.kernel.step, []).append(i)
    if readiness.ACTIVE.is_set():  # every loop this call waits for, first in the queue at once
        readiness.want(spec.name for spec in specs)
    for step, members in by_kernel.items():
        run_loop(
            step,
            Loop(
                members=np.array(members, dtype=np.int64),
                sid=sid,
                c=c,
                starts=starts,
                hyper=hyper,
                state0=state0,
                lr_const=lr_const,
                lr_row=lr_row,
                lr_table=lr_table,
                cyc_const=cyc_const,
                cyc_row=cyc_row,
                cyc_table=cyc_table,
                noise_row=noise_row,
                noise=tables,
                clip=clip,
                sam=sam,
                steps=steps,
                box=box,
                f_star=f_star,
                tol=float(tol),
                budget=math.inf if budget is None else float(budget),
                cost=cost,
                stop_slot=stop_slots[step],
                rate_slot=rate_slots[step],
                shown=shown,
                points=points,
                losses=losses,
                grad_norms=grad_norms,
                evaluations=evaluations,
                states=states,
                firsts=firsts,
                probed=probed,
                probe_counts=probe_counts,
                diverged=diverged,
                arrived=arrived,
                ends=ends,
                final=final,
                totals=totals,
                stopped=stopped,
                tally=np.zeros(5, dtype=np.int64),
                first=np.zeros(3),
                probes=np.zeros((MAX_PROBES if record >= Record.STATE else 0, 2)),
                quiet=np.zeros((0, per_step, 2)),
                w=np.zeros(2),
                s=np.zeros(width),
                bases=np.full((POWER_SLOTS, 2), np.nan),
                powers=np.full((POWER_SLOTS, steps + 2), np.nan),
            ),
        )

    return Trajectories(
        points=points.transpose(1, 0, 2),
        losses=losses.T,
        lrs=shown,
        grad_norms=grad_norms.T,
        evaluations=evaluations.transpose(1, 0, 2),
        diverged_at=diverged,
        steps_to_tol=arrived,
        ends=ends,
        final_point=final[:, :2],
        final_loss=final[:, 2],
        best_loss=final[:, 3],
        totals=totals,
        states=states.transpose(1, 0, 2),
        first=firsts.transpose(1, 0, 2),
        probes=probed.transpose(1, 0, 2, 3),
        probe_counts=probe_counts.T,
        stopped_at=stopped[:, 0],
        stop_reason=stopped[:, 1],
    )


def _settings(
    specs: list[OptimizerSpec], racers: Sequence[RacerConfig], width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every run's ``h`` and starting state, as (runs, ·) rows padded with zeros; a racer
    repeated over seeds or starts (the same object) is read once, its row copied."""
    rows: dict[int, int] = {}
    index, unique = [], []
    for spec, racer in zip(specs, racers, strict=True):
        if id(racer) not in rows:
            rows[id(racer)] = len(unique)
            unique.append((spec.hyper(racer.params), spec.kernel.initial_state(racer.params)))
        index.append(rows[id(racer)])
    size = max(len(h) for h, _ in unique)
    hyper, state0 = np.zeros((len(unique), size)), np.zeros((len(unique), width))
    for row, (h, s) in enumerate(unique):
        hyper[row, : len(h)] = h
        state0[row, : len(s)] = s
    return hyper[index], state0[index]


def common_noise(std: float, seed: int, runs: int) -> Noise | None:
    """One noise sequence shared by every racer of a race (common random numbers)."""
    return None if std == 0 else Noise(std, [seed] * runs)
