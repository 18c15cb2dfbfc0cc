"""The page measured in Debian's headless Chromium (``make bench``, after install-system.sh).

Every figure is a median over ``REPEATS`` samples, each beside a reference measured in the same
run, given as a ratio:

* rate change → new path drawn, beside the server's own time for that update (the rest is
  the round trip and drawing);
* paths redrawn per second while a quick-control rate slider is dragged (drag previews,
  web/preview.py), beside the values the slider gave per second (the drag's ceiling: one
  path per value; the test driver's pace sets it);
* bytes of a one-racer update, beside the bytes of the whole race;
* server time per update (uncached), beside the engine alone running that racer;
* frames per second playing 8 racers × 1,000 steps, beside the frame rate the same browser
  gives an empty animation loop (the display's ceiling);
* first race drawn after navigation, beside the browser's DOMContentLoaded.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import time

from playwright.sync_api import sync_playwright

from app import create_app
from bench.report import load_note, stamp, write_section
from optimizers import run_race
from tests.dash_requests import opening_controls, post, race_body
from tests.live import READY, VIEWPORT, control, launch, serve

REPEATS = 20
RACE = "window.optimizerRace"


def rate_changes(page) -> tuple[list[float], list[int]]:
    """Milliseconds from typing a new rate to its path on screen, and response bytes."""
    sizes: list[int] = []

    def sized(response) -> None:
        if "_dash-update-component" in response.url:
            try:
                body = response.body()
            except Exception:  # a response the page abandoned has no body to read
                return
            if b"race-store" in body:
                sizes.append(len(body))

    page.on("response", sized)
    times = []
    box = page.locator(control("racer-lr", 1))
    for i in range(REPEATS):
        lr = f"{1e-3 * (1.05 + i / 50):.6g}"  # a new rate every time: never a cache hit
        box.fill(lr)
        t0 = page.evaluate("() => performance.now()")
        box.press("Enter")
        page.wait_for_function(
            f"t0 => {RACE}.loadedAt > t0 && {RACE}.drawnAt > {RACE}.loadedAt", arg=t0
        )
        times.append(page.evaluate(f"() => {RACE}.drawnAt") - t0)
    page.remove_listener("response", sized)
    return times, sizes


def drag_redraws(page) -> tuple[float, float]:
    """(paths drawn per second during a drag of racer 1's quick rate slider, values the slider
    gave per second: the drag's own ceiling, which the test driver's pace sets)."""
    slider = page.locator("#quick-controls .quick-row[data-racer='1'] .quick-rate")
    page.evaluate("() => window.scrollTo(0, 0)")  # typing in a card scrolled the page down
    slider.evaluate("s => { s.values = 0; s.addEventListener('input', () => { s.values += 1; }); }")
    b = slider.bounding_box()
    y = b["y"] + b["height"] / 2
    page.mouse.move(b["x"] + b["width"] * 0.30, y)
    page.mouse.down()
    drawn = f"() => {RACE}.loads + {RACE}.previews"  # races loaded and drag previews drawn
    loads = page.evaluate(drawn)
    t0 = time.perf_counter()
    moves = 120  # a hand's pace: a new position every ~16 ms for about two seconds
    for i in range(moves):
        page.mouse.move(b["x"] + b["width"] * (0.30 + 0.35 * i / moves), y)
        page.wait_for_timeout(16)
    seconds = time.perf_counter() - t0
    paths = page.evaluate(drawn) - loads
    values = slider.evaluate("s => s.values")
    page.mouse.up()
    return paths / seconds, values / seconds


def server_updates(app) -> tuple[list[float], list[float], int]:
    """Server ms per uncached one-racer update, the engine alone, and the whole race's bytes."""
    client = app.server.test_client()
    racers = opening_controls()
    first = post(client, race_body(client, racers, steps=1000))
    whole = len(first.data)
    keys = first.get_json()["response"]["race-keys"]["data"]
    served, engine = [], []
    for i in range(REPEATS):
        racers[1]["lr"] = 1e-3 * (2.05 + i / 50)
        body = race_body(client, racers, steps=1000, keys=keys)
        start = time.perf_counter()
        post(client, body)
        served.append((time.perf_counter() - start) * 1e3)
        config = {
            "surface": {"name": "rosenbrock"},
            "steps": 1000,
            "racers": [{"optimizer": "momentum", "lr": racers[1]["lr"]}],
        }
        start = time.perf_counter()
        run_race(config).to_json()
        engine.append((time.perf_counter() - start) * 1e3)
    return served, engine, whole


def frame_rates(page) -> tuple[float, float]:
    """(fps playing 8 racers × 1,000 steps, fps of an empty rAF loop), medians of intervals."""
    for _ in range(4):
        count = page.evaluate(f"() => {RACE}.racers.length")
        page.click("#add-racer")
        page.wait_for_function(f"n => {RACE}.racers.length > n", arg=count)
    # Looping: on a slow machine the race may end before enough frames are logged.
    page.locator("#loop-toggle input").check()
    page.wait_for_function(f"() => {RACE}.loop")
    page.evaluate(f"() => {{ {RACE}.frameLog = []; {RACE}.speed = 2; }}")
    page.click("#play-button")
    page.wait_for_function(f"() => {RACE}.frameLog.length > {REPEATS * 10}")
    page.click("#play-button")
    playing = page.evaluate(f"() => {RACE}.frameLog")
    idle = page.evaluate(
        "n => new Promise(done => { const log = [];"
        " const tick = t => { log.push(t); if (log.length > n) done(log);"
        " else requestAnimationFrame(tick); }; requestAnimationFrame(tick); })",
        REPEATS * 10,
    )

    def fps(log: list[float]) -> float:
        gaps = [b - a for a, b in itertools.pairwise(log)]
        return 1000.0 / statistics.median(gaps)

    return fps(playing), fps(idle)


def first_draws(browser, url: str) -> tuple[list[float], list[float], list[int]]:
    """ms to the first drawn race, ms to DOMContentLoaded, and bytes transferred per load."""
    drawn, loaded, transferred = [], [], []
    for _ in range(REPEATS):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function(READY)
        drawn.append(page.evaluate(f"() => {RACE}.drawnAt"))
        loaded.append(
            page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
            )
        )
        transferred.append(
            page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].transferSize +"
                " performance.getEntriesByType('resource').reduce((s, e) => s + e.transferSize, 0)"
            )
        )
        context.close()
    return drawn, loaded, transferred


def main() -> None:
    load = os.getloadavg()[0]
    app = create_app({})
    med = statistics.median
    with serve(app.server) as url, sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function(READY)
        change_ms, change_bytes = rate_changes(page)
        drag_rate, drag_values = drag_redraws(page)
        playing_fps, idle_fps = frame_rates(page)
        context.close()
        drawn, loaded, transferred = first_draws(browser, url)
        browser.close()
    served, engine, whole = server_updates(app)

    rows = [
        (
            "rate change → new path drawn (ms)",
            med(change_ms),
            "server time (ms)",
            med(served),
            "≤ 150",
            med(change_ms) <= 150,
        ),
        (
            "bytes of a one-racer update (KB)",
            med(change_bytes) / 1e3,
            "whole race (KB)",
            whole / 1e3,
            "≤ 60",
            med(change_bytes) / 1e3 <= 60,
        ),
        (
            "quick slider drag: paths drawn per second",
            drag_rate,
            "values the drag gave per second",
            drag_values,
            "≥ 10",
            drag_rate >= 10,
        ),
        ("server time per update (ms)", med(served), "engine alone (ms)", med(engine), "", None),
        (
            "playback, 8 racers × 1,000 steps (fps)",
            playing_fps,
            "empty rAF loop (fps)",
            idle_fps,
            "≥ 55",
            playing_fps >= 55,
        ),
        (
            "first race drawn after navigation (ms)",
            med(drawn),
            "DOMContentLoaded (ms)",
            med(loaded),
            "≤ 1,500",
            med(drawn) <= 1500,
        ),
        ("bytes transferred per page load (KB)", med(transferred) / 1e3, "", None, "", None),
    ]
    lines = [
        "## The page in Chromium",
        "",
        f"{stamp()}; Debian Chromium headless (software rendering), viewport "
        f"{VIEWPORT['width']}×{VIEWPORT['height']}; app on Flask's threaded dev server.",
        f"Medians of {REPEATS} samples; each beside a reference from the same run.",
        "Update bytes are response bodies as Chromium received them (no compression); the whole",
        "race is the first race's response, contour included.",
        load_note(load),
        "",
        "| measure | ours | reference | ref. value | ratio | target | |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for name, mine, ref_name, ref, target, ok in rows:
        ratio = "" if not ref else f"{mine / ref:.2f}"
        verdict = "" if ok is None else ("met" if ok else "missed")
        shown_ref = "" if ref is None else f"{ref:.1f}"
        lines.append(
            f"| {name} | {mine:.1f} | {ref_name} | {shown_ref} | {ratio} | {target} | {verdict} |"
        )
    for line in lines[7:]:
        print(line)
    write_section("browser", lines)
    print(json.dumps({"change_ms": change_ms[:5], "bytes": change_bytes[:5]}))


if __name__ == "__main__":
    main()
