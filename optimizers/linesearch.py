"""Line searches along a ray θ + t·d, for the kernels (L-BFGS, gradient descent with a search).

``strong_wolfe`` is torch's ``_strong_wolfe`` (torch/optim/lbfgs.py) operation by operation:
bracketing with cubic interpolation, then zooming; every trial is one closure call (f and ∇f,
``oracle.loss_and_gradient``), so the oracle counts and records it. ``armijo`` is plain
backtracking: t, shrink·t, shrink²·t, … until f(θ + t·d) ≤ f(θ) + c1·t·gᵀd; each trial is one
function value. Trial points are ``add_(d, alpha=t)`` as torch computes them (one fused
multiply-add).
"""

from __future__ import annotations

import math

from common.jit import called, inlined
from optimizers import oracle

# torch's bracket-width tolerance (``_strong_wolfe``'s tolerance_change, which LBFGS does not
# pass on).
LS_TOLERANCE = 1e-9


@inlined
def _cubic(x1, f1, g1, x2, f2, g2, lo, hi, bounded):
    """torch's _cubic_interpolate: the minimiser of the cubic through two points, clamped."""
    if bounded:
        xmin, xmax = lo, hi
    elif x1 <= x2:
        xmin, xmax = x1, x2
    else:
        xmin, xmax = x2, x1
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin), xmax)
    return (xmin + xmax) / 2.0


@inlined
def _trial(o, w, t, dx, dy):
    """f and the slope ∇fᵀd at w + t·d (torch's _directional_evaluate, one closure call)."""
    x, y = oracle.fma(t, dx, w[0]), oracle.fma(t, dy, w[1])
    f, gx, gy = oracle.loss_and_gradient(o, x, y)
    return f, gx * dx + gy * dy


@called
def strong_wolfe(o, w, t, dx, dy, f, gtd, c1, c2, max_ls):
    """torch's _strong_wolfe along d from w (which it leaves alone), first trial t: the
    accepted step."""
    d_norm = max(abs(dx), abs(dy))
    f_new, gtd_new = _trial(o, w, t, dx, dy)
    t_prev, f_prev, gtd_prev = 0.0, f, gtd
    done = False
    ls_iter = 0
    b0, b1, bf0, bf1, bg0, bg1 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            b0, b1, bf0, bf1, bg0, bg1 = t_prev, t, f_prev, f_new, gtd_prev, gtd_new
            break
        if abs(gtd_new) <= -c2 * gtd:
            b0, b1, bf0, bf1 = t, t, f_new, f_new
            done = True
            break
        if gtd_new >= 0:
            b0, b1, bf0, bf1, bg0, bg1 = t_prev, t, f_prev, f_new, gtd_prev, gtd_new
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, min_step, max_step, True)
        t_prev = tmp
        f_prev = f_new
        gtd_prev = gtd_new
        f_new, gtd_new = _trial(o, w, t, dx, dy)
        ls_iter += 1
    if ls_iter == max_ls:
        b0, b1, bf0, bf1 = 0.0, t, f, f_new
    insuf_progress = False
    low = 0 if bf0 <= bf1 else 1
    while not done and ls_iter < max_ls:
        if abs(b1 - b0) * d_norm < LS_TOLERANCE:
            break
        t = _cubic(b0, bf0, bg0, b1, bf1, bg1, 0.0, 0.0, False)
        top, bottom = max(b0, b1), min(b0, b1)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insuf_progress or t >= top or t <= bottom:
                if abs(t - top) < abs(t - bottom):
                    t = top - eps
                else:
                    t = bottom + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, gtd_new = _trial(o, w, t, dx, dy)
        ls_iter += 1
        low_f = bf0 if low == 0 else bf1
        if f_new > (f + c1 * t * gtd) or f_new >= low_f:
            if low == 0:
                b1, bf1, bg1 = t, f_new, gtd_new
            else:
                b0, bf0, bg0 = t, f_new, gtd_new
            low = 0 if bf0 <= bf1 else 1
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * ((b1 - b0) if low == 0 else (b0 - b1)) >= 0:
                if low == 0:
                    b1, bf1, bg1 = b0, bf0, bg0
                else:
                    b0, bf0, bg0 = b1, bf1, bg1
            if low == 0:
                b0, bf0, bg0 = t, f_new, gtd_new
            else:
                b1, bf1, bg1 = t, f_new, gtd_new
    return b0 if low == 0 else b1


@inlined
def armijo(o, w, t, dx, dy, f, gtd, c1, shrink, trials):
    """Backtracking from the first trial t: the first t (of at most ``trials``) with
    f(w + t·d) ≤ f + c1·t·gᵀd, and whether one was found (if not, the step is 0)."""
    for _ in range(trials):
        x, y = oracle.fma(t, dx, w[0]), oracle.fma(t, dy, w[1])
        if oracle.value(o, x, y) <= f + c1 * t * gtd:
            return t, True
        t = t * shrink
    return 0.0, False
