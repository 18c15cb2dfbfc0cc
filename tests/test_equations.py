"""Each racer's update rule shows its own hyper-parameter values (registry-driven)."""

from __future__ import annotations

import pytest

from layouts.equation import update_rule
from optimizers.base import tex
from optimizers.registry import OPTIMIZERS
from optimizers.validate import validate_racer

# Every numeric hyper-parameter but Nesterov's dampening, which must stay 0 (torch's rule).
NUMERIC = [
    (name, p)
    for name, spec in OPTIMIZERS.items()
    for p in spec.params
    if p.kind in ("float", "pair") and (name, p.name) != ("nesterov", "dampening")
]

# Dampening only acts on a velocity: plain SGD's rule shows it once there is momentum; c2
# only acts in a strong Wolfe search. Keyed by optimizer, or by (optimizer, parameter).
BASE = {"sgd": {"momentum": 0.5}, ("gd_line_search", "c2"): {"search": "strong_wolfe"}}


def rule(racer: dict, noisy: bool = False) -> str:
    return update_rule(validate_racer(racer, "racer").to_json(), noisy)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_has_a_rule_with_its_rate(name):
    text = rule({"optimizer": name, "lr": 0.0123})
    assert text.startswith("$$\n\\begin{aligned}") and "\\theta" in text
    swept = OPTIMIZERS[name].kernel.swept
    if swept == "lr":
        assert "0.0123" in text
    else:  # no rate (Gauss–Newton): the rule shows what sets its step instead, and no lr
        assert "0.0123" not in text
        assert tex(OPTIMIZERS[name].defaults()[swept]) in text


@pytest.mark.parametrize(("name", "param"), NUMERIC, ids=[f"{n}-{p.name}" for n, p in NUMERIC])
def test_a_changed_value_shows_in_the_rule(name, param):
    value = [0.123, 0.456] if param.kind == "pair" else 0.123
    racer = validate_racer(
        {
            "optimizer": name,
            "lr": 0.01,
            "params": {**BASE.get(name, {}), **BASE.get((name, param.name), {}), param.name: value},
        },
        "racer",
    )
    text = update_rule(racer.to_json())
    for v in value if isinstance(value, list) else [value]:
        assert tex(v) in text or tex(1 - v) in text, (param.name, text)


def test_shared_parts_schedule_clip_and_noise():
    text = rule(
        {
            "optimizer": "sgd",
            "lr": 0.5,
            "schedule": {"name": "cosine"},
            "clip_norm": 2.0,
        },
        noisy=True,
    )
    assert "\\eta_t" in text and "cosine" in text and "\\eta = 0.5" in text
    assert "\\min" in text and "2" in text and "\\xi_t" in text


@pytest.mark.parametrize(
    ("value", "shown"), [(0.1, "0.1"), (1e-8, "10^{-8}"), (2.5e-5, "2.5\\cdot 10^{-5}"), (0, "0")]
)
def test_numbers_read_as_a_teacher_would_write_them(value, shown):
    assert tex(value) == shown


@pytest.mark.parametrize("adaptive", [False, True])
def test_sam_shows_its_perturbation_and_second_gradient(adaptive):
    racer = {"optimizer": "adam", "lr": 1e-3, "sam_rho": 0.05, "sam_adaptive": adaptive}
    lines = rule(racer, noisy=True).split(" \\\\\n")
    assert lines[0].endswith("g &= \\nabla f(\\theta) + \\xi_t")
    assert lines[1].startswith("e &= 0.05\\,\\frac{")
    assert ("\\theta^2\\odot g" in lines[1]) == adaptive
    assert "10^{-12}" in lines[1]
    assert lines[2] == "g &\\leftarrow \\nabla f(\\theta + e) + \\xi_t"
    assert "both gradients" in rule(racer, noisy=True)
    # Without SAM the rule has neither line.
    plain = rule({"optimizer": "adam", "lr": 1e-3}, noisy=True)
    assert "e &=" not in plain and "\\theta + e" not in plain and "both gradients" not in plain
