"""A class behind one school address (issue 24, finding 4), through the production stack as
`make serve` runs it (nginx in front of gunicorn, scripts/serve.sh).

Before sessions, 27 of 30 `/_dash-layout` requests and 147 of 150 quick-slider previews got
429: the whole class was one client. Now:

- real headless Chromium tabs behind one address (each browser context its own cookie jar,
  so its own session) open a lesson and drag a quick slider while that address's own
  allowance is spent: every page loads and every preview is drawn;
- thirty students behind one address, replaying what such a tab sent (its page, layout,
  scripts, callbacks and a drag's previews, one in flight as the page sends them), all at
  once at make serve's defaults: every page loads and at least 95% of the previews are
  answered (thirty real tabs need far more than two cores: ~80 s each to get ready here);
- an address without cookies is limited as before, by nginx and by the app, and made-up
  cookies (which nginx cannot tell from real ones) buy nothing in the app.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_executable, require_module
from tests.live import CHROMIUM, READY, VIEWPORT, launch
from tests.test_production_stack import Stack
from web.session import COOKIE

STUDENTS = 30
TABS = 4  # real browsers: as many as two shared cores open in well under a minute
MOVES = 5  # slider positions per drag after the press, each once the last one is answered
LESSON = "/?lesson=ravine"
SLIDER = "#quick-controls .quick-row[data-racer='0'] .quick-rate"
RACE = "window.optimizerRace"
PREVIEW = "/_race-preview"
UPDATE = "/_dash-update-component"
# Spent by the browsers' address before they open the page: a window longer than the test.
SPENT_LIMIT = "40 per hour"
STEP_MS = 90_000  # generous: the machine's two cores are shared (each failure names its step)
REPLAYED = ("accept", "accept-encoding", "content-type", "referer", "user-agent")


def is_preview(response) -> bool:
    return urlsplit(response.url).path == PREVIEW


def made_up(i: int) -> str:
    """An ``or_session`` value of the real shape (nginx's test) that nobody signed."""
    return f"{i:022d}.{'B' * 43}"


async def student(browser, base: str, record: dict) -> None:
    """One student: opens the lesson, drags racer 0's quick rate slider (pressed, then MOVES
    positions, each once the previous preview was answered: the slider's own pace) and lets
    go. ``record`` gets what the tab's requests got, every request it sent, its cookie and
    how many previews it drew."""
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        tab = await context.new_page()
        statuses = record["statuses"] = Counter()
        sent = record["sent"] = []
        tab.on("response", lambda r: statuses.update([(urlsplit(r.url).path, r.status)]))
        tab.on("request", lambda r: sent.append((r.method, r.url, r.headers, r.post_data)))
        await tab.goto(base + LESSON, timeout=STEP_MS)
        await tab.wait_for_function(READY, timeout=STEP_MS)
        record["cookie"] = [c["value"] for c in await context.cookies() if c["name"] == COOKIE]
        box = await tab.locator(SLIDER).bounding_box()
        y = box["y"] + box["height"] / 2
        drawn = await tab.evaluate(f"() => {RACE}.previews")
        loads = await tab.evaluate(f"() => {RACE}.loads")
        await tab.mouse.move(box["x"] + box["width"] * 0.30, y)
        answered = 0
        for i in range(MOVES + 1):  # the press moves the slider to the pointer: a preview too
            async with tab.expect_response(is_preview, timeout=STEP_MS) as answer:
                if i == 0:
                    await tab.mouse.down()
                else:
                    await tab.mouse.move(box["x"] + box["width"] * (0.30 + 0.05 * i), y)
            answered += (await answer.value).ok
        # Every preview answered is drawn before the release (which would discard it).
        await tab.wait_for_function(
            f"n => {RACE}.previews >= n", arg=drawn + answered, timeout=STEP_MS
        )
        record["previews"] = await tab.evaluate(f"() => {RACE}.previews") - drawn
        await tab.mouse.up()
        await tab.wait_for_function(f"n => {RACE}.loads > n", arg=loads, timeout=STEP_MS)
    finally:
        await context.close()


async def open_tabs(base: str, count: int) -> tuple[list[dict], list[BaseException]]:
    """``count`` students at once in one Chromium: what each recorded, and what failed."""
    from playwright.async_api import async_playwright

    records: list[dict] = [{} for _ in range(count)]
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            outcomes = await asyncio.gather(
                *(student(browser, base, record) for record in records), return_exceptions=True
            )
        finally:
            await browser.close()
    return records, [o for o in outcomes if isinstance(o, BaseException)]


def connect(port: int, source: str) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))


def burst(
    port: int, source: str, method: str, path: str, cookies: list[str | None]
) -> list[tuple[int, dict[str, str]]]:
    """One request per entry of ``cookies`` (the ``or_session`` value it carries, or None)
    on one keep-alive connection from ``source`` (a 127.0.0.x address), a POST carrying an
    empty JSON object or a GET: each answer's status and headers."""
    conn, answers = connect(port, source), []
    try:
        for cookie in cookies:
            headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie is not None else {}
            if method == "POST":
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
            answer = conn.getresponse()
            answer.read()
            answers.append((answer.status, dict(answer.getheaders())))
            if answer.will_close:
                conn.close()
                conn = connect(port, source)
    finally:
        conn.close()
    return answers


def refused_by_app(status: int, headers: dict[str, str]) -> bool:
    """A 429 of the app's limiter (with its X-RateLimit headers), not nginx's (without)."""
    return status == 429 and "X-RateLimit-Limit" in headers


def refused_by_nginx(status: int, headers: dict[str, str]) -> bool:
    return status == 429 and "X-RateLimit-Limit" not in headers


@pytest.fixture(scope="module")
def tabs() -> dict:
    """TABS real Chromium tabs behind 127.0.0.1 (Chromium's address) open the lesson and drag,
    on a stack whose page limit (``SPENT_LIMIT``) that address, without a session, has spent
    first: made-up cookies pass nginx's classroom zone and the app counts them by address."""
    require_executable(CHROMIUM)
    require_module("playwright.async_api")
    stack = Stack({"RATE_LIMIT": SPENT_LIMIT}, workers=5)
    try:
        spent = burst(stack.port, "127.0.0.1", "POST", UPDATE, [made_up(i) for i in range(41)])
        # In a thread of its own: this process may already run Playwright's synchronous API
        # (conftest's Chromium, one per process), whose event loop asyncio.run may not nest in.
        with ThreadPoolExecutor(1) as thread:
            records, failed = thread.submit(asyncio.run, open_tabs(stack.base, TABS)).result()
        after = burst(stack.port, "127.0.0.1", "POST", UPDATE, [made_up(99)])
    finally:
        stack.stop()
    return {"spent": spent, "records": records, "failed": failed, "after": after}


def test_real_browsers_behind_an_address_that_spent_its_allowance_are_served(tabs):
    spent = tabs["spent"]
    assert [code for code, _ in spent[:40]] == [400] * 40  # malformed, counted, answered
    assert refused_by_app(*spent[40]) and refused_by_app(*tabs["after"][0])  # still spent
    records, failed = tabs["records"], tabs["failed"]
    statuses = sum((r.get("statuses", Counter()) for r in records), Counter())
    assert not failed, (failed[:2], statuses)
    assert all(code == 200 for (_, code) in statuses), {
        k: n for k, n in statuses.items() if k[1] != 200
    }
    assert len({value for r in records for value in r["cookie"]}) == TABS  # one session each
    assert statuses[("/", 200)] == TABS and statuses[("/_dash-layout", 200)] >= TABS
    # Every preview drawn; and the page's callbacks and previews, which the address without
    # a session could no longer send, were all answered: each tab was its own client.
    assert [r["previews"] for r in records] == [MOVES + 1] * TABS
    assert statuses[(PREVIEW, 200)] == TABS * (MOVES + 1) and statuses[(UPDATE, 200)] >= TABS


# Thirty students replaying what one tab sent.


def replay_plan(sent: list) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    """A tab's requests after its page (method, path with query, headers, body): the index
    page is asked for separately, without a cookie, to be handed one."""
    plan = []
    for method, url, headers, body in sent:
        parts = urlsplit(url)
        path = parts.path + ("?" + parts.query if parts.query else "")
        if parts.scheme != "http" or path == LESSON:  # a data: URL, or the page itself
            continue
        kept = {k: v for k, v in headers.items() if k.lower() in REPLAYED}
        plan.append((method, path, kept, body.encode() if body is not None else None))
    return plan


def replay(port: int, plan: list, student: int, start: threading.Barrier) -> Counter:
    """One student's page, then ``plan`` with its own cookie, in order on one keep-alive
    connection (previews one at a time, as the page sends them), from 127.0.0.5: the answers'
    (path, status). Each student's previews ask for slightly other rates, so that each is
    computed, not found cached from another student's."""
    got: Counter = Counter()
    conn = connect(port, "127.0.0.5")
    try:
        start.wait()
        conn.request("GET", LESSON, headers={"Accept": "text/html"})
        answer = conn.getresponse()
        answer.read()
        got["/", answer.status] += 1
        cookie = SimpleCookie(answer.getheader("Set-Cookie", ""))
        session = cookie[COOKIE].value if COOKIE in cookie else None
        for method, path, headers, body in plan:
            if path == PREVIEW and body is not None:
                asked = json.loads(body)
                asked["lr"] = asked["lr"] * (1 + (student + 1) / 997)
                body = json.dumps(asked).encode()
            if session is not None:
                headers = {**headers, "Cookie": f"{COOKIE}={session}"}
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            got[urlsplit(path).path, answer.status] += 1
            if answer.will_close:
                conn.close()
                conn = connect(port, "127.0.0.5")
    finally:
        conn.close()
    got["session", session is not None] += 1
    return got


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """make serve's stack at its defaults (five workers: 2 × two cores + 1)."""
    running = Stack({}, workers=5)
    yield running
    if running.proc.poll() is None:
        running.stop()


def test_thirty_students_behind_one_address_open_a_lesson_and_drag_a_slider(tabs, stack):
    plan = replay_plan(tabs["records"][0]["sent"])
    assert sum(1 for _, path, *_ in plan if path == PREVIEW) == MOVES + 1
    start = threading.Barrier(STUDENTS)
    results: list[Counter] = [Counter() for _ in range(STUDENTS)]

    def run(i: int) -> None:
        results[i] = replay(stack.port, plan, i, start)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(STUDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = sum(results, Counter())
    assert got["session", True] == STUDENTS, got  # each student was handed a session
    pages = {key: n for key, n in got.items() if key[0] not in (PREVIEW, "session")}
    failed = {key: n for key, n in pages.items() if key[1] != 200}
    assert not failed, failed  # every page loaded, whole
    assert got["/_dash-layout", 200] == STUDENTS
    previews = {code: n for (path, code), n in got.items() if path == PREVIEW}
    assert sum(previews.values()) == STUDENTS * (MOVES + 1)
    assert previews.get(200, 0) >= 0.95 * STUDENTS * (MOVES + 1), previews


def test_an_address_without_cookies_is_still_limited_as_before(stack):
    """nginx's zone of one client on the computing routes: past COMPUTE_BURST (40) at more
    than COMPUTE_RATE (10 a second) it refuses, itself."""
    started = time.monotonic()
    answers = burst(stack.port, "127.0.0.3", "POST", UPDATE, [None] * 120)
    seconds = time.monotonic() - started
    by_nginx = [h for code, h in answers if refused_by_nginx(code, h)]
    admitted = [code for code, _ in answers if code != 429]
    assert by_nginx, Counter(code for code, _ in answers)
    assert len(admitted) <= 40 + 1 + 10 * seconds, (len(admitted), seconds)


def test_made_up_cookies_pass_nginx_but_the_app_counts_their_address(stack):
    """Made-up ``or_session`` values reach nginx's classroom zone; the app finds no session in
    them and counts their address at one client's API_RATE_LIMIT (120 a minute), a new
    made-up value per request or not. Real sessions would each have had 120."""
    answers = burst(
        stack.port, "127.0.0.4", "GET", "/api/schedules", [made_up(i) for i in range(130)]
    )
    codes = [code for code, _ in answers]
    assert codes == [200] * 120 + [429] * 10, Counter(codes)
    assert refused_by_app(*answers[-1]) and answers[-1][1]["X-RateLimit-Limit"] == "120"
