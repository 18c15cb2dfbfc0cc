"""Run one racer with the real torch.optim, exactly as a torch training loop would.

The gradient comes from our surface (float64), so the comparison isolates the optimizer,
the schedule, clipping and noise handling.
"""

from __future__ import annotations

import numpy as np

from optimizers.config import RacerConfig
from optimizers.registry import OPTIMIZERS
from surfaces.base import Surface


def build_optimizer(torch, racer: RacerConfig, param):
    spec = OPTIMIZERS[racer.optimizer]
    kwargs = {k: v for k, v in racer.params.items() if k != "bias_correction"}
    if "bias_correction" in racer.params and not racer.params["bias_correction"]:
        raise ValueError("torch has no switch for bias correction")
    cls = getattr(torch.optim, spec.export.torch_name)
    return cls([param], lr=racer.lr, **kwargs)


def build_scheduler(torch, racer: RacerConfig, opt, steps: int):
    sched = torch.optim.lr_scheduler
    name, p = racer.schedule.name, racer.schedule.params
    if name == "constant":
        return None
    if name == "step":
        return sched.StepLR(opt, step_size=p["step_size"], gamma=p["gamma"])
    if name == "exponential":
        return sched.ExponentialLR(opt, gamma=p["gamma"])
    if name == "cosine":
        return sched.CosineAnnealingLR(opt, T_max=p["t_max"] or steps, eta_min=p["eta_min"])
    if name == "warmup_cosine":
        total, warm, floor = p["total_steps"] or steps, p["warmup_steps"], p["min_lr"]
        base = racer.lr

        def factor(t: int) -> float:
            if t < warm:
                return t / warm
            progress = min(1.0, (t - warm) / max(total - warm, 1))
            return (floor + 0.5 * (base - floor) * (1 + np.cos(np.pi * progress))) / base

        return sched.LambdaLR(opt, factor)
    if name == "one_cycle":
        return sched.OneCycleLR(
            opt,
            max_lr=racer.lr,
            total_steps=p["total_steps"] or steps,
            pct_start=p["pct_start"],
            anneal_strategy=p["anneal_strategy"],
            div_factor=p["div_factor"],
            final_div_factor=p["final_div_factor"],
            three_phase=p["three_phase"],
            cycle_momentum=p["cycle_momentum"],
            base_momentum=p["base_momentum"],
            max_momentum=p["max_momentum"],
        )
    if name == "cyclic":
        return sched.CyclicLR(
            opt,
            base_lr=racer.lr / 10 if p["base_lr"] is None else p["base_lr"],
            max_lr=racer.lr,
            step_size_up=p["step_size_up"],
            step_size_down=p["step_size_down"],
            mode=p["mode"],
            gamma=p["gamma"],
            cycle_momentum=p["cycle_momentum"],
            base_momentum=p["base_momentum"],
            max_momentum=p["max_momentum"],
        )
    if name == "cosine_restarts":
        return sched.CosineAnnealingWarmRestarts(
            opt, T_0=p["t_0"], T_mult=p["t_mult"], eta_min=p["eta_min"]
        )
    raise ValueError(name)


def torch_path(
    torch,
    surface: Surface,
    racer: RacerConfig,
    start: tuple[float, float],
    steps: int,
    noise: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(points (steps+1, 2), rates (steps,)) of the racer under torch.optim.

    torch keeps optimizer scalars such as NAdam's ``mu_product`` in the default dtype
    (float32 unless changed); the engine is float64 throughout, so the reference runs with
    float64 as torch's default, as a float64 training loop would.
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _torch_path(torch, surface, racer, start, steps, noise)
    finally:
        torch.set_default_dtype(previous)


def _torch_path(torch, surface, racer, start, steps, noise):
    param = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = build_optimizer(torch, racer, param)
    scheduler = build_scheduler(torch, racer, opt, steps)
    points, rates = [np.array(start, dtype=float)], []
    for t in range(steps):
        g = surface.gradient(param.detach().numpy().copy())
        if noise is not None:
            g = g + noise[t]
        param.grad = torch.tensor(g, dtype=torch.float64)
        if racer.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([param], racer.clip_norm)
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        if scheduler is not None:
            scheduler.step()
        points.append(param.detach().numpy().copy())
    return np.array(points), np.array(rates, dtype=float)
