"""When the server refuses the page (429: the client's work budget or request limit is spent),
the page says so, says how long to wait, and keeps the last race (assets/busy.js)."""

from __future__ import annotations

import json
import re

from tests.live import RACE, READY, VIEWPORT, control, serve, state

UPDATE = "/_dash-update-component"


def test_a_refused_change_says_why_and_how_long_and_keeps_the_race(browser):
    from app import create_app

    # The page's opening makes two callback requests; one change more is allowed, then the
    # limit refuses for the rest of the minute. (A work budget that pays one race and not the
    # next depends on how much CPU the page's opening took, which web/metering.py charges.)
    app = create_app({"RATE_LIMIT": "3 per minute"})
    with serve(app.server) as url:
        context = browser.new_context(viewport=VIEWPORT)
        tab = context.new_page()
        tab.problems = []
        tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
        callbacks = []
        tab.on("request", lambda r: callbacks.append(r) if UPDATE in r.url else None)
        tab.goto(url)
        tab.wait_for_function(READY)
        try:
            assert len(callbacks) == 2, [r.post_data[:80] for r in callbacks]
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
            assert "not computed" in text and wait and int(wait.group(1)) >= 1
            # Nothing changed: the race on the page is the last one that ran.
            assert state(tab, f"[{RACE}.loads, {RACE}.racers[0].label]") == paid
            # The console's only errors are the refusal itself (Chromium's 429, Dash's report).
            others = [p for p in tab.problems if "429" not in p and "retry" not in p]
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


ASK = """output => fetch("/_dash-update-component", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({output: output, inputs: [], changedPropIds: []}),
}).then(r => r.status)"""


def test_the_notice_goes_only_when_the_refused_kind_of_request_gets_through(page):
    """A refused sweep stays refused while the race beside it goes through (a try-out saw the
    notice taken away by the race's success, the sweep's stale result left on screen without a
    word); it goes once the same callback gets through."""
    answers = {"sweep-store.data": 429, "race-store.data": 200}

    def answer(route):
        output = json.loads(route.request.post_data)["output"]
        status = answers[output]
        route.fulfill(
            status=status,
            headers={"Retry-After": "30", "Content-Type": "application/json"},
            body="{}" if status == 200 else '{"error": "retry in about 30 s"}',
        )

    page.route("**/_dash-update-component*", answer)
    note = page.locator("#busy-note")
    assert page.evaluate(ASK, "sweep-store.data") == 429
    note.wait_for(state="visible")
    assert page.evaluate(ASK, "race-store.data") == 200
    assert note.is_visible()  # the race's success says nothing of the sweep
    answers["sweep-store.data"] = 200
    assert page.evaluate(ASK, "sweep-store.data") == 200
    note.wait_for(state="hidden")
    page.unroute("**/_dash-update-component*")
