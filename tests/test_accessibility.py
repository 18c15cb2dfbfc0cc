"""An axe-core audit of the page in Chromium, in normal and presentation mode, plus the
keyboard paths the audit cannot judge."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import require_file
from tests.live import RACE, state

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")


def audit(page) -> list[str]:
    require_file(AXE, "scripts/vendor-axe.sh")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # through DevTools: the page's CSP does not apply
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['html']})"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def test_no_serious_or_critical_violation_in_normal_mode(page):
    page.select_option("#inspect-select", "3")  # the inspector panel's table included
    page.wait_for_function("() => !document.getElementById('inspect-panel').hidden")
    assert audit(page) == []


def test_no_serious_or_critical_violation_in_presentation_mode(page):
    page.click("#present-button")
    page.wait_for_function("() => document.documentElement.classList.contains('presenting')")
    assert audit(page) == []


def test_the_code_dialog_passes_too(page):
    page.click("[data-action='pytorch'][data-index='3']")
    page.wait_for_function("() => document.getElementById('code-dialog').open")
    assert audit(page) == []


def test_dropdowns_open_and_choose_from_the_keyboard(page):
    page.focus("#speed-select")
    assert state(page, "document.activeElement.id") == "speed-select"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.type === 'radio'")  # the options
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.activeElement.value === '2'")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {RACE}.speed === 2")
    assert page.inner_text("#speed-select") == "2×"


def test_focus_is_visible(page):
    page.focus("#play-button")
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
    )
    page.keyboard.press("Tab")
    assert outline[0] != "none" and outline[1] >= 2


def test_racers_differ_by_more_than_colour(page):
    from service.compact import COLORS, style

    looks = [style(i) for i in range(len(COLORS))]
    assert len({s["marker"] for s in looks}) == len(looks)  # a distinct marker each
    assert len({(s["marker"], s["dash"]) for s in looks}) == len(looks)
    drawn = state(
        page,
        "document.querySelector('#loss-graph .js-plotly-plot').data"
        ".filter(t => t.mode === 'lines').map(t => t.line.dash)",
    )
    assert drawn == [looks[i]["dash"] for i in range(4)] and len(set(drawn)) == 4
