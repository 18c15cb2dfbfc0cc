"""Sweeps, auto-tuning, noisy fans and many starts: the numbers the fair-race views stand on."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from flask import Flask
from flask_caching import Cache

from app import create_app
from callbacks.analysis import confirm_tuned, short_rates, tune
from callbacks.form import OPENING_RACE
from lessons import LESSONS
from optimizers import run_race
from optimizers.config import CRITERIA, RateGrid
from optimizers.fan import noisy_fan
from optimizers.starts import many_starts
from optimizers.sweep import sweep, tuned_race
from optimizers.validate import (
    CRITERION,
    ConfigError,
    validate_fan,
    validate_race,
    validate_starts,
    validate_sweep,
)
from service.best_rate import best_rates, isolated_dip, neighbourhoods, outcome_key, robust_best
from service.races import RaceService
from service.share import encode_race
from surfaces import get_surface

GRID = RateGrid()  # 48 rates from 1e-5 to 10
GRID_STEP = np.log(GRID.rates()[1] / GRID.rates()[0])


def quadratic_sgd(steps: int = 300) -> dict:
    return {
        "surface": {"name": "quadratic", "params": {"a": 20, "b": 1}},
        "steps": steps,
        "racers": [{"optimizer": "sgd", "lr": 0.01}],
    }


def test_sgd_best_rate_is_two_over_a_plus_b_within_one_grid_step():
    result = sweep(validate_race(quadratic_sgd()), GRID)
    best = result.racers[0].best("final_loss")
    assert best is not None
    assert abs(np.log(best.lr / (2 / 21))) <= GRID_STEP


def test_sgd_divergence_edge_is_two_over_a_within_one_grid_step():
    found = sweep(validate_race(quadratic_sgd()), GRID).racers[0]
    assert found.edge_lr is not None
    assert abs(np.log(found.edge_lr / (2 / 20))) <= GRID_STEP
    # The edge is where divergence starts for good: every larger rate diverges, the one below
    # does not.
    rates = [o.lr for o in found.grid]
    k = rates.index(found.edge_lr)
    assert all(o.diverged_at is not None for o in found.grid[k:])
    assert found.grid[k - 1].diverged_at is None


def test_steps_criterion_ranks_by_arrival_then_loss():
    result = sweep(validate_race(quadratic_sgd()), GRID, "steps_to_tol")
    best = result.racers[0].best("steps_to_tol")
    arrived = [o.steps_to_tol for o in result.racers[0].grid if o.steps_to_tol is not None]
    assert best is not None and best.steps_to_tol == min(arrived)


TUNED_RACES = [pytest.param(lesson.race, id=name) for name, lesson in LESSONS.items()]


@pytest.mark.parametrize("criterion", list(CRITERIA))
@pytest.mark.parametrize("race", TUNED_RACES)
def test_auto_tuned_racers_never_end_worse(race, criterion):
    config = validate_race(race)
    result = sweep(config, RateGrid(count=24), criterion)
    before = run_race(config).racers
    after = run_race(tuned_race(config, result.best_rates())).racers
    for old, new, found in zip(before, after, result.racers, strict=True):
        best = found.best(criterion)
        if best is None:
            assert new.final_loss == old.final_loss  # no stable rate: left as it was
            continue
        # The tuned race gives exactly what the sweep measured at that rate.
        assert new.final_loss == best.final_loss
        assert new.steps_to_tol == best.steps_to_tol
        if criterion == "final_loss" and old.diverged_at is None:
            assert new.final_loss <= old.final_loss
        if criterion == "steps_to_tol" and old.steps_to_tol is not None:
            assert new.steps_to_tol is not None and new.steps_to_tol <= old.steps_to_tol
        assert new.diverged_at is None


def test_a_sweep_is_one_batch_and_equals_racers_swept_alone():
    config = validate_race(LESSONS["fair_comparison"].race)
    together = sweep(config, RateGrid(count=12)).to_json()
    for i, racer in enumerate(config.racers):
        alone = sweep(dataclasses.replace(config, racers=(racer,)), RateGrid(count=12))
        assert alone.to_json()["racers"][0] == together["racers"][i]


def test_sweep_json_is_finite_json():
    config = validate_race(LESSONS["fair_comparison"].race)
    text = json.dumps(sweep(config, GRID).to_json(), allow_nan=False)
    data = json.loads(text)
    assert len(data["rates"]) == 48 and data["rates"][0] == pytest.approx(1e-5)
    # Diverged rates are reported as such, with no loss.
    for racer in data["racers"]:
        for loss, diverged in zip(racer["final_loss"], racer["diverged_at"], strict=True):
            assert (loss is None) == (diverged is not None)


def test_the_criteria_are_the_validators_choices():
    assert tuple(CRITERIA) == CRITERION.choices


def noisy_race(runs_seed: int = 11) -> dict:
    return {
        "surface": {"name": "rosenbrock"},
        "steps": 400,
        "noise": {"std": 2.0, "seed": runs_seed},
        "racers": [{"optimizer": "adam", "lr": 0.02}, {"optimizer": "sgd", "lr": 0.001}],
    }


@pytest.mark.parametrize("index", [0, 1])
def test_noisy_runs_are_reproducible_from_their_seeds(index):
    config = validate_race(noisy_race())
    fan = noisy_fan(config, index, 8)
    again = noisy_fan(config, index, 8)
    np.testing.assert_array_equal(fan.points, again.points)
    for k, seed in enumerate(fan.seeds):
        assert seed == 11 + k
        replay = dataclasses.replace(config, noise=dataclasses.replace(config.noise, seed=seed))
        path = run_race(replay).racers[index].path
        np.testing.assert_array_equal(fan.points[: len(path), k], path)


def test_fan_summary_is_the_median_and_quartiles_of_final_losses():
    fan = noisy_fan(validate_race(noisy_race()), 0, 16)
    final = fan.final_losses()
    summary = fan.summary()
    assert summary["runs"] == 16 and summary["diverged"] == 0
    assert summary["median"] == pytest.approx(float(np.median(final)), rel=0, abs=0)
    assert summary["q25"] <= summary["median"] <= summary["q75"]
    assert len(set(final.tolist())) == 16  # the noise differs from seed to seed
    path = fan.median_path()
    np.testing.assert_array_equal(path[5], np.median(fan.points[5], axis=0))


def test_fan_median_stops_where_most_runs_have_diverged():
    race = noisy_race()
    race["racers"] = [{"optimizer": "sgd", "lr": 0.0022}]  # at Rosenbrock's edge: some blow up
    race["noise"]["std"] = 30.0
    fan = noisy_fan(validate_race(race), 0, 32)
    diverged = int((fan.diverged_at > 0).sum())
    assert 0 < diverged
    path = fan.median_path()
    assert np.isfinite(path).all()
    alive = fan.alive()[: len(path)].sum(axis=1)
    assert (alive * 2 > 32).all()
    quartiles = fan.loss_quantiles((0.25, 0.5, 0.75))
    assert np.isfinite(quartiles).all()


def test_himmelblau_many_starts_find_all_four_minima():
    race = {
        "surface": {"name": "himmelblau"},
        "steps": 500,
        "racers": [{"optimizer": "adam", "lr": 0.1}],
    }
    surface = get_surface("himmelblau")
    for layout in ("grid", "cloud"):
        result = many_starts(validate_race(race), 0, layout, 64, seed=1)
        listed = [b for b in result.basins if b.listed]
        assert sorted(b.point for b in listed) == sorted(surface.minima)
        assert sum(b.count for b in result.basins) == 64
        for b, end in zip(result.basin, result.finals, strict=True):
            target = np.array(result.basins[b].point)
            assert np.hypot(*(end - target)) < 0.05 * 10


def test_rastrigin_many_starts_end_in_local_minima_near_the_lattice():
    race = {
        "surface": {"name": "rastrigin"},
        "steps": 600,
        "racers": [{"optimizer": "sgd", "lr": 0.002}],
    }
    result = many_starts(validate_race(race), 0, "grid", 64)
    found = [b for b in result.basins if not b.listed]
    assert len(found) >= 10
    for basin in found:
        point = np.array(basin.point)
        assert np.abs(point - np.round(point)).max() < 0.05  # Rastrigin's minima: near ℤ²
        assert basin.loss > 0.5


def test_grid_and_cloud_starts():
    race = validate_race(quadratic_sgd())
    grid = many_starts(race, 0, "grid", 70)
    assert len(grid.starts) == 64  # the largest square not above 70
    assert len(np.unique(grid.starts[:, 0])) == 8
    cloud = many_starts(race, 0, "cloud", 70, seed=5)
    assert len(cloud.starts) == 70
    np.testing.assert_array_equal(cloud.starts, many_starts(race, 0, "cloud", 70, 5).starts)
    assert not np.array_equal(cloud.starts, many_starts(race, 0, "cloud", 70, 6).starts)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "race"),
        ({"race": {"surface": {"name": "nope"}}}, "race.surface.name"),
        ({"race": quadratic_sgd(), "criterion": "fastest"}, "criterion"),
        ({"race": quadratic_sgd(), "grid": {"count": 1}}, "grid.count"),
        ({"race": quadratic_sgd(), "grid": {"low": 0}}, "grid.low"),
        ({"race": quadratic_sgd(), "grid": {"low": 1, "high": 0.1}}, "grid.high"),
        ({"race": quadratic_sgd(), "grid": {"high": 11}}, "grid.high"),
        ({"race": quadratic_sgd(), "extra": 1}, "extra"),
        (
            {
                "race": quadratic_sgd(5000) | {"racers": [{"optimizer": "sgd", "lr": 0.1}] * 12},
                "grid": {"count": 64},
            },
            "grid.count",
        ),
    ],
)
def test_sweep_requests_are_validated_naming_the_field(body, field):
    with pytest.raises(ConfigError) as error:
        validate_sweep(body)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("body", "field", "validate"),
    [
        ({"race": quadratic_sgd()}, "race.noise.std", validate_fan),
        ({"race": noisy_race(), "runs": 1}, "runs", validate_fan),
        ({"race": noisy_race(), "runs": 65}, "runs", validate_fan),
        ({"race": noisy_race(), "runs": "32"}, "runs", validate_fan),
        ({"race": quadratic_sgd(), "racer": 1}, "racer", validate_starts),
        ({"race": quadratic_sgd(), "racer": -1}, "racer", validate_starts),
        ({"race": quadratic_sgd(), "layout": "spiral"}, "layout", validate_starts),
        ({"race": quadratic_sgd(), "count": 257}, "count", validate_starts),
        ({"race": quadratic_sgd(), "seed": 0.5}, "seed", validate_starts),
    ],
)
def test_fan_and_starts_requests_are_validated_naming_the_field(body, field, validate):
    with pytest.raises(ConfigError) as error:
        validate(body)
    assert error.value.field == field


@pytest.fixture(scope="module")
def client():
    app = create_app({"RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"})
    return app.server.test_client()


def test_api_sweep_fan_and_starts(client):
    answer = client.post("/api/sweep", json={"race": quadratic_sgd(), "grid": {"count": 48}})
    assert answer.status_code == 200
    row = answer.get_json()["racers"][0]
    swept = sweep(validate_race(quadratic_sgd()), GRID).racers[0]
    # best is the page's rule (service/best_rate.py); the plain lowest run is named lowest.
    assert row["best"] == robust_best(swept, "final_loss", 0.0).to_json()
    assert row["lowest"] == swept.best("final_loss").to_json()

    fan = client.post("/api/fan", json={"race": noisy_race(), "runs": 8}).get_json()
    assert [r["seeds"] for r in fan["racers"]] == [list(range(11, 19))] * 2
    direct = noisy_fan(validate_race(noisy_race()), 1, 8)
    assert fan["racers"][1]["final_loss"] == direct.final_losses().tolist()

    starts = client.post(
        "/api/starts", json={"race": quadratic_sgd(), "layout": "grid", "count": 16}
    ).get_json()
    assert len(starts["starts"]) == 16 and starts["basins"][0]["point"] == [0.0, 0.0]

    wrong = client.post("/api/sweep", json={"race": quadratic_sgd(), "criterion": 3})
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "criterion"
    assert client.get("/api/sweep").status_code == 405


def test_service_resweeps_only_the_changed_racer(monkeypatch):
    # The cache must be bound to an app: an unbound one fails every call, and the service
    # then computes everything (correctly, so only the counts below would notice).
    service = RaceService(Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    swept: list[int] = []

    def counted(config, grid, *rest):
        swept.append(len(config.racers))
        return sweep(config, grid, *rest)

    monkeypatch.setattr("service.races.sweep", counted)
    config = validate_race(LESSONS["fair_comparison"].race)
    request = validate_sweep({"race": config.to_json(), "grid": {"count": 16}})
    first = service.sweep(request).to_json()
    assert service.engine_runs == 1
    assert swept == [3]  # all three racers in one batch
    changed = config.to_json()
    changed["racers"][1]["lr"] = 0.123
    second = service.sweep(validate_sweep({"race": changed, "grid": {"count": 16}})).to_json()
    assert service.engine_runs == 2
    assert swept == [3, 1]  # the changed racer alone
    assert second["racers"][0] == first["racers"][0]
    assert second["racers"][1] != first["racers"][1]
    fresh = sweep(validate_race(changed), RateGrid(count=16)).to_json()
    assert second == json.loads(json.dumps(fresh))
    # The criterion only picks the winner: judging the same sweep by the other runs nothing.
    judged = validate_sweep({"race": changed, "grid": {"count": 16}, "criterion": "steps_to_tol"})
    by_steps = service.sweep(judged).to_json()
    assert service.engine_runs == 2 and swept == [3, 1]
    direct = sweep(validate_race(changed), RateGrid(count=16), "steps_to_tol").to_json()
    assert by_steps == json.loads(json.dumps(direct))


QUADRATIC_PAGE = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1}},
    "steps": 200,
    "racers": [{"optimizer": "sgd", "lr": 0.01}, {"optimizer": "adam", "lr": 0.001}],
}


@pytest.mark.parametrize("criterion", CRITERIA)
def test_a_links_tuned_claim_holds_only_for_a_race_at_its_best_rates(criterion):
    service = RaceService(Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    config = validate_race(QUADRATIC_PAGE)
    store = {"share": encode_race(config), "order": ["0", "1"]}
    tuned = tune(store, criterion, service)
    assert tuned.data is not None and tuned.data["criterion"] == criterion
    claim = {"criterion": criterion}
    # The race as it was: tuning would change it, so the claim is refused.
    refused = confirm_tuned(store, claim, service)
    assert refused.data is None and "not at its best rates" in refused.message
    # The tuned race (what the link after auto-tune holds): the same note as after tuning.
    tuned_store = {"share": tuned.data["share"], "order": ["0", "1"]}
    assert confirm_tuned(tuned_store, claim, service).data == tuned.data
    # The criteria disagree on Adam's best rate here: tuned by one is not tuned by the other.
    other = next(c for c in CRITERIA if c != criterion)
    assert confirm_tuned(tuned_store, {"criterion": other}, service).data is None


@pytest.mark.parametrize("claim", [None, {}, {"criterion": "best"}, {"criterion": [1]}, "x", 3])
def test_a_malformed_tuned_claim_is_refused_naming_the_criterion(claim):
    service = RaceService(Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    store = {"share": encode_race(validate_race(QUADRATIC_PAGE)), "order": ["0", "1"]}
    refused = confirm_tuned(store, claim, service)
    assert refused.data is None and "criterion" in refused.message


# ----- the best rate is one whose neighbours also do well (issue 25, item 13) ---------------


@pytest.fixture(scope="module")
def opening_sweep():
    """The page's opening race (Rosenbrock, 1000 steps) swept as the page sweeps it."""
    return sweep(validate_race(OPENING_RACE), GRID)


def test_an_isolated_dip_is_not_the_best_rate(opening_sweep):
    # Adam ends at 1e-13 at rate 1.28 alone: the next rate up ends above 100. Auto-tune chose
    # 1.28, and its path left the map.
    adam = next(r for r in opening_sweep.racers if r.optimizer == "adam")
    plain = adam.best("final_loss")
    assert plain is not None and plain.lr == pytest.approx(1.2776, rel=1e-3)
    best = robust_best(adam, "final_loss", 0.0)
    assert best is not None and best.lr < plain.lr
    # The chosen rate's neighbours on the grid also do well: all three end near the minimum.
    near = dict(neighbourhoods(adam)[1:])[best]
    assert len(near) == 3 and all(o.diverged_at is None and o.final_loss < 1e-6 for o in near)
    # The rule, read plainly: no grid rate's worst-of-three is lower than the chosen one's.
    worst = max(outcome_key(o, "final_loss", 0.0) for o in near)
    for outcome, others in neighbourhoods(adam):
        if outcome.diverged_at is None:
            assert max(outcome_key(o, "final_loss", 0.0) for o in others) >= worst
    # The lowest single run is named as an isolated dip, with the neighbour that sinks it.
    dip = isolated_dip(adam, "final_loss", 0.0)
    assert dip is not None and dip["lr"] == plain.lr
    assert dip["neighbour"]["final_loss"] is None or dip["neighbour"]["final_loss"] > 1
    # A racer whose lowest run has good neighbours has no dip, and keeps that best.
    rmsprop = next(r for r in opening_sweep.racers if r.optimizer == "rmsprop")
    assert isolated_dip(rmsprop, "final_loss", 0.0) is None
    assert robust_best(rmsprop, "final_loss", 0.0) == rmsprop.best("final_loss")
    # Momentum's lowest run sits just below its divergence edge: a dip too.
    momentum = next(r for r in opening_sweep.racers if r.optimizer == "momentum")
    assert isolated_dip(momentum, "final_loss", 0.0)["neighbour"]["diverged_at"] is not None


def test_auto_tune_picks_the_robust_best_and_a_second_tune_changes_nothing():
    service = RaceService(Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    config = validate_race(OPENING_RACE)
    store = {"share": encode_race(config), "order": ["0", "1", "2", "3"]}
    tuned = tune(store, "final_loss", service)
    assert tuned.data is not None
    expected = short_rates(best_rates(sweep(config, GRID), 0.0))
    assert tuned.extra["rates"] == dict(enumerate(expected))
    assert 0.5 < tuned.extra["rates"][3] < 1.2  # Adam: not the dip at 1.28
    again = {"share": tuned.data["share"], "order": store["order"]}
    assert confirm_tuned(again, {"criterion": "final_loss"}, service).data == tuned.data


def _nudged(found, direction: int):
    """``found`` with every finite final loss moved by one ulp (up, down or alternating): what
    another CPU's exp or log may give."""

    def move(o, i):
        if not np.isfinite(o.final_loss):
            return o
        way = direction if direction else (1 if i % 2 else -1)
        return dataclasses.replace(o, final_loss=float(np.nextafter(o.final_loss, way * np.inf)))

    return dataclasses.replace(
        found,
        current=move(found.current, 0),
        grid=tuple(move(o, i + 1) for i, o in enumerate(found.grid)),
    )


@pytest.mark.parametrize("criterion", list(CRITERIA))
def test_the_best_rate_does_not_hang_on_the_last_bit(opening_sweep, criterion):
    races = [opening_sweep] + [
        sweep(validate_race(LESSONS[name].race_of(beat)), GRID)
        for name, beat in (("fair_comparison", 1), ("adaptive_rates", 0), ("prodigy_rate", 1))
    ]
    for result in races:
        for found in result.racers:
            chosen = robust_best(found, criterion, 0.0)
            for direction in (1, -1, 0):
                again = robust_best(_nudged(found, direction), criterion, 0.0)
                assert (chosen is None) == (again is None)
                assert chosen is None or again.lr == chosen.lr, (found.label, direction)
