"""After a drag on a quick rate slider the keys are the page's again (issue 25, item 5): in
Present Space plays, Esc leaves and the clicker's keys step; on the laptop End, Home, PageUp
and PageDown move no rate. Each way a drag can end is tried with the browser's own input
(mouse, touch, the window losing focus), and each key is pressed and read off the page."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.live import RACE, open_tab, space_plays_and_pauses, state

ROW = "#quick-controls .quick-row[data-racer='0']"
LAPTOP = {"width": 1400, "height": 900}
PROJECTOR = {"width": 1024, "height": 768}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SLIDER_FOCUSED = f"document.activeElement === document.querySelector(`{ROW} .quick-rate`)"


def drag_start(tab) -> tuple[float, float, float]:
    """The mouse pressed on racer 0's slider and moved along it (a race follows on release);
    returns the slider's (left, width, middle y)."""
    b = tab.locator(f"{ROW} .quick-rate").bounding_box()
    y = b["y"] + b["height"] / 2
    tab.mouse.move(b["x"] + b["width"] * 0.3, y)
    tab.mouse.down()
    tab.mouse.move(b["x"] + b["width"] * 0.4, y, steps=3)
    return b["x"], b["width"], y


def released_on_the_slider(tab) -> None:
    drag_start(tab)
    tab.mouse.up()


def released_below_the_slider(tab) -> None:
    x, width, y = drag_start(tab)
    tab.mouse.move(x + width * 0.45, y + 200, steps=3)
    tab.mouse.up()


def released_outside_the_window(tab) -> None:
    x, width, _ = drag_start(tab)
    tab.mouse.move(x + width * 0.45, -40, steps=3)  # above the page, out of the window
    tab.mouse.up()


def clicked_without_moving(tab) -> None:
    # A press that moves nothing fires no "change": only the release ends it.
    b = tab.locator(f"{ROW} .quick-rate").bounding_box()
    at = tab.locator(f"{ROW} .quick-rate").evaluate("r => (r.value - r.min) / (r.max - r.min)")
    tab.mouse.click(b["x"] + 8 + (b["width"] - 16) * at, b["y"] + b["height"] / 2)


def window_left_mid_drag(tab) -> None:
    """Another window takes the focus while the button is down (the browser ends the drag
    and, when the window comes back, gives the focus back to what had it), then the button
    is released."""
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    drag_start(tab)
    other = tab.context.new_page()
    other.bring_to_front()
    other.evaluate("() => window.focus()")
    tab.wait_for_function("() => !document.hasFocus()")
    tab.bring_to_front()
    tab.evaluate("() => window.focus()")
    tab.wait_for_function("() => document.hasFocus()")
    tab.mouse.up()
    other.close()


ENDINGS: dict[str, Callable] = {
    "released on the slider": released_on_the_slider,
    "released below it": released_below_the_slider,
    "released outside the window": released_outside_the_window,
    "a click that moves nothing": clicked_without_moving,
    "the window left mid-drag": window_left_mid_drag,
}


def settled(tab, loaded: float, before: tuple[str, str]) -> None:
    """The drag is over, and the race at the rate it left (if it moved one) is drawn. (The
    page ends a drag in a task of its own after the release: one more task, awaited, has
    let it run.)"""
    tab.wait_for_function(f"() => !{RACE}.dragging")
    tab.evaluate("() => new Promise(done => setTimeout(done, 0))")
    shown = rate(tab)[1]
    if shown != before[1]:
        tab.wait_for_function(
            f"([t, v]) => {RACE}.loadedAt > t && {RACE}.idle()"
            f" && {RACE}.racers[0].label.indexOf('lr ' + v) >= 0",
            arg=[loaded, f"{float(shown):g}"],
        )


def rate(tab) -> tuple[str, str]:
    return (
        tab.locator(f"{ROW} .quick-rate").input_value(),
        tab.locator(f"{ROW} .quick-value").inner_text(),
    )


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_after_a_drag_the_laptops_keys_move_no_rate(browser, live, ending):
    """End set Adam to 10 and raced again; Home, PageUp and PageDown moved the rate too."""
    context, tab = open_tab(browser, live[0], viewport=LAPTOP)
    try:
        loaded, first = state(tab, f"{RACE}.loadedAt"), rate(tab)
        ENDINGS[ending](tab)
        settled(tab, loaded, first)
        before, loaded = rate(tab), state(tab, f"{RACE}.loadedAt")
        moved = {}
        for key in ("End", "Home", "PageUp", "PageDown"):
            tab.keyboard.press(key)
            moved[key] = rate(tab) != before
        assert moved == {"End": False, "Home": False, "PageUp": False, "PageDown": False}
        assert not state(tab, SLIDER_FOCUSED)
        assert state(tab, f"{RACE}.loadedAt") == loaded and state(tab, f"{RACE}.idle()")
        assert tab.problems == []
    finally:
        context.close()


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_after_a_drag_in_present_space_plays_the_clicker_steps_and_esc_leaves(
    browser, live, ending
):
    context, tab = open_tab(browser, live[0] + "/?present=1", viewport=PROJECTOR)
    try:
        loaded, first = state(tab, f"{RACE}.loadedAt"), rate(tab)
        ENDINGS[ending](tab)
        settled(tab, loaded, first)
        before = rate(tab)
        space_plays_and_pauses(tab)
        step = state(tab, f"{RACE}.step")
        tab.keyboard.press("PageDown")
        tab.wait_for_function(f"s => {RACE}.step === s + 1 && {RACE}.rendered === s + 1", arg=step)
        tab.keyboard.press("ArrowLeft")
        tab.wait_for_function(f"s => {RACE}.step === s && {RACE}.rendered === s", arg=step)
        assert rate(tab) == before
        tab.keyboard.press("Escape")
        tab.wait_for_function(
            f"() => !{RACE}.presenting && !document.documentElement.classList.contains("
            "'presenting')"
        )
        assert tab.problems == []
    finally:
        context.close()


def touch(tab, kind: str, x: float, y: float) -> None:
    points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
    tab.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def finger(tab, dx: float, dy: float) -> None:
    """A finger put down at 40% along racer 0's slider and moved by (dx, dy) in ten steps,
    then lifted (the DevTools protocol's touch events: the browser scrolls for them)."""
    slider = tab.locator(f"{ROW} .quick-rate")
    slider.scroll_into_view_if_needed()
    b = slider.bounding_box()
    x, y = b["x"] + b["width"] * 0.4, b["y"] + b["height"] / 2
    tab.cdp = tab.context.new_cdp_session(tab)
    touch(tab, "touchStart", x, y)
    for i in range(1, 11):
        touch(tab, "touchMove", x + dx * i / 10, y + dy * i / 10)
    touch(tab, "touchEnd", 0, 0)


@pytest.mark.parametrize(
    ("ending", "dx", "dy"),
    [("a slide across", 80, 0), ("a tap", 0, 0), ("a swipe up (the page scrolls)", 4, -150)],
)
def test_after_a_touch_on_a_phones_slider_the_keys_are_the_pages(browser, live, ending, dx, dy):
    """A phone with a keyboard (or a clicker) attached: the finger's slider does not keep
    the keys."""
    context, tab = open_tab(browser, live[0], **PHONE)
    try:
        loaded, first = state(tab, f"{RACE}.loadedAt"), rate(tab)
        finger(tab, dx, dy)
        settled(tab, loaded, first)
        assert not state(tab, SLIDER_FOCUSED)
        before = rate(tab)
        for key in ("End", "Home", "PageUp", "PageDown", "ArrowRight"):
            tab.keyboard.press(key)
            assert rate(tab) == before, key
        assert tab.problems == []
    finally:
        context.close()


def test_a_slider_the_keyboard_focused_keeps_its_keys(browser, live):
    """Tab to a quick slider and its keys are its own: End sets the highest rate."""
    context, tab = open_tab(browser, live[0], viewport=LAPTOP)
    try:
        tab.locator(f"{ROW} .quick-rate").focus()
        tab.keyboard.press("End")
        tab.wait_for_function(
            f"() => document.querySelector(`{ROW} .quick-value`).textContent === '10'"
        )
        assert state(tab, SLIDER_FOCUSED)
    finally:
        context.close()


def test_after_the_scrubber_is_dragged_in_present_space_plays_and_esc_leaves(browser, live):
    """The step scrubber is a slider too: dragged with the mouse it kept Space and Esc."""
    context, tab = open_tab(browser, live[0] + "/?present=1", viewport=PROJECTOR)
    try:
        thumb = tab.locator(".step-slider [role=slider]").bounding_box()
        x, y = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2
        tab.mouse.move(x, y)
        tab.mouse.down()
        tab.mouse.move(x + 60, y, steps=4)
        tab.mouse.up()
        tab.wait_for_function(f"() => {RACE}.step > 0 && {RACE}.rendered === {RACE}.step")
        assert state(tab, "document.activeElement.getAttribute('role')") == "slider"
        space_plays_and_pauses(tab)
        tab.keyboard.press("Escape")
        tab.wait_for_function(f"() => !{RACE}.presenting")
        assert tab.problems == []
    finally:
        context.close()
