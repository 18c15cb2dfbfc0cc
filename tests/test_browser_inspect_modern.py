"""The step inspector on issue 18's racers, in Chromium: Schedule-Free's three sequences (y where
the gradient is taken, z the base sequence, x the average drawn on the map), Sophia's
curvature estimate and which coordinates its clip cut, SAM's probe θ + e on the map, LAMB's
and LARS's trust ratio and Shampoo's preconditioner L with the ellipse of L^{-1/2}, each row
equal to the engine's trace at the step shown (and to the reference package where it keeps
the number) and labelled with what it means."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers.trace import trace_racer
from optimizers.validate import validate_race
from surfaces import get_surface
from surfaces.compiled import evaluate
from tests.live import RACE, open_tab, race_link, state
from tests.test_conformance_packages import _package, reference_path

RACE_JSON = {
    "surface": {"name": "saddle", "params": {}},
    "steps": 40,
    "start": [0.7, 0.4],
    "racers": [
        {"optimizer": "schedule_free_sgd", "lr": 0.05},
        {"optimizer": "sophia", "lr": 0.05, "params": {"p": 1, "estimator": "exact"}},
    ],
}
STEP = 5

ROWS = (
    "Object.fromEntries(Array.from(document.querySelectorAll('#inspect-panel tr[data-name]'))"
    ".map(r => [r.dataset.name, {label: r.querySelector('th').textContent,"
    " values: Array.from(r.querySelectorAll('td[data-value]')).map(c => Number(c.dataset.value)),"
    " text: Array.from(r.querySelectorAll('td[data-value]')).map(c => c.textContent)}]))"
)


def inspected_tab(browser, live, racer: int, race: dict = RACE_JSON):
    ctx, tab = open_tab(browser, live[0] + race_link(race, f"&inspect={racer}&step={STEP}"))
    tab.wait_for_function(f"i => {RACE}.trace && {RACE}.trace.index === i", arg=racer)
    tab.wait_for_function(f"s => {RACE}.step === s", arg=STEP)
    tab.wait_for_selector("#inspect-panel tr[data-name='step']")
    tab.wait_for_function(f"() => {RACE}.idle()")
    return ctx, tab


def shown_rows(browser, live, racer: int, race: dict = RACE_JSON) -> dict:
    ctx, tab = inspected_tab(browser, live, racer, race)
    rows = state(tab, ROWS)
    assert tab.problems == []
    ctx.close()
    return rows


def test_schedule_free_shows_y_z_and_the_drawn_x(browser, live):
    trace = trace_racer(validate_race(RACE_JSON), 0)
    rows = shown_rows(browser, live, 0)
    for name, label in (("y", "gradient taken here"), ("z", "base sequence")):
        assert rows[name]["values"] == trace.state[name][STEP].tolist(), name
        assert label in rows[name]["label"]
    assert rows["x"]["values"] == trace.derived["x"][STEP].tolist()
    assert "the point drawn" in rows["x"]["label"]
    # x is where the racer is drawn: the step that leaves x_5 lands on the trace's x_6.
    assert rows["x"]["values"] == trace.path[STEP + 1].tolist()
    # Three different points: y and z are not x (else the rows would say nothing).
    assert rows["y"]["values"] != rows["x"]["values"] != rows["z"]["values"]


def test_sophia_shows_its_curvature_estimate_and_the_clipped_coordinates(browser, live):
    trace = trace_racer(validate_race(RACE_JSON), 1)
    rows = shown_rows(browser, live, 1)
    assert rows["hessian_moment"]["values"] == trace.state["hessian_moment"][STEP].tolist()
    assert "curvature estimate" in rows["hessian_moment"]["label"]
    # On the saddle the exact diagonal is (2, −2).
    assert rows["hessian"]["values"] == [2.0, -2.0]
    # Far from any minimum both coordinates are clipped: a sign step of exactly lr·p = 0.05.
    assert trace.state["clipped"][STEP].tolist() == [1.0, 1.0]
    assert rows["clipped"]["text"] == ["yes", "yes"]
    assert [abs(v) for v in rows["step"]["values"]] == pytest.approx([0.05, 0.05], rel=1e-12)


# SAM around SGD with a ρ large enough to see; LAMB and LARS (momentum 0, so the package's
# trust ratio can be read back from its step) on a bowl away from the origin; Shampoo on the
# quadratic turned 45°, where its L lines up with the valley.
QUADRATIC = {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}}
SAM_RACE = {
    "surface": QUADRATIC,
    "steps": 40,
    "start": [1.0, 1.0],
    "racers": [{"optimizer": "sgd", "lr": 0.02, "sam_rho": 0.3}],
}
TRUST_RACE = {
    "surface": QUADRATIC,
    "steps": 40,
    "start": [1.0, 1.0],
    "racers": [
        {"optimizer": "lamb", "lr": 5e-3},
        {"optimizer": "lars", "lr": 2.0, "params": {"momentum": 0.0}},
    ],
}
SHAMPOO_RACE = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 45}},
    "steps": 40,
    "start": [1.0, 0.5],
    "racers": [{"optimizer": "shampoo", "lr": 0.1}],
}
PANEL_TEXT = "document.querySelector('#inspect-panel').innerText"
DRAWN = f"{RACE}.use('inspector').drawn()"


def one_racer(race: dict, index: int):
    """``race`` with only racer ``index``: the reference package runs one racer."""
    return validate_race({**race, "racers": [race["racers"][index]]})


def test_sam_probe_is_drawn_where_the_engine_took_the_gradient(browser, live):
    trace = trace_racer(validate_race(SAM_RACE), 0)
    ctx, tab = inspected_tab(browser, live, 0, SAM_RACE)
    rows = state(tab, ROWS)
    point, probe = trace.probes[STEP, 0], trace.probes[STEP, 1]
    assert rows["sam_probe"]["values"] == probe.tolist()
    assert "SAM probe θ+e" in rows["sam_probe"]["label"]
    # θ is the racer's point at the step shown, and e is ρ long (SAM's, not ASAM's).
    assert rows["sam_point"]["values"] == point.tolist() == trace.path[STEP].tolist()
    assert np.hypot(*rows["sam_e"]["values"]) == pytest.approx(0.3, rel=1e-9)
    assert "SAM probe θ+e: where SAM took the gradient this step used" in state(tab, PANEL_TEXT)
    # On the map: the probe at θ + e, a reddish-purple diamond (#CC79A7) at its pixel.
    drawn = state(tab, DRAWN)["probe"]
    assert drawn["probe"] == probe.tolist() and drawn["point"] == point.tolist()
    colour = state(
        tab,
        f"(() => {{ const c = document.querySelector('canvas.race-overlay'),"
        f" r = window.devicePixelRatio || 1, p = {DRAWN}.probe.px;"
        f" return Array.from(c.getContext('2d').getImageData("
        f"Math.round(p[0] * r), Math.round(p[1] * r), 1, 1).data); }})()",
    )
    assert colour == [0xCC, 0x79, 0xA7, 255]
    # A step later, the probe follows the racer.
    tab.evaluate(
        "k => window.dash_clientside.set_props(window.optimizerRace.ids.STEP_SLIDER, {value: k})",
        STEP + 1,
    )
    tab.wait_for_function(f"k => {RACE}.rendered === k && {RACE}.idle()", arg=STEP + 1)
    assert state(tab, DRAWN)["probe"]["probe"] == trace.probes[STEP + 1, 1].tolist()
    assert tab.problems == []
    ctx.close()


def test_a_racer_without_sam_shows_no_probe(browser, live):
    ctx, tab = inspected_tab(browser, live, 0, TRUST_RACE)
    assert state(tab, DRAWN)["probe"] is None
    assert "SAM probe" not in state(tab, PANEL_TEXT)
    ctx.close()


def test_lamb_shows_its_trust_ratio_as_the_package_computes_it(browser, live):
    trace = trace_racer(validate_race(TRUST_RACE), 0)
    rows = shown_rows(browser, live, 0, TRUST_RACE)
    shown = rows["trust_ratio"]["values"]
    assert shown == [trace.derived["trust_ratio"][STEP]]
    assert "trust ratio" in rows["trust_ratio"]["label"]
    # pytorch-optimizer 4.1.0's Lamb keeps the ratio it used in its state: step STEP + 1's.
    kept = []

    def read(opt, param):
        kept.append(float(opt.state[param]["trust_ratio"]))
        return param.detach().numpy().reshape(2).copy()

    reference_path(one_racer(TRUST_RACE, 0), _package("Lamb"), shown=read)
    assert shown[0] == pytest.approx(kept[STEP], rel=1e-9)
    assert rows["weight_norm"]["values"] == [trace.derived["weight_norm"][STEP]]
    assert abs(shown[0] - 1) > 0.1  # the ratio acted


def test_lars_shows_its_trust_ratio_as_the_package_steps(browser, live):
    config = one_racer(TRUST_RACE, 1)
    trace = trace_racer(validate_race(TRUST_RACE), 1)
    rows = shown_rows(browser, live, 1, TRUST_RACE)
    shown = rows["trust_ratio"]["values"]
    assert shown == [trace.derived["trust_ratio"][STEP]]
    # The package's LARS (as a 1×2 weight) does not keep the ratio; without momentum or decay
    # its step is −lr·φ·g, so φ is the length of its step over lr·‖g‖.
    theirs, _ = reference_path(config, _package("LARS"), shape=(1, 2))
    surface = get_surface(config.surface.name, **config.surface.params)
    g = evaluate(surface, theirs[STEP])[1][0]
    phi = np.hypot(*(theirs[STEP + 1] - theirs[STEP])) / (2.0 * np.hypot(*g))
    assert shown[0] == pytest.approx(phi, rel=1e-9)
    # tc·‖θ‖/‖g‖: the package's formula at its own point.
    assert phi == pytest.approx(1e-3 * np.hypot(*theirs[STEP]) / np.hypot(*g), rel=1e-9)


@pytest.mark.parametrize("racer", [0, 1])
def test_the_trust_ratio_is_explained_in_one_line(browser, live, racer):
    ctx, tab = inspected_tab(browser, live, racer, TRUST_RACE)
    note = tab.locator("#inspect-panel [data-explains='trust_ratio']")
    assert note.count() == 1
    text = note.inner_text()
    assert text.startswith("Step length ∝ ‖θ‖: the trust ratio")
    assert ("lr·tc·‖θ‖" in text) == (racer == 1)
    assert tab.problems == []
    ctx.close()
    if racer == 0:
        # What LAMB's line says of the step's length holds for the engine's steps:
        # lr·min(‖θ‖, 10)/(1 − β1ᵗ), step t taken from x_{t−1}.
        assert "lr·min(‖θ‖, 10)/(1 − β1ᵗ)" in text
        trace = trace_racer(validate_race(TRUST_RACE), 0)
        lr, beta1 = TRUST_RACE["racers"][0]["lr"], 0.9
        for t in (1, STEP + 1, 30):
            length = np.hypot(*(trace.path[t] - trace.path[t - 1]))
            said = lr * min(np.hypot(*trace.path[t - 1]), 10) / (1 - beta1**t)
            assert length == pytest.approx(said, rel=1e-6), t


def test_shampoo_shows_its_preconditioner_and_the_ellipse_of_its_inverse_root(browser, live):
    config = validate_race(SHAMPOO_RACE)
    trace = trace_racer(config, 0)
    ctx, tab = inspected_tab(browser, live, 0, SHAMPOO_RACE)
    rows = state(tab, ROWS)
    derived = {k: v[STEP].tolist() for k, v in trace.derived.items()}
    for name in ("L_row_1", "L_row_2", "L_eigenvalues", "P_eigenvalues", "P_axis_1", "P_axis_2"):
        assert rows[name]["values"] == derived[name], name
    assert "L = εI + Σggᵀ" in rows["L_row_1"]["label"]
    # In the order a student reads them: L, its eigenvalues, then L^{-1/2}'s ellipse.
    assert [n for n in rows if n[:2] in ("L_", "P_")] == [
        "L_row_1",
        "L_row_2",
        "L_eigenvalues",
        "P_eigenvalues",
        "P_axis_1",
        "P_axis_2",
    ]
    assert "semi-axes" in rows["P_eigenvalues"]["label"]
    # The package's L and L^{-1/2} after step STEP + 1.
    kept = []

    def read(opt, param):
        st = opt.state[param]
        kept.append((st["pre_cond_0"].numpy().copy(), st["inv_pre_cond_0"].numpy().copy()))
        return param.detach().numpy().reshape(2).copy()

    reference_path(config, _package("Shampoo"), shown=read)
    big_l, inverse_root = kept[STEP]
    np.testing.assert_allclose([rows["L_row_1"]["values"], rows["L_row_2"]["values"]], big_l)
    lam = np.linalg.eigvalsh(big_l)[::-1]
    np.testing.assert_allclose(rows["L_eigenvalues"]["values"], lam, rtol=1e-9)
    # The ellipse's semi-axes along its axes rebuild the package's L^{-1/2}, and they are
    # L's eigenvalues to the power −1/2 (recomputed every step here).
    axes = np.array([rows["P_axis_1"]["values"], rows["P_axis_2"]["values"]])
    stretch = np.array(rows["P_eigenvalues"]["values"])
    np.testing.assert_allclose(axes.T @ np.diag(stretch) @ axes, inverse_root, rtol=1e-9)
    np.testing.assert_allclose(stretch, lam[::-1] ** -0.5, rtol=1e-9)
    # The gradients have mostly pointed up the steep wall, so L^{-1/2} stretches the other
    # direction far more: the ellipse is long, not a circle.
    assert stretch[0] > 2 * stretch[1]
    drawn = state(tab, DRAWN)["ellipse"]
    assert drawn == {"semi_axes": derived["P_eigenvalues"], "axes": axes.tolist()}
    assert tab.locator("#inspect-panel [data-explains='L_eigenvalues']").count() == 1
    assert "L⁻½'s ellipse" in state(tab, PANEL_TEXT)
    assert tab.problems == []
    ctx.close()
