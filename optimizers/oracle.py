"""The oracle: the only way a kernel reaches the surface, and the one place work is counted.

A kernel asks for f, ∇f or ∇²f at any point. Every gradient it asks for gets the race's noise
and the racer's clipping; every evaluation is counted, per kind, for the step in progress:

* noise: the k-th gradient of step t (k from 0) adds row [t−1, k] of the run's noise table
  (``noise_table``): column 0 is exactly the sequence a one-gradient engine has always drawn
  (``std · default_rng(seed).standard_normal((steps, 2))``), so an optimizer that takes one
  gradient per step sees the same numbers bit for bit, and every racer of a race shares the
  table (common random numbers). Function values and Hessians are exact (no noise).
* clipping: torch.nn.utils.clip_grad_norm_ on each gradient: g · min(c / (‖g‖ + 1e-6), 1).
* sharpness-aware steps (SAM, the racer's ``sam_rho`` ρ > 0): each gradient the kernel asks
  for is taken twice, as SAM (Foret et al. 2021) does around any torch optimizer: g at the
  point asked, then e = ρ·g/(‖g‖ + 1e-12) (ASAM, ``sam_adaptive``: e = ρ·θ²⊙g/(‖|θ|⊙g‖ +
  1e-12)), and the kernel receives the gradient at θ + e. Both count as gradients and are
  probes; both get the same noise sample (SAM recomputes the loss on the same mini-batch);
  only the second is clipped (it is the one the optimizer steps with; e is normalised, so
  clipping the first would change nothing but rounding). Only optimizers whose step is one
  gradient at their parameters take SAM (``Limits.sam``): as the source's SAM moves
  the parameters to θ + e and back (θ + e − e, which may round θ's last bit), the oracle
  writes θ + e − e into the kernel's parameters ``w``.
* counting: ``tally`` holds [t, function values, gradients, Hessians, probes] for the step in
  progress; the engine resets it before each step and reads it after.
* the step's first gradient (noise added, before clipping; with SAM the one at θ, not θ + e)
  and the clipping factor of the gradient the optimizer received are kept in ``first``: the
  loss chart's gradient norm and the step inspector read them.
* ``probes`` (optional; zero rows when not wanted) records every point evaluated in the step.

Work (the race's clock) is counted in gradient evaluations: ``COST`` says what each kind costs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from common.jit import inlined
from surfaces import compiled as surface

# torch.nn.utils.clip_grad_norm_ adds this to the norm before dividing.
CLIP_EPS = 1e-6
# SAM adds this to the gradient's norm before dividing (Foret et al.'s code; the source's).
SAM_EPS = 1e-12
# The work clock's cost model, in gradient evaluations: a gradient (with its function value)
# costs 1; a function value alone half of one (reverse-mode AD costs a small multiple of f for
# the gradient); a 2×2 Hessian two (one gradient per row: forward-over-reverse, or the two
# gradient differences of finite differencing).
COST = {"f": 0.5, "g": 1.0, "h": 2.0}
KINDS = tuple(COST)

# Slots of ``tally``.
T, F, G, H, P = 0, 1, 2, 3, 4


class Oracle(NamedTuple):
    """What a kernel receives as ``o``: read only through the functions below."""

    sid: int
    c: Any  # the surface's constants: a tuple of floats (surfaces.compiled.constants)
    noise: Any  # float64[steps, per_step, 2] (zero rows: no noise)
    clip: float  # inf: no clipping
    rho: float  # SAM's ρ (0: no SAM)
    adaptive: float  # 1.0: ASAM's perturbation, 0.0: SAM's
    w: Any  # float64[2]: the kernel's parameters (SAM moves them to θ + e and back)
    tally: Any  # int64[5]
    first: Any  # float64[3]: the first gradient (noise added, before clipping), its factor
    probes: Any  # float64[n, 2] (zero rows: not recorded)
    bases: Any  # float64[k, 2]: the (base, kind) ``power`` remembers (NaN: a free slot)
    powers: Any  # float64[k, steps + 1]: their powers (NaN: not computed yet)


@inlined
def _probe(o, x, y):
    n = o.tally[P]
    if n < o.probes.shape[0]:
        o.probes[n, 0] = x
        o.probes[n, 1] = y
    o.tally[P] = n + 1


@inlined
def value(o, x, y):
    """f(x, y), exact."""
    o.tally[F] += 1
    _probe(o, x, y)
    return surface.value(o.sid, x, y, o.c)


@inlined
def _noised(o, gx, gy, k):
    """A gradient with noise row [t − 1, k] of the run's table added (if the race has noise)."""
    if o.noise.shape[0] > 0:
        if k >= o.noise.shape[1]:
            raise IndexError("more gradients in one step than the optimizer's spec declares")
        t = o.tally[T]
        gx = gx + o.noise[t - 1, k, 0]
        gy = gy + o.noise[t - 1, k, 1]
    return gx, gy


@inlined
def gradient(o, x, y):
    """∇f(x, y) with this evaluation's noise added, then clipped; with SAM the gradient at
    the perturbed point instead (module docstring)."""
    if o.rho > 0:
        k = o.tally[G] // 2  # the k-th gradient the kernel asked for: two evaluations each
        o.tally[G] += 1
        _probe(o, x, y)
        ax, ay = surface.gradient(o.sid, x, y, o.c)
        ax, ay = _noised(o, ax, ay, k)
        if k == 0:
            o.first[0] = ax
            o.first[1] = ay
        if o.adaptive != 0.0:
            sx, sy = abs(x) * ax, abs(y) * ay
            scale = o.rho / (norm(sx, sy) + SAM_EPS)
            ex, ey = x * x * ax * scale, y * y * ay * scale
        else:
            scale = o.rho / (norm(ax, ay) + SAM_EPS)
            ex, ey = ax * scale, ay * scale
        x, y = x + ex, y + ey
        # The source's SAM moves the parameters to θ + e and back by subtracting e, which
        # can change θ's last bit; its path has that rounding, so the kernel's θ gets it too.
        o.w[0] = x - ex
        o.w[1] = y - ey
    _probe(o, x, y)
    gx, gy = surface.gradient(o.sid, x, y, o.c)
    return _counted_gradient(o, gx, gy)


@inlined
def _counted_gradient(o, gx, gy):
    """A gradient just evaluated, counted, with its noise added and clipped (``gradient``);
    with SAM the second of a pair: the pair's noise, the clipping factor the chart shows."""
    n = o.tally[G]
    o.tally[G] = n + 1
    k = n // 2 if o.rho > 0 else n  # the k-th gradient the kernel asked for
    gx, gy = _noised(o, gx, gy, k)
    factor = 1.0
    if o.clip < math.inf:
        factor = min(o.clip / (math.sqrt(gx * gx + gy * gy) + CLIP_EPS), 1.0)
    if k == 0:
        if o.rho == 0:
            o.first[0] = gx
            o.first[1] = gy
        o.first[2] = factor
    if o.clip < math.inf:
        gx = gx * factor
        gy = gy * factor
    return gx, gy


@inlined
def loss_and_gradient(o, x, y):
    """f(x, y) and ∇f(x, y) as one evaluation (a torch closure: loss and backward): counted as
    one gradient, since a gradient's cost includes its function value (``COST``); the gradient
    noised and clipped as ``gradient``, f exact."""
    gx, gy = gradient(o, x, y)
    return surface.value(o.sid, x, y, o.c), gx, gy


@inlined
def normal_equations(o, x, y):
    """For a sum of squares f = ½‖r‖²: f(x, y), the gradient Jᵀr and JᵀJ as (xx, xy, yy),
    from the surface's residuals r and Jacobian J. Counted as one gradient (a 2-column
    Jacobian costs what a gradient does: two forward passes or a reverse pass per residual,
    and it gives Jᵀr, the gradient); the gradient gets the race's noise and clipping as in
    ``gradient``; f and JᵀJ are exact. NaN on a surface without residuals."""
    _probe(o, x, y)
    r0, r1, r2 = surface.residuals(o.sid, x, y, o.c)
    j00, j01, j10, j11, j20, j21 = surface.jacobian(o.sid, x, y, o.c)
    gx = j00 * r0 + j10 * r1 + j20 * r2
    gy = j01 * r0 + j11 * r1 + j21 * r2
    a = j00 * j00 + j10 * j10 + j20 * j20
    b = j00 * j01 + j10 * j11 + j20 * j21
    d = j01 * j01 + j11 * j11 + j21 * j21
    gx, gy = _counted_gradient(o, gx, gy)
    return surface.value(o.sid, x, y, o.c), gx, gy, a, b, d


@inlined
def hessian(o, x, y):
    """∇²f(x, y) as (xx, xy, yy), exact."""
    o.tally[H] += 1
    _probe(o, x, y)
    return surface.hessian(o.sid, x, y, o.c)


@inlined
def hessian_vector(o, x, y, vx, vy):
    """∇²f(x, y)·v, exact: a Hessian-vector product (Pearlmutter's, by double backprop, costs
    about two gradients), counted as one Hessian (``COST``: two gradients)."""
    a, b, d = hessian(o, x, y)
    return a * vx + b * vy, b * vx + d * vy


@inlined
def _compute(base, kind, t):
    """Python's float pow, as torch: base ** t (kind 0), (1 − base ** t) ** 0.5 (kind 1), or
    0.96 ** (t · base) (kind 2, NAdam's momentum warm-up, base its momentum_decay)."""
    if kind == 0:
        return base ** float(t)
    if kind == 1:
        return (1 - base ** float(t)) ** 0.5
    return 0.96 ** (float(t) * base)


@inlined
def _remembered(o, base, kind, t):
    slots = o.bases.shape[0]
    for k in range(slots):
        if o.bases[k, 0] == base and o.bases[k, 1] == kind:
            value = o.powers[k, t]
            if value != value:
                value = _compute(base, kind, t)
                o.powers[k, t] = value
            return value
        if o.bases[k, 0] != o.bases[k, 0]:  # a free slot: this value takes it
            o.bases[k, 0] = base
            o.bases[k, 1] = kind
            value = _compute(base, kind, t)
            o.powers[k, t] = value
            return value
    return _compute(base, kind, t)


@inlined
def power(o, base, t):
    """base ** t (t the step, an integer ≥ 1) exactly as Python's float pow (the C library's)
    computes it, as torch does for its bias corrections. Remembered per base across the runs
    of one engine call: a sweep's or fan's runs share their β's, and pow costs more than the
    rest of a step."""
    return _remembered(o, base, 0, t)


@inlined
def decay_power(o, decay, t):
    """0.96 ** (t · decay): NAdam's μ_t term, remembered as ``power`` (t up to steps + 1)."""
    return _remembered(o, decay, 2, t)


@inlined
def bias_root(o, base, t):
    """(1 − base ** t) ** 0.5, torch's ``bias_correction2 ** 0.5``, remembered as ``power``."""
    return _remembered(o, base, 1, t)


def noise_table(std: float, seed: int, steps: int, per_step: int) -> np.ndarray:
    """The noise of one seed: (steps, per_step, 2), no rows when σ = 0. The one definition of
    the race's noise."""
    if std == 0:
        return np.zeros((0, per_step, 2))
    return noise_tables(std, [seed], steps, per_step)[0]


def noise_tables(std: float, seeds: Sequence[int], steps: int, per_step: int) -> np.ndarray:
    """``noise_table`` of each seed, stacked: (seeds, steps, per_step, 2), σ > 0. Drawn into
    their place (a fan's 32 seeds, drawn and stacked, took a sixth of its time); the numbers
    and their rounding are ``std · default_rng(seed).standard_normal((steps, 2))``'s."""
    tables = np.empty((len(seeds), steps, per_step, 2))
    for i, seed in enumerate(seeds):
        for k in range(per_step):
            column = tables[i, :, k]
            rng = np.random.default_rng(seed if k == 0 else [seed, k])
            if per_step == 1:  # a contiguous column: drawn in place
                rng.standard_normal((steps, 2), out=column)
            else:
                column[...] = rng.standard_normal((steps, 2))
            column *= std
    return tables


# Scalar helpers with torch's exact arithmetic, for the kernels.


@inlined
def lerp(start, end, weight):
    """torch.lerp: two formulas, chosen by the size of the weight."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


@inlined
def maximum(a, b):
    """torch.maximum: NaN wins."""
    if a != a or a > b:
        return a
    return b


@inlined
def sign(a):
    """torch.sign: NaN stays NaN."""
    if a > 0:
        return 1.0
    if a < 0:
        return -1.0
    return a * 0.0


@intrinsic
def _fma(typingctx, a, b, c):
    """LLVM's fused multiply-add on float64: a·b + c with one rounding."""
    signature = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, sig, args):
        double = ir.DoubleType()
        kind = ir.FunctionType(double, [double, double, double])
        fn = builder.module.declare_intrinsic("llvm.fma", [double], kind)
        return builder.call(fn, args)

    return signature, codegen


@inlined
def norm(a, b):
    """torch.linalg.norm of a 2-vector: √(a² + b²) with the last product fused."""
    return math.sqrt(fma(b, b, a * a))


@inlined
def fma(a, b, c):
    """a·b + c rounded once, as torch's CPU ``add(x, y, alpha=a)`` computes x + a·y (its
    kernels fuse the product and the sum)."""
    return _fma(float(a), float(b), float(c))
