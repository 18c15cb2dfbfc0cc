"""Every lesson's caption, checked numerically on the race the lesson sets up."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pytest

from lessons import LESSONS
from optimizers import run_race
from optimizers.race import RacerResult
from optimizers.validate import validate_race


def steps_of(r: RacerResult) -> np.ndarray:
    return np.diff(r.path, axis=0)


def ravine(rs: list[RacerResult]) -> None:
    sgd, momentum = rs
    assert momentum.steps_to_tol is not None and sgd.steps_to_tol is not None
    assert momentum.steps_to_tol <= 0.6 * sgd.steps_to_tol
    assert np.sum(np.diff(np.sign(sgd.path[:50, 0])) != 0) >= 20  # SGD zig-zags across


def how_much_momentum(rs: list[RacerResult]) -> None:
    none, usual, heavy = rs
    assert usual.steps_to_tol is not None
    assert none.steps_to_tol is None and heavy.steps_to_tol is None
    assert heavy.path[:, 0].max() > usual.path[:, 0].max() > 0 >= none.path[:, 0].max()
    assert heavy.final_loss > 100 * usual.final_loss


def nesterov(rs: list[RacerResult]) -> None:
    heavy, look_ahead = rs
    assert look_ahead.steps_to_tol < heavy.steps_to_tol
    assert look_ahead.path[:, 0].max() < heavy.path[:, 0].max()


def adagrad_rmsprop(rs: list[RacerResult]) -> None:
    adagrad, rmsprop = rs
    last = [float(np.linalg.norm(steps_of(r)[-1])) for r in rs]
    assert last[0] < 0.2 * last[1]
    assert rmsprop.final_loss < adagrad.final_loss / 10


def fair_comparison(rs: list[RacerResult]) -> None:
    sgd, momentum, adam = rs
    assert adam.final_loss < momentum.final_loss < sgd.final_loss
    for r, figure in zip(rs, (1.15e-11, 2.07e-13, 3.63e-16), strict=True):
        assert f"{r.final_loss:.2e}" == f"{figure:.2e}"  # seed-examples.md, 3 digits


def bias_correction(rs: list[RacerResult]) -> None:
    corrected, raw = rs
    np.testing.assert_allclose(np.abs(steps_of(corrected)[0]), 0.1, rtol=1e-6)
    ratio = np.abs(steps_of(raw)[0]) / np.abs(steps_of(corrected)[0])
    np.testing.assert_allclose(ratio, np.sqrt(1000) / 10, rtol=1e-4)  # (1−β1)/√(1−β2) off


def adamw(rs: list[RacerResult]) -> None:
    adam_l2, adam_w = rs
    assert np.linalg.norm(adam_w.path[-1]) < 0.6 * np.linalg.norm(adam_l2.path[-1])


def warmup(rs: list[RacerResult]) -> None:
    constant, warmed = rs
    assert constant.diverged_at is not None and constant.diverged_at <= 10
    assert warmed.diverged_at is None and warmed.steps_to_tol is not None


def schedules(rs: list[RacerResult]) -> None:
    constant, *decayed = rs
    finals = [r.final_loss for r in rs]
    assert all(r.final_loss < constant.final_loss for r in decayed), finals
    assert min(finals) == rs[-1].final_loss  # cosine lowest


def saddle(rs: list[RacerResult]) -> None:
    (noisy,) = rs
    assert abs(noisy.path[-1, 1]) > 1.0  # tipped off the ridge, escaping
    quiet = LESSONS["saddle"].race | {"noise": {"std": 0.0, "seed": 0}}
    (exact,) = run_race(quiet).racers
    assert np.all(exact.path[:, 1] == 0.0)  # never leaves the ridge
    assert np.linalg.norm(exact.path[-1]) < 1e-3  # and settles at the saddle point


def rate_first(rs: list[RacerResult]) -> None:
    sgd, adam = rs
    assert sgd.final_loss < 1e-6 * adam.final_loss


def lion(rs: list[RacerResult]) -> None:
    (r,) = rs
    np.testing.assert_allclose(np.abs(steps_of(r)), 0.01, rtol=1e-9)


CLAIMS: dict[str, Callable[[list[RacerResult]], None]] = {
    f.__name__: f
    for f in (
        ravine,
        how_much_momentum,
        nesterov,
        adagrad_rmsprop,
        fair_comparison,
        bias_correction,
        adamw,
        warmup,
        schedules,
        saddle,
        rate_first,
        lion,
    )
}


def test_every_lesson_has_a_checked_claim():
    assert set(CLAIMS) == set(LESSONS)
    assert len(LESSONS) >= 12


@pytest.mark.parametrize("name", list(LESSONS))
def test_lesson_claim_holds(name):
    lesson = LESSONS[name]
    validate_race(copy.deepcopy(lesson.race))
    assert 60 <= len(lesson.caption) <= 400
    CLAIMS[name](list(run_race(lesson.race).racers))
