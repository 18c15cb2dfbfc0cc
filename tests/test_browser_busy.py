"""When the server refuses the page (429: the client's work budget or request limit is spent),
the page says so, says how long to wait, and keeps the last race (assets/busy.js)."""

from __future__ import annotations

import re

from tests.live import RACE, control, open_tab, serve, state


def test_a_refused_change_says_why_and_how_long_and_keeps_the_race(browser):
    from app import create_app

    # A bucket that pays one uncached race, then refills far too slowly for a second.
    app = create_app({"WORK_BURST": "1", "WORK_RATE": "0.001"})
    with serve(app.server) as url:
        context, tab = open_tab(browser, url)
        try:
            box = tab.locator(control("racer-lr", 0))
            note = tab.locator("#busy-note")

            def rate(value: str) -> None:
                box.fill(value)
                box.press("Enter")

            loads = state(tab, f"{RACE}.loads")
            rate("0.0123")
            tab.wait_for_function(f"n => {RACE}.loads > n", arg=loads)
            assert note.count() == 0 or note.is_hidden()
            paid = state(tab, f"[{RACE}.loads, {RACE}.racers[0].label]")
            assert "0.0123" in paid[1]

            rate("0.0321")
            note.wait_for(state="visible")
            text = note.inner_text()
            wait = re.search(r"Try again in (\d+) (s|min|h) ", text)
            assert "busy" in text and wait and int(wait.group(1)) >= 1
            # Nothing changed: the race on the page is the last one that ran.
            assert state(tab, f"[{RACE}.loads, {RACE}.racers[0].label]") == paid

            # A request that gets through (a cached race costs nothing) takes the notice away.
            rate("0.0123")
            note.wait_for(state="hidden")
            # The console's only errors are the refusal itself (Chromium's 429, Dash's report).
            others = [p for p in tab.problems if "429" not in p and "retry in" not in p]
            assert others == []
        finally:
            context.close()


def test_a_change_refused_for_running_too_much_at_once_is_sent_again(page):
    """A 429 with a short Retry-After (this address already runs as many computations as it
    may: the page's own requests overlapped) is sent again after the wait, so the change
    lands; the person sees the notice meanwhile, not a dropped edit."""
    refused = []

    def once(route):
        if not refused:
            refused.append(route.request.post_data)
            route.fulfill(
                status=429,
                headers={"Retry-After": "1", "Content-Type": "text/html"},
                body="this client already has as many computations running as it may; retry",
            )
        else:
            route.continue_()

    page.route("**/_dash-update-component*", once)
    box = page.locator(control("racer-lr", 0))
    box.fill("0.0234")
    box.press("Enter")
    page.locator("#busy-note").wait_for(state="visible")
    page.wait_for_function(f"() => {RACE}.racers[0].label.includes('0.0234')")
    assert len(refused) == 1  # refused once, then the same request again got through
    page.locator("#busy-note").wait_for(state="hidden")
    page.unroute("**/_dash-update-component*")
