"""Sharpness-aware steps (a racer's ``sam_rho``, ``sam_adaptive``): step for step against the
source's SAM written in torch float64 around torch.optim's SGD, SGD with momentum and Adam
(≥ 500 steps, ≤ 1e-9), with noise and clipping; its cost on the work clock; its probes; what
the validator refuses; races without SAM unchanged."""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np
import pytest

from app import create_app
from common.errors import ConfigError
from exports.pytorch import pytorch_snippet
from layouts.racer import racer_card
from optimizers import run_race
from optimizers.engine import Record, common_noise, simulate
from optimizers.race import default_label
from optimizers.registry import OPTIMIZERS
from optimizers.trace import trace_racer
from optimizers.validate import validate_race
from service.compact import decode
from service.races import racer_keys
from service.share import compact_race, decode_race, encode_race
from surfaces import get_surface
from tests.conftest import require_module
from tests.dash_requests import error_of, opening_controls, post, race_body, racer_controls

# The conformance cases' surfaces, steps and tolerance: the packages' test's own.
from tests.test_conformance_packages import (
    SCHEDULE_FREE,
    SF_RATES,
    STEPS,
    SURFACES,
    TOLERANCE,
    _package,
    _prodigy,
)
from tests.test_pytorch_snippet import _run_snippet as run_snippet
from tests.test_share import BUSY_RACE
from tests.torch_reference import build_optimizer

# Rates and ρ at which every racer is still descending at step 500 (as in
# tests/test_conformance_torch.py). With a fixed ρ, SAM does not settle at a minimum: it
# hovers where ‖g‖ is about ρ times the curvature, and there e = ρ·g/‖g‖ turns with the
# last bits of a small gradient, so any rounding difference (torch's fused kernels) grows
# without bound. The cases below stop short of that; momentum on Himmelblau's steep well
# needs a small ρ to, and on Rosenbrock with noise.
RATES = {
    "sgd": {"rosenbrock": 2e-4, "quadratic30": 4e-3, "himmelblau": 2e-3, "two_wells": 0.1},
    "momentum": {"rosenbrock": 2e-5, "quadratic30": 0.02, "himmelblau": 1e-3, "two_wells": 0.05},
    "adam": {"rosenbrock": 2e-3, "quadratic30": 5e-3, "himmelblau": 5e-3, "two_wells": 2.5e-3},
}
# SAM's ρ, and ASAM's (its e is ρ·θ²⊙g/‖|θ|⊙g‖: ρ scales a length relative to |θ|).
RHO = {False: 0.05, True: 0.1}
SMALL_RHO = {("momentum", "himmelblau"): 0.005, ("momentum", "rosenbrock"): 0.02}


def rho(name: str, surface_key: str, adaptive: bool) -> float:
    return SMALL_RHO.get((name, surface_key), RHO[adaptive])


def sam_race(surface_key: str, racer: dict, steps: int = STEPS, noise: dict | None = None):
    surface, start = SURFACES[surface_key]
    config = {"surface": surface, "start": list(start), "steps": steps, "racers": [racer]}
    if noise:
        config["noise"] = noise
    return validate_race(config)


def make_sam(torch):
    """The source's SAM (a wrapper around any torch optimizer), rewritten here in torch with
    ASAM's adaptive form added as Kwon et al. define it. ``ascend`` moves the parameters to
    w + e (e from the gradient at w) and remembers e; ``descend`` moves them back by e and
    lets the base optimizer step with the gradient found at w + e. Between the two, the
    caller zeroes the gradient and takes it again on the same batch (the source's usage
    leaves out that zeroing, which would add the two gradients together)."""

    class SAM:
        def __init__(self, params, base, rho: float, adaptive: bool):
            self.params, self.base = list(params), base
            self.rho, self.adaptive, self.e = rho, adaptive, {}

        @torch.no_grad()
        def ascend(self) -> None:
            weighted = [
                ((p.abs() if self.adaptive else 1.0) * p.grad).norm()
                for p in self.params
                if p.grad is not None
            ]
            scale = self.rho / (torch.norm(torch.stack(weighted)) + 1e-12)
            for p in self.params:
                if p.grad is None:
                    continue
                e = (p.pow(2) if self.adaptive else 1.0) * p.grad * scale
                p.add_(e)
                self.e[p] = e

        @torch.no_grad()
        def descend(self) -> None:
            for p in self.params:
                if p in self.e:
                    p.sub_(self.e.pop(p))
            self.base.step()

    return SAM


def torch_sam_path(
    cfg,
    noise: np.ndarray | None = None,
    make=None,
    shown=None,
    shape: tuple[int, ...] = (2,),
) -> tuple[np.ndarray, np.ndarray]:
    """The racer's path under the torch SAM above (float64), and each step's w + e. The base
    optimizer is torch.optim's, or ``make(torch, param, lr, params)``'s (a package's, as
    tests/test_conformance_packages.py builds it, the point read by ``shown`` and the
    parameter of ``shape``)."""
    torch = require_module("torch")
    racer = cfg.racers[0]
    surface = get_surface(cfg.surface.name, **cfg.surface.params)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        param = torch.nn.Parameter(torch.tensor(cfg.start, dtype=torch.float64).reshape(shape))
        if make is None:
            base = build_optimizer(torch, racer, param)
        else:
            base = make(torch, param, racer.lr, dict(racer.params))
        sam = make_sam(torch)([param], base, racer.sam_rho, racer.sam_adaptive)
        read = shown or (lambda opt, p: p.detach().numpy().reshape(2).copy())
        points, perturbed = [np.array(cfg.start, dtype=float)], []

        def backward(t: int) -> None:
            g = surface.gradient(param.detach().numpy().reshape(2).copy())
            param.grad = torch.tensor(g if noise is None else g + noise[t]).reshape(shape)

        for t in range(cfg.steps):
            backward(t)
            sam.ascend()
            perturbed.append(param.detach().numpy().reshape(2).copy())
            param.grad = None
            backward(t)  # the same mini-batch: the same noise sample
            if racer.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_([param], racer.clip_norm)
            sam.descend()
            points.append(np.asarray(read(base, param), dtype=float))
        return np.array(points), np.array(perturbed)
    finally:
        torch.set_default_dtype(previous)


def compare(cfg) -> np.ndarray:
    """Assert the engine's path equals torch's; return the gradients (noise added) at each
    step's w + e under torch."""
    noise = np.zeros((cfg.steps, 2))
    if cfg.noise.std:
        noise = cfg.noise.std * np.random.default_rng(cfg.noise.seed).standard_normal(
            (cfg.steps, 2)
        )
    points, perturbed = torch_sam_path(cfg, noise)
    result = run_race(cfg).racers[0]
    assert result.diverged_at is None, "conformance cases must not diverge"
    assert result.path.shape == points.shape
    gap = np.max(np.abs(result.path - points))
    assert gap <= TOLERANCE, f"largest coordinate difference {gap:.3g}"
    # SAM moved the racer: the same racer without it takes another path.
    plain = run_race(validate_race({**cfg.to_json(), "racers": [_without_sam(cfg)]}))
    assert np.max(np.abs(plain.racers[0].path - points)) > 1e-6
    surface = get_surface(cfg.surface.name, **cfg.surface.params)
    return surface.gradient(perturbed) + noise


def _without_sam(cfg) -> dict:
    racer = cfg.racers[0].to_json()
    racer.pop("sam_rho")
    racer.pop("sam_adaptive")
    return racer


@pytest.mark.parametrize("adaptive", [False, True], ids=["sam", "asam"])
@pytest.mark.parametrize("surface_key", list(SURFACES))
@pytest.mark.parametrize("name", list(RATES))
def test_sam_matches_the_source_in_torch(name, surface_key, adaptive):
    racer = {
        "optimizer": name,
        "lr": RATES[name][surface_key],
        "sam_rho": rho(name, surface_key, adaptive),
        "sam_adaptive": adaptive,
    }
    compare(sam_race(surface_key, racer))


@pytest.mark.parametrize("adaptive", [False, True], ids=["sam", "asam"])
@pytest.mark.parametrize("surface_key", list(SURFACES))
@pytest.mark.parametrize("name", list(RATES))
def test_sam_with_noise_and_clipping_matches_torch(name, surface_key, adaptive):
    """Both gradients of a step get the step's one noise sample; the gradient at w + e, the
    one the optimizer steps with, is clipped: at half the gradient's norm at the start, so
    clipping acts on the steep early steps."""
    surface, start = SURFACES[surface_key]
    clip = 0.5 * float(
        np.linalg.norm(
            get_surface(surface["name"], **surface.get("params", {})).gradient(np.array(start))
        )
    )
    racer = {
        "optimizer": name,
        "lr": RATES[name][surface_key],
        "sam_rho": rho(name, surface_key, adaptive),
        "sam_adaptive": adaptive,
        "clip_norm": clip,
    }
    stepped = compare(sam_race(surface_key, racer, noise={"std": 0.1, "seed": 7}))
    assert np.linalg.norm(stepped, axis=1).max() > clip  # clipping acted


def test_two_gradients_a_step_and_the_perturbed_point_is_a_probe():
    cfg = sam_race(
        "rosenbrock",
        {"optimizer": "momentum", "lr": 2e-4, "sam_rho": 0.05, "clip_norm": 2.0},
        steps=60,
        noise={"std": 0.3, "seed": 3},
    )
    result = run_race(cfg).racers[0]
    assert (result.evaluations == [0, 2, 0]).all()
    np.testing.assert_array_equal(result.work, 2.0 * np.arange(cfg.steps + 1))
    noise = 0.3 * np.random.default_rng(3).standard_normal((cfg.steps, 2))
    points, perturbed = torch_sam_path(cfg, noise)
    surface = get_surface("rosenbrock")
    traj = simulate(
        surface,
        cfg.racers,
        np.array([cfg.start]),
        cfg.steps,
        common_noise(0.3, 3, 1),
        record=Record.STATE,
    )
    assert (traj.probe_counts == 2).all()
    # Probe 0: the racer's point; probe 1: w + e, where the step's gradient was taken.
    np.testing.assert_allclose(traj.probes[:, 0, 0], points[:-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(traj.probes[:, 0, 1], perturbed, rtol=0, atol=1e-12)
    e = perturbed - points[:-1]
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 0.05, rtol=1e-12)
    # The chart's gradient norm is the gradient at w (noise added), not at w + e.
    at_w = surface.gradient(points[:-1]) + noise
    np.testing.assert_allclose(traj.first[:, 0, :2], at_w, rtol=1e-12)
    np.testing.assert_allclose(result.grad_norm, np.linalg.norm(at_w, axis=1), rtol=1e-12)
    # The clip factor is that of the gradient at w + e (the one the optimizer stepped with).
    at_e = surface.gradient(perturbed) + noise
    factor = np.minimum(1.0, 2.0 / (np.linalg.norm(at_e, axis=1) + 1e-6))
    np.testing.assert_allclose(traj.first[:, 0, 2], factor, rtol=1e-12)
    assert factor.min() < 1  # clipping acted
    # The inspector reads the same record: the gradient at w, the factor at w + e.
    trace = trace_racer(cfg, 0)
    np.testing.assert_array_equal(trace.gradient, traj.first[:, 0, :2])
    np.testing.assert_array_equal(trace.clip_factor, traj.first[:, 0, 2])
    assert default_label(cfg.racers[0]) == "Momentum (lr 0.0002, SAM ρ 0.05)"


def test_every_optimizer_that_takes_sam_asks_for_one_gradient_a_step():
    """``Limits.sam`` is honest: each optimizer that takes SAM asked, without it, for
    exactly one gradient a step and nothing else (so the oracle's perturbation wraps its
    whole step); SAM doubles that."""
    takes = [name for name, spec in OPTIMIZERS.items() if spec.limits.sam]
    assert {"sgd", "momentum", "adam"} <= set(takes)
    for name in takes:
        for rho in (None, 0.01):
            racer = {"optimizer": name, "lr": 1e-4, "sam_rho": rho}
            result = run_race(sam_race("rosenbrock", racer, steps=30)).racers[0]
            assert (result.evaluations == [0, 1 if rho is None else 2, 0]).all(), name


@pytest.mark.parametrize(
    "name", [name for name, spec in OPTIMIZERS.items() if not spec.limits.sam] or ["(none)"]
)
def test_the_validator_refuses_sam_where_a_step_is_more_than_one_gradient(name):
    if name == "(none)":
        pytest.fail("every optimizer takes SAM: lbfgs, newton and gd_line_search must not")
    with pytest.raises(ConfigError) as refused:
        sam_race("rosenbrock", {"optimizer": name, "lr": 1e-3, "sam_rho": 0.05})
    assert refused.value.field == "racers[0].sam_rho"
    assert name in refused.value.message and "one gradient" in refused.value.message
    # Without SAM, or with SAM off (null), the same racer is accepted.
    sam_race("rosenbrock", {"optimizer": name, "lr": 1e-3, "sam_rho": None})


def test_the_optimizers_named_in_the_brief_refuse_sam():
    for name in ("lbfgs", "newton", "gd_line_search", "gauss_newton", "sophia"):
        assert not OPTIMIZERS[name].limits.sam, name


@pytest.mark.parametrize(
    ("racer", "field", "message"),
    [
        ({"sam_rho": 0}, "racers[0].sam_rho", "in (0, 10], got 0"),
        ({"sam_rho": -0.1}, "racers[0].sam_rho", "in (0, 10], got -0.1"),
        ({"sam_rho": 11}, "racers[0].sam_rho", "in (0, 10], got 11"),
        ({"sam_rho": "0.05"}, "racers[0].sam_rho", "got the string '0.05'"),
        ({"sam_rho": 0.05, "sam_adaptive": "yes"}, "racers[0].sam_adaptive", ""),
    ],
)
def test_sam_values_are_refused_naming_the_field(racer, field, message):
    with pytest.raises(ConfigError) as refused:
        sam_race("rosenbrock", {"optimizer": "sgd", "lr": 1e-3, **racer})
    assert refused.value.field == field
    assert message in refused.value.message


def test_the_normal_form_carries_sam_only_when_it_is_on():
    base = {"optimizer": "adam", "lr": 1e-3}
    plain = sam_race("rosenbrock", base).to_json()
    assert "sam_rho" not in plain["racers"][0] and "sam_adaptive" not in plain["racers"][0]
    # Off (null), and adaptive without ρ, normalise to exactly the racer without SAM.
    for off in ({"sam_rho": None}, {"sam_adaptive": True}, {"sam_rho": None, "sam_adaptive": None}):
        assert sam_race("rosenbrock", {**base, **off}).to_json() == plain
    on = sam_race("rosenbrock", {**base, "sam_rho": 0.05}).to_json()["racers"][0]
    assert (on["sam_rho"], on["sam_adaptive"]) == (0.05, False)
    asam = sam_race("rosenbrock", {**base, "sam_rho": 0.5, "sam_adaptive": True})
    assert asam.racers[0].sam_adaptive is True
    assert validate_race(asam.to_json()) == asam  # the normal form reads back to itself


@pytest.mark.parametrize(
    ("name", "surface_key", "adaptive", "noise"),
    [
        ("sgd", "rosenbrock", False, None),
        ("momentum", "quadratic30", True, None),
        ("adam", "two_wells", False, {"std": 0.1, "seed": 4}),
        ("adam", "himmelblau", True, {"std": 0.1, "seed": 4}),
    ],
    ids=str,
)
def test_copy_as_pytorch_retraces_a_sam_racer(name, surface_key, adaptive, noise):
    """The snippet (autograd's gradient, SAM's two passes written out) retraces the race."""
    racer = {
        "optimizer": name,
        "lr": RATES[name][surface_key],
        "sam_rho": rho(name, surface_key, adaptive),
        "sam_adaptive": adaptive,
        "clip_norm": 50.0,
    }
    cfg = sam_race(surface_key, racer, noise=noise)
    source = pytorch_snippet(cfg, 0)
    assert "xy.add_(e)" in source and "xy.sub_(e)" in source
    assert ("xy.pow(2)" in source) == adaptive
    theirs = run_snippet(source)
    np.testing.assert_allclose(theirs, run_race(cfg).racers[0].path, rtol=0, atol=TOLERANCE)


# The cache keys of tests/test_share.py's BUSY_RACE and the sha256 of its link, computed at
# e82e260 (before SAM): a race without SAM keeps its cached results and its links.
BUSY_KEYS = [
    "race:v3:race:2bdf575350f90f6af42f60ea257840b4c3d2658bca6280cb8f2a9328ec996834",
    "race:v3:race:68047028b53661b1a035a5c750bd1ee3dffd9a5ca92e5da88ad154687637db5f",
    "race:v3:race:bc1f7edbec7c54f7592ad09e645b1d91d42bba83f2cc50789f43adec5591c52a",
]
BUSY_LINK_SHA256 = "c0b50e55d5b9d9daf72688ca636c3f36bdf216a09d8b8d3ddbbd5d3286475a4a"


def test_races_without_sam_keep_their_cache_keys_and_links():
    config = validate_race(copy.deepcopy(BUSY_RACE))
    assert racer_keys(config, "race") == BUSY_KEYS
    assert hashlib.sha256(encode_race(config).encode()).hexdigest() == BUSY_LINK_SHA256
    for racer in config.to_json()["racers"]:
        assert set(racer) == {"optimizer", "lr", "params", "schedule", "clip_norm", "label"}
    for racer in compact_race(config)["racers"]:
        assert not {"sam_rho", "sam_adaptive"} & set(racer)


def test_a_sam_racer_survives_a_link_and_gets_its_own_cache_key():
    race = copy.deepcopy(BUSY_RACE)
    race["racers"][1]["sam_rho"] = 0.05
    race["racers"][2] = {**race["racers"][2], "sam_rho": 0.1 / 3, "sam_adaptive": True}
    config = validate_race(race)
    assert decode_race(encode_race(config)) == config
    compact = compact_race(config)["racers"]
    assert compact[1]["sam_rho"] == 0.05 and "sam_adaptive" not in compact[1]
    assert compact[2]["sam_rho"] == 0.1 / 3 and compact[2]["sam_adaptive"] is True
    keys = racer_keys(config, "race")
    assert keys[0] == BUSY_KEYS[0]  # the racer without SAM shares its cached result
    assert keys[1] != BUSY_KEYS[1] and keys[2] != BUSY_KEYS[2]
    # SAM and ASAM at one ρ are different races.
    asam = copy.deepcopy(race)
    asam["racers"][1]["sam_adaptive"] = True
    assert racer_keys(validate_race(asam), "race")[1] != keys[1]


@pytest.fixture(scope="module")
def client():
    return create_app({}).server.test_client()


def _patched_racer(response: dict, key: str) -> dict:
    """Racer ``key`` of the race store, from a full store or a patch."""
    data = response["race-store"]["data"]
    if "operations" not in data:
        return data["racers"][key]
    ops = [op for op in data["operations"] if op["location"] == ["racers", key]]
    assert len(ops) == 1
    return ops[0]["params"]["value"]


def test_the_cards_sam_controls_reach_the_race(client):
    """Through Dash's callback: typing ρ into a card (text, as the box sends it) races that
    racer with SAM (the engine's path, two gradients a step); ticking ASAM changes it again;
    the link carries both; the other racers are not recomputed."""
    first = post(client, race_body(client, opening_controls())).get_json()["response"]
    keys = first["race-keys"]["data"]
    racers = opening_controls()
    racers[1]["sam"] = "0.05"
    answer = post(client, race_body(client, racers, keys=keys)).get_json()["response"]
    assert error_of(answer, 1) == ""
    changed = answer["race-keys"]["data"]
    assert [k for k in changed if changed[k] != keys.get(k)] == ["1"]
    store = _patched_racer(answer, "1")
    engine = run_race(
        {
            "surface": {"name": "rosenbrock"},
            "steps": 300,
            "racers": [
                {"optimizer": racers[1]["optimizer"], "lr": racers[1]["lr"], "sam_rho": 0.05}
            ],
        }
    ).racers[0]
    np.testing.assert_allclose(decode(store["x"]), engine.path[:, 0], rtol=1e-6)
    np.testing.assert_array_equal(decode(store["work"]), 2.0 * np.arange(301))
    shared = decode_race(_share(answer))
    assert shared.racers[1].sam_rho == 0.05 and not shared.racers[1].sam_adaptive
    # ASAM ticked: another race for racer 1, carried by the link.
    racers[1]["sam_adaptive"] = ["on"]  # the checklist's value
    asam = post(client, race_body(client, racers, keys=changed)).get_json()["response"]
    again = asam["race-keys"]["data"]
    assert [k for k in again if again[k] != changed.get(k)] == ["1"]
    assert decode_race(_share(asam)).racers[1].sam_adaptive is True
    # The box emptied: the racer is the one it was before SAM (its old cache key).
    racers[1]["sam"] = ""
    off = post(client, race_body(client, racers, keys=again)).get_json()["response"]
    assert off["race-keys"]["data"]["1"] == keys["1"]


def _share(response: dict) -> str:
    data = response["race-store"]["data"]
    if "share" in data:
        return data["share"]
    ops = [op for op in data["operations"] if op["location"] == ["share"]]
    return ops[0]["params"]["value"]


@pytest.mark.parametrize(
    ("sam", "words"),
    [
        ("-1", ["SAM ρ: in (0, 10], got -1"]),
        ("0", ["SAM ρ: in (0, 10], got 0 (leave it empty for off)"]),
        ("lots", ["SAM ρ", "got 'lots'"]),
    ],
)
def test_a_bad_sam_value_is_named_beside_its_racer(client, sam, words):
    racers = opening_controls()
    racers[2]["sam"] = sam
    answer = post(client, race_body(client, racers)).get_json()["response"]
    for word in words:
        assert word in error_of(answer, 2)


def test_a_card_refuses_sam_for_an_optimizer_that_cannot_take_it(client):
    racers = opening_controls()
    racers[0] = racer_controls(0, {"optimizer": "lbfgs", "lr": 1.0, "sam": "0.05"})
    answer = post(client, race_body(client, racers)).get_json()["response"]
    message = error_of(answer, 0)
    assert message.startswith("SAM ρ: ") and "lbfgs" in message and "one gradient" in message


def test_a_card_shows_a_racers_sam_settings():
    """A card built from a racer (a link's, or a lesson's) holds its ρ and ASAM tick."""
    racer = {"optimizer": "adam", "lr": 1e-3, "sam_rho": 0.2, "sam_adaptive": True}
    config = validate_race({"surface": {"name": "rosenbrock"}, "racers": [racer]})
    card = racer_card(3, config.to_json()["racers"][0])
    by_id = {json.dumps(c.id, sort_keys=True): c for c in card._traverse() if hasattr(c, "id")}
    rho = by_id[json.dumps({"index": 3, "type": "racer-sam"}, sort_keys=True)]
    adaptive = by_id[json.dumps({"index": 3, "type": "racer-sam-adaptive"}, sort_keys=True)]
    assert float(rho.value) == 0.2 and adaptive.value == ["on"]
    plain = racer_card(3, validate_race({"surface": {"name": "rosenbrock"}, "racers": [
        {"optimizer": "adam", "lr": 1e-3}]}).to_json()["racers"][0])  # fmt: skip
    by_id = {json.dumps(c.id, sort_keys=True): c for c in plain._traverse() if hasattr(c, "id")}
    assert by_id[json.dumps({"index": 3, "type": "racer-sam"}, sort_keys=True)].value in (None, "")


# The other one-gradient optimizers, around their reference packages (as
# tests/test_conformance_packages.py builds them). Rates (from that file's tables, lowered
# where SAM's hovering amplified last-bit differences past 1e-9: at these every case agrees
# to ~1e-12 or better) and ρ (Prodigy's own rate estimate grows large: ρ 0.01).
PACKAGE_RATES = {
    "lamb": {"rosenbrock": 1e-3, "quadratic30": 5e-3, "himmelblau": 2.5e-3, "two_wells": 2e-3},
    "lars": {"rosenbrock": 0.25, "quadratic30": 2.0, "himmelblau": 2.0, "two_wells": 0.4},
    "prodigy": {"rosenbrock": 0.5, "quadratic30": 1.0, "himmelblau": 1.0, "two_wells": 0.5},
    "shampoo": {**dict.fromkeys(SURFACES, 0.3), "rosenbrock": 0.1, "himmelblau": 0.1},
    **SF_RATES,
    "schedule_free_sgd": {**SF_RATES["schedule_free_sgd"], "quadratic30": 4e-3},
}
PACKAGE_RHO = {"prodigy": 0.01}


def _package_reference(name: str):
    """(make, shown, shape) of ``name``'s reference."""
    if name in SCHEDULE_FREE:
        return (*SCHEDULE_FREE[name], (2,))
    if name == "prodigy":
        return _prodigy, None, (2,)
    if name == "lars":
        return _package("LARS"), None, (1, 2)
    return _package("Shampoo" if name == "shampoo" else "Lamb"), None, (2,)


@pytest.mark.parametrize("surface_key", list(SURFACES))
@pytest.mark.parametrize("name", list(PACKAGE_RATES))
def test_sam_around_the_package_optimizers(name, surface_key):
    rho = PACKAGE_RHO.get(name, 0.05)
    racer = {"optimizer": name, "lr": PACKAGE_RATES[name][surface_key], "sam_rho": rho}
    cfg = sam_race(surface_key, racer)
    make, shown, shape = _package_reference(name)
    points, _ = torch_sam_path(cfg, make=make, shown=shown, shape=shape)
    result = run_race(cfg).racers[0]
    assert result.diverged_at is None
    assert (result.evaluations == [0, 2, 0]).all()
    gap = np.max(np.abs(result.path - points))
    assert gap <= TOLERANCE, f"largest coordinate difference {gap:.3g}"
