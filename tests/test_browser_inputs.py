"""The page's number boxes in Chromium: − and + step by each parameter's rule, refusals are
shown beside the box quoting what was typed, and a refused rate moves neither the race nor the
card's slider (item 6 of issue 13)."""

from __future__ import annotations

import json

import pytest

from layouts.controls import PAGE_FIELDS
from layouts.racer import lr_slider_value
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES
from tests.live import RACE, READY, control, open_tab, state

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def param_box(index: int, name: str, owner: str, kind: str = "racer-param") -> str:
    """Selector of a registry parameter's box in racer ``index``'s card, built for ``owner``
    (its optimizer or schedule; ids are sorted JSON)."""
    return f'[id=\'{{"index":{index},"name":"{name}","owner":"{owner}","type":"{kind}"}}\']'


def button(page, box: str, direction: int):
    """The − (-1) or + (1) beside a box."""
    field = page.locator(box).locator("xpath=ancestor::*[contains(@class,'num-field')][1]")
    return field.locator(f"button[data-direction='{direction}']")


def value_of(page, box: str) -> str:
    return page.locator(box).input_value()


def wait_value(page, box: str, old: str) -> str:
    page.wait_for_function(
        "([sel, old]) => { const b = document.querySelector(sel); return b && b.value !== old; }",
        arg=[box, old],
    )
    return value_of(page, box)


def slider_value(page, index: int) -> float:
    thumb = page.locator(control("racer-lr-slider", index)).locator("[role='slider']")
    return float(thumb.get_attribute("aria-valuenow"))


def path_of(page, index: int) -> list:
    return state(page, f"(r => [Array.from(r.x), Array.from(r.y)])({RACE}.racers[{index}])")


def record_writes(page) -> None:
    """Record every value a script writes through dash_clientside.set_props from now on. The
    +/− handlers write synchronously inside the click, so after a click the record is final."""
    page.evaluate(
        """() => {
          const dc = window.dash_clientside, original = dc.set_props;
          window.__writes = [];
          dc.set_props = (id, props) => { window.__writes.push([id, props]); original(id, props); };
        }"""
    )


def writes(page, kind: str) -> list:
    """The recorded writes to boxes of type ``kind``."""
    return [
        w
        for w in state(page, "window.__writes")
        if isinstance(w[0], dict) and w[0].get("type") == kind
    ]


def type_into(page, box: str, text: str) -> None:
    page.fill(box, text)
    page.press(box, "Enter")


def wait_text(page, selector: str, expected: str) -> str:
    page.wait_for_function(
        "([sel, text]) => { const e = document.querySelector(sel);"
        " return e && e.textContent === text; }",
        arg=[selector, expected],
    )
    return page.locator(selector).text_content()


def test_plus_on_a_rate_of_0_001_gives_a_rate_below_0_01(page):
    box = control("racer-lr", 0)
    assert value_of(page, box) == "0.001"
    before, loaded = path_of(page, 0), state(page, f"{RACE}.loadedAt")
    button(page, box, 1).click()
    after = float(wait_value(page, box, "0.001"))
    assert 0.001 < after < 0.01 and after == 0.002
    # The race and the card's slider follow the new rate.
    page.wait_for_function(f"t => {RACE}.loadedAt > t && {RACE}.idle()", arg=loaded)
    assert path_of(page, 0) != before
    page.wait_for_function(
        "sel => Math.abs(Number(document.querySelector(sel + \" [role='slider']\")"
        ".getAttribute('aria-valuenow')) - Math.log10(0.002)) < 0.01",
        arg=control("racer-lr-slider", 0),
    )
    # − goes back; on Adam's 0.1 − gives 0.05, not −1.
    button(page, box, -1).click()
    assert wait_value(page, box, "0.002") == "0.001"
    adam = control("racer-lr", 3)
    assert value_of(page, adam) == "0.1"
    button(page, adam, -1).click()
    assert wait_value(page, adam, "0.1") == "0.05"
    # ↑ and ↓ in the box do what + and − do.
    page.focus(adam)
    page.keyboard.press("ArrowUp")
    assert wait_value(page, adam, "0.05") == "0.1"
    assert page.problems == []


def test_plus_on_momentum_stays_below_one(page):
    box = param_box(1, "momentum", "momentum")
    assert value_of(page, box) == "0.9"
    button(page, box, 1).click()
    assert wait_value(page, box, "0.9") == "0.91"
    type_into(page, box, "0.99")
    page.wait_for_function(f"() => {RACE}.idle()")
    record_writes(page)
    plus = button(page, box, 1)
    for _ in range(3):
        plus.click()
    assert (
        writes(page, "racer-param") == []
    )  # the next step (1) is the open bound: nothing is written
    assert value_of(page, box) == "0.99"
    button(page, box, -1).click()
    assert writes(page, "racer-param") == [
        [
            {"index": 1, "name": "momentum", "owner": "momentum", "type": "racer-param"},
            {"value": 0.98},
        ]
    ]
    assert wait_value(page, box, "0.99") == "0.98"
    assert page.locator(control("racer-error", 1)).text_content() == ""


MESSAGES = [
    ("#steps-input", "#settings-error", "0", "steps: a whole number from 10 to 5,000, got 0"),
    ("#steps-input", "#settings-error", "6000", "steps: a whole number from 10 to 5,000, got 6000"),
    ("#steps-input", "#settings-error", "12.5", "steps: a whole number from 10 to 5,000, got 12.5"),
    ("#steps-input", "#settings-error", "x", "steps: a whole number from 10 to 5,000, got 'x'"),
    (
        control("racer-lr", 0),
        control("racer-error", 0),
        "abc",
        "learning rate: a number in (0, 10], got 'abc'",
    ),
    (control("racer-lr", 0), control("racer-error", 0), "20", "learning rate: in (0, 10], got 20"),
    (
        param_box(1, "momentum", "momentum"),
        control("racer-error", 1),
        "1.5",
        "momentum: in [0, 1), got 1.5",
    ),
    (
        param_box(1, "momentum", "momentum"),
        control("racer-error", 1),
        "-0.5",
        "momentum: in [0, 1), got -0.5",
    ),
    (
        param_box(1, "momentum", "momentum"),
        control("racer-error", 1),
        "x",
        "momentum: a number in [0, 1), got 'x'",
    ),
]


def test_refused_values_are_named_beside_their_box_quoting_what_was_typed(page):
    for box, where, text, expected in MESSAGES:
        old = value_of(page, box)
        type_into(page, box, text)
        assert wait_text(page, where, expected) == expected
        assert page.locator(where).is_visible()
        assert value_of(page, box) == text  # the box keeps what was typed
        # and is marked invalid, described by the message
        page.wait_for_function(
            "sel => document.querySelector(sel).getAttribute('aria-invalid') === 'true'", arg=box
        )
        described = page.locator(box).get_attribute("aria-describedby")
        assert page.locator(where).get_attribute("id") == described
        type_into(page, box, old)  # corrected: the message goes, and the mark
        wait_text(page, where, "")
        page.wait_for_function(
            "sel => !document.querySelector(sel).hasAttribute('aria-invalid')", arg=box
        )
    assert page.problems == []


def test_a_refused_rate_leaves_the_race_and_the_slider_at_the_last_accepted_rate(page):
    box = control("racer-lr", 2)
    type_into(page, box, "0.02")  # accepted
    page.wait_for_function(f"() => {RACE}.idle() && /0\\.02\\b/.test({RACE}.racers[2].label)")
    accepted_path, slider = path_of(page, 2), slider_value(page, 2)
    assert slider == pytest.approx(-1.699, abs=0.01)
    loaded = state(page, f"{RACE}.loadedAt")
    for text, expected in [
        ("20", "learning rate: in (0, 10], got 20"),
        ("0", "learning rate: in (0, 10], got 0"),
        ("abc", "learning rate: a number in (0, 10], got 'abc'"),
    ]:
        type_into(page, box, text)
        wait_text(page, control("racer-error", 2), expected)
        assert value_of(page, box) == text
        assert slider_value(page, 2) == slider
        assert path_of(page, 2) == accepted_path
        assert state(page, f"{RACE}.loadedAt") == loaded  # no new race arrived
    # − and + on text that is not a number leave it to be corrected.
    record_writes(page)
    button(page, box, 1).click()
    button(page, box, -1).click()
    assert writes(page, "racer-lr") == [] and value_of(page, box) == "abc"
    type_into(page, box, "0.05")
    wait_text(page, control("racer-error", 2), "")
    page.wait_for_function(f"t => {RACE}.loadedAt > t && {RACE}.idle()", arg=loaded)
    assert path_of(page, 2) != accepted_path
    assert slider_value(page, 2) == pytest.approx(-1.301, abs=0.01)


def test_numbers_written_by_other_scripts_still_race(page):
    # As the quick controls and auto-tune do: a number, not text, into the rate box.
    loaded, before = state(page, f"{RACE}.loadedAt"), path_of(page, 1)
    page.evaluate(
        "() => window.dash_clientside.set_props({type: 'racer-lr', index: 1}, {value: 0.004})"
    )
    page.wait_for_function(f"t => {RACE}.loadedAt > t && {RACE}.idle()", arg=loaded)
    assert value_of(page, control("racer-lr", 1)) == "0.004"
    assert path_of(page, 1) != before
    assert slider_value(page, 1) == pytest.approx(-2.398, abs=0.01)
    # and + steps on from that number
    button(page, control("racer-lr", 1), 1).click()
    assert wait_value(page, control("racer-lr", 1), "0.004") == "0.005"


def test_the_browser_steps_exactly_as_the_python_rule(page):
    """assets/inputs.js nudge() against Param.nudge() for every parameter with a box."""
    params = list(PAGE_FIELDS.values())
    for registry in (OPTIMIZERS, SCHEDULES, SURFACES):
        params += [p for spec in registry.values() for p in spec.params]
    cases, expected = [], []
    for p in params:
        rule = p.stepping()
        if rule is None:
            continue
        low = p.low if p.low is not None else -100.0
        high = p.high if p.high is not None else 100.0
        values = [None, low, high, 0.0, 1e-9, 3e-7, 0.001, 0.0123, 0.29, 0.5, 0.9, 0.91, 0.99]
        values += [0.999, 1.0, 2.5, 7.0, 12.0, 99.0, 100.0, 333.0, 1000.0, 4999.0, 1e5]
        values += [low + (high - low) * f for f in (0.1, 0.37, 0.5, 0.93)]
        for value in values:
            if value is not None and not p.contains(value):
                continue
            for direction in (1, -1):
                cases.append([rule, value, direction])
                expected.append(p.nudge(value, direction))
    got = page.evaluate(
        "cases => cases.map(([rule, v, d]) =>"
        " window.optimizerRace.use('inputs').nudge(rule, v, d))",
        cases,
    )
    mismatches = [
        (c, e, g)
        for c, e, g in zip(cases, expected, got, strict=True)
        if not (e == g or (e is None and g is None))
    ]
    assert len(cases) > 1000
    assert mismatches == [], json.dumps(mismatches[:5])


def test_on_a_phone_every_step_button_is_a_44px_target(browser, live):
    context, tab = open_tab(browser, live[0], **PHONE)
    try:
        tab.wait_for_function(READY)
        buttons = tab.locator(".racer-card .num-step, .settings .num-step")
        assert buttons.count() >= 8
        for i in range(buttons.count()):
            b = buttons.nth(i)
            b.scroll_into_view_if_needed()
            box = b.bounding_box()
            assert box is not None and box["width"] >= 44 and box["height"] >= 44, (i, box)
        # A tap steps the rate as a click does.
        lr = control("racer-lr", 0)
        button(tab, lr, 1).tap()
        assert wait_value(tab, lr, "0.001") == "0.002"
    finally:
        context.close()


def choose_optimizer(page, index: int, name: str) -> None:
    """Open racer ``index``'s optimizer menu and click ``name`` (Dash 4's dropdown)."""
    page.locator(control("racer-optimizer", index)).click()
    page.locator(f".dash-dropdown-option:has(input[value='{name}'])").click()


def labelled(page, index: int, title: str) -> None:
    """Wait until the race shown names racer ``index`` by ``title`` (its default label)."""
    page.wait_for_function(
        f"t => {RACE}.idle() && {RACE}.racers[{index}].label.startsWith(t + ' (')", arg=title
    )


def test_a_rate_nobody_changed_follows_the_optimizer_and_a_chosen_one_stays(page):
    # Card 0 is SGD at its default rate: L-BFGS (no line search) takes steps of lr·direction,
    # and at SGD's 1e-3 it would crawl; it gets its own default.
    sgd, lbfgs = OPTIMIZERS["sgd"], OPTIMIZERS["lbfgs"]
    assert value_of(page, control("racer-lr", 0)) in {"0.001", str(sgd.card.default_lr)}
    assert lbfgs.card.default_lr != sgd.card.default_lr
    choose_optimizer(page, 0, "lbfgs")
    labelled(page, 0, lbfgs.card.title)
    assert float(value_of(page, control("racer-lr", 0))) == lbfgs.card.default_lr
    assert f"lr {lbfgs.card.default_lr:g}" in state(page, f"{RACE}.racers[0].label")
    assert slider_value(page, 0) == pytest.approx(lr_slider_value(lbfgs.card.default_lr))
    # Card 1: a rate the person typed is theirs, whatever the optimizer.
    type_into(page, control("racer-lr", 1), "0.005")
    page.wait_for_function(f"() => {RACE}.idle() && /0\\.005\\b/.test({RACE}.racers[1].label)")
    choose_optimizer(page, 1, "adagrad")
    labelled(page, 1, OPTIMIZERS["adagrad"].card.title)
    assert value_of(page, control("racer-lr", 1)) == "0.005"
    assert "0.005" in state(page, f"{RACE}.racers[1].label")
