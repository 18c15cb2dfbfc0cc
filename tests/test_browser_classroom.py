"""Classroom features in a real headless Chromium: share links, embeds, presentation mode,
the step inspector, equations and exports."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from optimizers.race import run_race
from optimizers.trace import trace_racer
from service.share import decode_race
from tests.conftest import require_file
from tests.live import RACE, VIEWPORT, control, open_tab, space_plays_and_pauses, state

SHOTS = os.environ.get("CLASSROOM_SHOTS")  # a folder for screenshots of the checked screens
SYNCED = "() => new URLSearchParams(location.search).get('step') === '{step}'"


def paths(tab):
    return state(tab, f"{RACE}.racers.map(r => [r.label, Array.from(r.x), Array.from(r.y)])")


def ranges(tab):
    return state(
        tab,
        "(() => { const l = document.querySelector('#race-graph .js-plotly-plot').layout;"
        " return [l.xaxis.range, l.yaxis.range]; })()",
    )


def test_a_share_link_restores_the_whole_state(page, browser):
    # Change the race, the playback step, the zoom and the inspected racer.
    box = page.locator(control("racer-lr", 2))
    box.fill("0.0234")
    box.press("Enter")
    label = page.locator(control("racer-label", 1))
    label.fill("heavy ball")
    label.press("Enter")
    page.fill("#noise-std", "0.3")
    page.press("#noise-std", "Enter")
    page.wait_for_function(f"() => {RACE}.racers[1].label === 'heavy ball'")
    page.wait_for_function(f"() => {RACE}.race.share && {RACE}.racers[2].label.includes('0.0234')")
    page.evaluate(
        "Plotly.relayout(document.querySelector('#race-graph .js-plotly-plot'),"
        " {'xaxis.range': [-1.75, 1.25], 'yaxis.range': [-0.5, 2.5]})"
    )
    page.select_option("#inspect-select", "3")
    for _ in range(7):
        page.click("#step-forward")
    page.wait_for_function(SYNCED.format(step=7))
    page.wait_for_function(
        "() => location.search.includes('x=') && location.search.includes('inspect=3')"
    )
    before = paths(page)
    link = page.url
    query = parse_qs(urlsplit(link).query)
    assert decode_race(query["race"][0]).noise.std == 0.3
    assert page.input_value("#share-link") == link

    context, tab = open_tab(browser, link)
    tab.wait_for_function(f"() => {RACE}.step === 7 && {RACE}.trace")
    assert paths(tab) == before  # same racers, same paths, point for point
    assert ranges(tab) == [[-1.75, 1.25], [-0.5, 2.5]]
    assert tab.input_value(control("racer-lr", 2)) == "0.0234"
    assert tab.input_value(control("racer-label", 1)) == "heavy ball"
    assert tab.input_value("#noise-std") == "0.3"
    assert tab.input_value("#inspect-select") == "3"
    assert tab.inner_text("#step-label") == "step 7 / 1000"
    assert tab.problems == []
    context.close()


def test_copy_link_puts_the_address_on_the_clipboard(browser, live):
    context, tab = open_tab(browser, live[0], permissions=["clipboard-read", "clipboard-write"])
    tab.wait_for_function("() => location.search.includes('race=')")
    tab.click("#copy-link")
    tab.wait_for_function("() => document.getElementById('tool-status').textContent !== ''")
    assert tab.evaluate("navigator.clipboard.readText()") == tab.url
    assert tab.inner_text("#tool-status") == "Link copied."
    context.close()


@pytest.mark.parametrize(
    ("flags", "hidden", "shown"),
    [
        ("settings,racers", [".settings", ".racers"], ["#race-graph", ".side", ".playback"]),
        (
            "header,charts,toolbar",
            ["header", ".charts", "#leaderboard", ".toolbar"],
            ["#race-graph", ".racers", "#quick-controls"],
        ),
        ("controls,playback,lessons", [".controls", ".playback", ".lessons"], [".toolbar"]),
        ("racers,bogus,racers", [".racers"], [".settings", "header"]),
    ],
)
def test_embed_flags_hide_what_they_name(browser, live, flags, hidden, shown):
    context, tab = open_tab(browser, f"{live[0]}/?hide={flags}")
    for selector in hidden:
        assert not tab.locator(selector).first.is_visible(), selector
    for selector in shown:
        assert tab.locator(selector).first.is_visible(), selector
    tab.wait_for_function("() => location.search.includes('race=')")
    kept = parse_qs(urlsplit(tab.url).query)["hide"][0].split(",")
    assert "bogus" not in kept and len(kept) == len(set(kept))  # the link keeps valid flags
    context.close()


def focus_ring(tab, presses: int) -> list[str]:
    seen = []
    for _ in range(presses):
        tab.keyboard.press("Tab")
        seen.append(
            tab.evaluate(
                "(() => { const e = document.activeElement;"
                " return e.id || e.getAttribute('role') || e.outerHTML.slice(0, 80); })()"
            )
        )
    return seen


def test_presentation_mode_fills_the_screen_and_works_from_the_keyboard(page):
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("p")
    page.wait_for_function("() => document.documentElement.classList.contains('presenting')")
    page.wait_for_function(
        "() => document.querySelector('#race-graph .js-plotly-plot')._fullLayout.font.size === 22"
    )
    # The map fills the screen's height beside the quick controls and the ranking; the
    # settings and cards wait below.
    box = page.locator("#race-graph").bounding_box()
    assert box["width"] > 0.55 * VIEWPORT["width"] and box["height"] > 0.7 * VIEWPORT["height"]
    assert not page.locator(".controls").is_visible()
    assert (
        page.locator("#quick-controls").is_visible() and page.locator("#leaderboard").is_visible()
    )
    assert page.get_attribute("#present-button", "aria-pressed") == "true"
    # Large type and markers: the playback buttons and the racer heads grow.
    font = page.evaluate(
        "parseFloat(getComputedStyle(document.getElementById('play-button')).fontSize)"
    )
    assert font >= 22
    # Everything on screen is reachable with Tab, and the keys drive playback.
    ring = focus_ring(page, 30)  # past the map's own toolbar (Plotly's modebar)
    for target in (
        "present-button",
        "handoff-button",
        "play-button",
        "step-back",
        "step-forward",
        "slider",
    ):
        assert target in ring, (target, ring)
    page.locator("body").click(position={"x": 5, "y": 5})
    space_plays_and_pauses(page)
    step = state(page, f"{RACE}.step")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => {RACE}.step === {step + 1}")
    page.wait_for_function("() => location.search.includes('present=1')")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.documentElement.classList.contains('presenting')")
    assert page.locator(".controls").is_visible()
    assert page.problems == []


def test_the_inspector_shows_the_engines_state_at_the_step(page):
    page.select_option("#inspect-select", "3")  # Adam
    page.wait_for_function(f"() => {RACE}.trace")
    for _ in range(5):
        page.click("#step-forward")
    page.wait_for_function(f"() => {RACE}.step === 5")
    shown = page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('#inspect-panel tr[data-name]'))"
        ".map(r => [r.dataset.name, Array.from(r.querySelectorAll('td[data-value]'))"
        ".map(c => Number(c.dataset.value))]))"
    )
    config = decode_race(parse_qs(urlsplit(page.url).query)["race"][0])
    trace = trace_racer(config, 3)
    row = 5  # the step that leaves x_5
    assert shown["point"] == trace.path[5].tolist()
    assert shown["gradient"] == trace.gradient[row].tolist()
    assert shown["clip_factor"] == [trace.clip_factor[row]]
    assert shown["lr"] == [trace.lr[row]]
    for name in ("m", "v"):
        assert shown[name] == trace.state[name][row].tolist(), name
    for name in ("m_hat", "v_hat", "effective_lr"):
        assert shown[name] == trace.derived[name][row].tolist(), name
    assert shown["bias_correction1"] == [trace.derived["bias_correction1"][row][0]]
    assert shown["step"] == (trace.path[6] - trace.path[5]).tolist()
    assert "arrows" in page.inner_text("#inspect-panel").lower()
    page.select_option("#inspect-select", "")
    page.wait_for_function("() => document.getElementById('inspect-panel').hidden")


def open_rules(page):
    """Unfold every racer's update rule (folded by default, typeset when opened)."""
    page.evaluate("() => document.querySelectorAll('.equation').forEach(d => { d.open = true; })")


def test_each_racer_shows_its_update_rule_in_mathjax(page):
    open_rules(page)
    first = page.locator(control("racer-equation", 3))
    first.locator("mjx-container").first.wait_for()
    assert page.locator(".equation mjx-container").count() >= 4
    box = page.locator(control("racer-lr", 3))
    box.fill("0.0456")
    box.press("Enter")
    page.wait_for_function(
        '() => document.getElementById(\'{"index":3,"type":"racer-equation"}\')'
        ".textContent.includes('0.0456')"
    )
    assert page.problems == []


def test_noise_adds_its_term_to_every_rule_one_rule_per_frame(page):
    open_rules(page)
    page.wait_for_function("() => document.querySelectorAll('.equation mjx-container').length >= 4")
    # The animation frame in which each rule first shows the noise term ξ.
    page.evaluate(
        """() => { window.__rules = {}; window.__frame = 0;
        const tick = () => { __frame++; requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
        document.querySelectorAll('.equation').forEach((box, i) => new MutationObserver(() => {
          if (!(i in __rules) && box.querySelector('mjx-container')
              && box.textContent.includes('ξ')) __rules[i] = __frame;
        }).observe(box, {subtree: true, childList: true, characterData: true}));
    }"""
    )
    page.fill("#noise-std", "0.5")
    page.press("#noise-std", "Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.equation mjx-container')].filter("
        "m => m.textContent.includes('ξ')).length >= 4"
    )
    for i in range(4):
        rule = page.locator(control("racer-equation", i))
        assert "gradient noise" in rule.inner_text()
    frames = state(page, "__rules")
    assert sorted(frames) == ["0", "1", "2", "3"]
    assert len(set(frames.values())) == 4, frames  # no two rules typeset in the same frame
    assert page.problems == []


def test_exports_json_csv_png_and_pytorch(page):
    page.wait_for_function("() => location.search.includes('race=')")
    config = decode_race(parse_qs(urlsplit(page.url).query)["race"][0])
    result = run_race(config)
    page.click(".export-menu summary")
    with page.expect_download() as download:
        page.click("#export-json")
    body = json.loads(open(download.value.path()).read())
    assert [r["path"] for r in body["racers"]] == [r.path.tolist() for r in result.racers]
    with page.expect_download() as download:
        page.click("#export-csv a >> nth=1")
    assert download.value.suggested_filename == "racer-2.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert [[float(r["x"]), float(r["y"])] for r in rows] == result.racers[1].path.tolist()
    with page.expect_download() as download:
        page.click("#export-png")
    png = open(download.value.path(), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 800 and height > 500
    # The markers are in the picture: each racer's, where the map draws it (at step 0, fanned
    # out about the start: issue 25, item 16), is painted in its colour.
    painted = page.evaluate(
        f"(() => {{ const c = {RACE}.exported;"
        " const fl = document.querySelector('#race-graph .js-plotly-plot')._fullLayout;"
        f" return {RACE}.drawnHeads.map(h => Array.from(c.getContext('2d').getImageData("
        " Math.round((fl.xaxis._offset + h.px) * 2), Math.round((fl.yaxis._offset + h.py) * 2),"
        " 1, 1).data)); })()"
    )
    colours = state(page, f"{RACE}.racers.map(r => r.color)")
    rgb = [[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours]
    assert all(np.allclose(p[:3], c, atol=40) for p, c in zip(painted, rgb, strict=True)), (
        painted,
        rgb,
    )
    page.click(control("racer-pytorch", 3))
    page.wait_for_function("() => document.getElementById('code-dialog').open")
    code = page.inner_text("#code-text")
    assert "torch.optim.Adam" in code and "path" in code
    page.click("#close-code")
    assert page.problems == []


GL3D = Path(__file__).resolve().parent.parent / "assets" / "vendor" / "plotly-gl3d.min.js"


COLOURS_3D = """async () => {
  const el = document.getElementById('race-3d');
  const P = window.optimizerRace.use('view3d').plotly;
  const url = await P.toImage(el, {format: 'png', width: 300, height: 300});
  const img = new Image();
  await new Promise(done => { img.onload = done; img.src = url; });
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 300;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, 300, 300).data, seen = new Set();
  for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size;
}"""


def test_the_3d_view_shows_the_surface_and_follows_playback(page):
    require_file(GL3D, "scripts/vendor-plotly.sh")
    page.check("input[name='view-select'][value='3d']")
    page.wait_for_function(f"() => {RACE}.use('view3d').drawn === 0")
    assert page.locator("#race-3d").is_visible() and not page.locator("#race-graph").is_visible()
    kinds = state(page, "document.getElementById('race-3d')._fullData.map(t => t.type)")
    assert kinds[0] == "surface" and kinds.count("scatter3d") == 2 * 4
    # WebGL drew something: an image of the scene holds many colours, not a blank canvas.
    colours = page.evaluate(COLOURS_3D)
    assert colours > 100, colours
    for _ in range(3):
        page.click("#step-forward")
    page.wait_for_function(f"() => {RACE}.use('view3d').drawn === 3")
    lines = "document.getElementById('race-3d').data.filter(t => t.mode === 'lines')"
    assert state(page, f"{lines}.map(t => t.x.length)") == [4, 4, 4, 4]
    page.wait_for_function("() => location.search.includes('view=3d')")  # in the link
    # The page's own Plotly is still the cartesian one, and the map comes back.
    assert state(page, "window.Plotly !== window.optimizerRace.use('view3d').plotly")
    page.check("input[name='view-select'][value='2d']")
    page.wait_for_function("() => !document.documentElement.classList.contains('view-3d')")
    assert page.locator("#race-graph").is_visible()
    assert page.problems == []


def test_a_3d_link_opens_in_3d(browser, live):
    require_file(GL3D, "scripts/vendor-plotly.sh")
    context, tab = open_tab(browser, f"{live[0]}/?view=3d&step=12")
    tab.wait_for_function(f"() => {RACE}.use('view3d').drawn === 12")
    assert tab.is_checked("input[name='view-select'][value='3d']")
    context.close()


def test_a_shared_race_opened_in_present_mode_is_that_race(browser, live):
    """A teacher's ``?race=…&present=1`` link: the page opens presenting the linked race (the
    address was once rewritten before Dash asked for the race, which then opened the opening
    race). The CPU is slowed as on a classroom laptop, so that the page's scripts take as long
    as they do there before Dash asks for its layout."""
    from tests.live import READY, race_link

    race = {"surface": {"name": "himmelblau"}, "racers": [{"optimizer": "adam", "lr": 0.05}]}
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        tab = context.new_page()
        cdp = context.new_cdp_session(tab)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        asked = []
        tab.on(
            "request",
            lambda r: (
                asked.append(r.headers.get("referer", "")) if "_dash-layout" in r.url else None
            ),
        )
        tab.goto(live[0] + race_link(race, "&present=1"))
        tab.wait_for_function(READY, timeout=60000)
        assert asked and all("race=" in referer for referer in asked)
        shown = state(tab, f"[{RACE}.surface.name, {RACE}.racers.length, {RACE}.presenting]")
        assert shown == ["himmelblau", 1, True]
        query = parse_qs(urlsplit(tab.url).query)
        assert query["present"] == ["1"] and decode_race(query["race"][0]).surface.name == (
            "himmelblau"
        )
    finally:
        context.close()


# Every button and piece of text in the open students' link dialog: its box and font size.
DIALOG_READ = """() => {
  const dialog = document.getElementById('handoff-dialog'), d = dialog.getBoundingClientRect();
  const buttons = [...dialog.querySelectorAll('button')].map(b => {
    const r = b.getBoundingClientRect();
    return {text: b.textContent, w: r.width, h: r.height,
            font: parseFloat(getComputedStyle(b).fontSize)};
  });
  const texts = [...dialog.querySelectorAll('h2, p, a, button')]
    .filter(e => e.textContent.trim() && e.getClientRects().length)
    .map(e => [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)]);
  return {buttons, small: texts.filter(([, size]) => size < 16),
          inside: d.top >= 0 && d.left >= 0 && d.bottom <= innerHeight && d.right <= innerWidth};
}"""


@pytest.mark.parametrize(
    "size", [{"width": 1024, "height": 768}, {"width": 1280, "height": 720}], ids=str
)
def test_in_present_the_students_link_dialogs_buttons_are_large(browser, live, size):
    """Issue 25 (session 13): in Present the dialog's Copy link and Close were the browser's
    13 px buttons, 21 px tall. Targets of 44 px and type of 16 px or more, on the screen."""
    context, tab = open_tab(browser, live[0] + "/?lesson=ravine&beat=1&present=1", viewport=size)
    try:
        tab.click("#handoff-button")
        tab.wait_for_function(
            "() => document.getElementById('handoff-dialog').open &&"
            " document.querySelector('#handoff-code img') &&"
            " document.querySelector('#handoff-code img').complete"
        )
        seen = state(tab, f"({DIALOG_READ})()")
        assert [b["text"] for b in seen["buttons"]] == ["Copy link", "Close"]
        for button in seen["buttons"]:
            assert button["h"] >= 44 and button["w"] >= 44, button
            assert button["font"] >= 16, button
        assert seen["small"] == []
        assert seen["inside"]  # the QR code, the link and the buttons all on the screen
        if SHOTS:
            tab.screenshot(path=f"{SHOTS}/handoff-{size['width']}x{size['height']}.png")
        tab.click("#handoff-dialog button:has-text('Close')")
        tab.wait_for_function("() => !document.getElementById('handoff-dialog').open")
        assert tab.problems == []
    finally:
        context.close()


HANDOFF_DRAWN = (
    "() => document.getElementById('handoff-dialog').open &&"
    " document.querySelector('#handoff-code img') &&"
    " document.querySelector('#handoff-code img').complete"
)
LOCAL_NOTE = "#handoff-dialog .handoff-local"


@pytest.mark.parametrize(
    "size",
    [
        {"width": 1024, "height": 768},
        {"width": 1280, "height": 720},
        {"width": 1400, "height": 900},
    ],
    ids=str,
)
def test_the_students_link_on_a_loopback_address_says_phones_cannot_open_it(browser, live, size):
    """Issue 25 (session 13, round 2): served on 127.0.0.1 the QR code and the link point at
    the teacher's own computer, which no phone reaches, and nothing said so; and "Scan to follow
    along" promised a live follow. The dialog now says, in one line, what to do, and what the
    code opens (this beat, a copy of it)."""
    present = "&present=1" if size["width"] < 1400 else ""
    context, tab = open_tab(browser, live[0] + "/?lesson=ravine&beat=1" + present, viewport=size)
    try:
        tab.click("#handoff-button")
        tab.wait_for_function(HANDOFF_DRAWN)
        port = urlsplit(live[0]).port
        assert f"127.0.0.1:{port}" in tab.inner_text("#handoff-link")
        note = tab.locator(LOCAL_NOTE)
        assert note.is_visible()
        text = note.inner_text()
        assert "127.0.0.1" in text and "phones" in text.lower()
        assert "HOST=0.0.0.0" in text and "PUBLIC_HOSTS=" in text and f":{port}" in text
        hint = tab.inner_text("#handoff-dialog .handoff-hint")
        assert "follow along" not in hint and "this beat" in hint
        assert "does not follow" in hint
        seen = state(tab, f"({DIALOG_READ})()")
        assert seen["inside"], seen  # the note, the code, the link and the buttons on screen
        assert not present or seen["small"] == [], seen  # Present's 16 px floor
        fonts = note.evaluate(
            "n => [n, ...n.querySelectorAll('*')]"
            ".map(e => parseFloat(getComputedStyle(e).fontSize))"
        )
        assert min(fonts) >= 16, fonts
        box = note.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
        if SHOTS:
            tab.screenshot(path=f"{SHOTS}/handoff-loopback-{size['width']}x{size['height']}.png")
        assert tab.problems == []
    finally:
        context.close()


def test_the_students_link_on_a_network_address_has_no_loopback_note(browser):
    """Served on the network (HOST=0.0.0.0, PUBLIC_HOSTS naming this computer's address) and
    opened by that address, the dialog shows the code with no loopback warning."""
    import socket
    import threading

    from werkzeug.serving import make_server

    from app import create_app
    from tests.live import free_port

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: it picks the outgoing address
        address = probe.getsockname()[0]
    assert not address.startswith("127."), "this computer has no network address"
    port = free_port()
    app = create_app({"PUBLIC_HOSTS": f"{address}:{port}"})
    server = make_server("0.0.0.0", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        context, tab = open_tab(browser, f"http://{address}:{port}/?lesson=ravine&beat=1")
        try:
            tab.click("#handoff-button")
            tab.wait_for_function(HANDOFF_DRAWN)
            assert f"{address}:{port}" in tab.inner_text("#handoff-link")
            assert not tab.locator(LOCAL_NOTE).is_visible()
            assert "this beat" in tab.inner_text("#handoff-dialog .handoff-hint")
        finally:
            context.close()
    finally:
        server.shutdown()
        thread.join()
