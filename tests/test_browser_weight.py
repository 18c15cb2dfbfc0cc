"""The first screen does not wait for what it does not show: the update rules are folded and
MathJax (with Dash's Markdown and highlight chunks) loads only when a rule is first opened.
(Lighthouse's figures are measured in ``make bench``, bench/lighthouse.py.)"""

from __future__ import annotations

import urllib.request

from tests.live import control, open_tab

TYPESETTING = ("async-mathjax.js", "async-markdown.js", "async-highlight.js")


def test_rules_are_folded_and_mathjax_loads_when_one_is_opened(browser, live):
    context, tab = open_tab(browser, live[0])
    try:
        # open_tab has waited for the first race to be drawn: nothing typeset, nothing loaded.
        loaded = tab.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
        assert not [u for u in loaded if any(chunk in u for chunk in TYPESETTING)], loaded
        boxes = tab.locator(".equation")
        assert boxes.count() >= 4
        assert (
            tab.evaluate("() => [...document.querySelectorAll('.equation')].some(d => d.open)")
            is False
        )
        assert tab.locator("mjx-container").count() == 0
        rule = tab.evaluate("() => document.querySelector('.equation').getAttribute('data-rule')")
        assert "\\begin{aligned}" in rule  # the rule's text is there, waiting

        # A rule changed while folded shows its new value when opened.
        box = tab.locator(control("racer-lr", 1))
        box.fill("0.00321")
        box.press("Enter")
        tab.wait_for_function(
            "() => document.querySelectorAll('.equation')[1].getAttribute('data-rule')"
            ".includes('0.00321')"
        )
        tab.locator(".equation summary").nth(1).click()
        typeset = tab.locator(control("racer-equation", 1)).locator("mjx-container").first
        typeset.wait_for()
        assert "0.00321" in tab.locator(control("racer-equation", 1)).text_content()
        loaded = tab.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
        assert [u for u in loaded if "async-mathjax.js" in u], "MathJax loads on opening"
        # Only the opened rule is typeset.
        assert tab.locator(".equation mjx-container").count() == typeset.count()
        assert tab.locator(control("racer-equation", 0)).locator("mjx-container").count() == 0
        assert tab.problems == []
    finally:
        context.close()


def test_the_opening_page_shows_a_picture_of_its_map_until_the_map_is_drawn(browser, live):
    html = urllib.request.urlopen(live[0] + "/").read().decode()
    assert 'id="opening-picture"' in html and "data:image/svg+xml;base64," in html
    shared = urllib.request.urlopen(live[0] + "/?lesson=ravine").read().decode()
    assert 'id="opening-picture"' not in shared  # the picture is of the opening race only

    # Before any script runs, the picture is there, over where the map will be.
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(live[0])
    box = tab.locator("#opening-picture").bounding_box()
    assert box["width"] > 300 and box["height"] > 300
    assert tab.evaluate("() => document.getElementById('opening-picture').naturalWidth") > 0
    context.close()

    # Once the map is drawn, it is gone.
    context, tab = open_tab(browser, live[0])
    tab.wait_for_function("() => !document.getElementById('opening-picture')")
    assert tab.problems == []
    context.close()
