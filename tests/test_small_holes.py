"""The smaller holes of issue 24 (finding 5, item 4 of what to build), each closed and tested.

Lone surrogates and unicode digits in links and bodies are clear 400s (a page opened on such
a link loads and says why), the students' link is built only on the deployment's own hosts
with the port kept, what varies with the Referer says so to caches, Dash's hot-reload poll is
not there, and gunicorn's workers are not recycled. Where the behaviour is the stack's (the
Host nginx passes on, nginx in front of the routes), it is tried through ``make serve``'s stack.
"""

from __future__ import annotations

import base64
import copy
import http.client
import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from app import create_app
from callbacks.analysis import page_race
from callbacks.form import OPENING_RACE
from common.errors import ConfigError
from optimizers.validate import validate_race
from service.share import check_text, encode_race
from tests.live import RACE, ROOT, state
from tests.test_production_stack import Stack
from tests.test_share import props_of

LIMITS = {"RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"}
TWO = {
    "surface": {"name": "himmelblau"},
    "racers": [{"optimizer": "adam", "lr": 0.1}, {"optimizer": "sgd", "lr": 0.01}],
}
SHARE = encode_race(validate_race(copy.deepcopy(TWO)))
OPENING_SHARE = encode_race(validate_race(copy.deepcopy(OPENING_RACE)))


def with_label(label: str) -> dict:
    race = copy.deepcopy(TWO)
    race["racers"][0]["label"] = label
    return race


# JSON spells the lone surrogate as the escape \ud800 (json.dumps' default ASCII output).
SURROGATE_BODY = json.dumps(with_label("\ud800"))
SURROGATE_LINK = base64.urlsafe_b64encode(SURROGATE_BODY.encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def client():
    return create_app(LIMITS).server.test_client()


# Lone surrogates: refused where a link or a body is read, naming the field.


def test_a_lone_surrogate_in_a_links_label_is_a_400_naming_the_field(client):
    assert "\\ud800" in SURROGATE_BODY
    for path, query in [
        ("/api/export", {"race": SURROGATE_LINK}),
        ("/api/export", {"race": SURROGATE_LINK, "format": "csv", "racer": "0"}),
        ("/api/inspect", {"race": SURROGATE_LINK, "racer": "0"}),
    ]:
        answer = client.get(path, query_string=query)
        assert answer.status_code == 400, (path, answer.status_code)
        body = answer.get_json()
        assert body["field"] == "racers[0].label" and "lone surrogate" in body["error"], body
    # The QR route names its link key, and the race's own field in the message.
    answer = client.get("/api/qr", query_string={"race": SURROGATE_LINK})
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["field"] == "race" and "racers[0].label" in body["error"], body
    # The drag previews read the same links.
    preview = {"race": SURROGATE_LINK, "racer": 0, "lr": 0.05}
    answer = client.post("/_race-preview", json=preview)
    assert answer.status_code == 400 and answer.get_json()["field"] == "racers[0].label"


def test_a_lone_surrogate_in_an_api_body_is_a_400_naming_the_field(client):
    answer = client.post("/api/race", data=SURROGATE_BODY, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["field"] == "racers[0].label"
    # In a key, the object holding it is named (the key itself cannot be written back).
    keyed = json.dumps({**TWO, "racers": [{"optimizer": "adam", "lr": 0.1, "\udfff": 1}]})
    answer = client.post("/api/race", data=keyed, content_type="application/json")
    assert answer.status_code == 400 and answer.get_json()["field"] == "racers[0]"
    # A valid pair, escaped, is one character: accepted.
    paired = json.dumps(with_label("\U0001f680"))
    assert "\\ud83d\\ude80" in paired
    answer = client.post("/api/race", data=paired, content_type="application/json")
    assert answer.status_code == 200


def test_the_surrogate_check_walks_deep_json_without_recursion():
    deep: list = ["\ud800"]
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = [deep]
    with pytest.raises(ConfigError) as caught:
        check_text({"racers": deep})
    assert caught.value.field == "racers" + "[0]" * 5001


def test_a_page_opened_on_a_surrogate_link_loads_the_opening_race_and_says_why(client):
    answer = client.get(
        "/_dash-layout", headers={"Referer": f"http://localhost/?race={SURROGATE_LINK}"}
    )
    assert answer.status_code == 200
    layout = answer.get_json()
    note = json.dumps(props_of(layout, "lesson-caption"))
    assert "could not be read" in note and "racer 1's label" in note and "opening race" in note
    assert props_of(layout, "race-store")["data"]["share"] == OPENING_SHARE


def test_in_the_browser_a_surrogate_link_loads_and_says_it_could_not_be_read(tabs):
    tab = tabs("/?race=" + SURROGATE_LINK)  # waits until the page's race is drawn
    caption = tab.locator("#lesson-caption")
    assert caption.is_visible()
    text = caption.inner_text()
    assert "could not be read: racer 1's label: holds a broken character" in text
    assert state(tab, f"{RACE}.race.share") == OPENING_SHARE
    assert tab.problems == []


# Unicode digits: "²".isdigit() is true and int("²") fails; "٣" is read as 3.


@pytest.mark.parametrize("racer", ["²", "١", "１"])
def test_a_racer_in_unicode_digits_is_a_400_naming_racer(client, racer):
    for path, query in [
        ("/api/inspect", {"race": SHARE, "racer": racer}),
        ("/api/export", {"race": SHARE, "format": "csv", "racer": racer}),
        ("/api/export", {"race": SHARE, "format": "pytorch", "racer": racer}),
    ]:
        answer = client.get(path, query_string=query)
        assert answer.status_code == 400, (path, racer, answer.status_code)
        assert answer.get_json()["field"] == "racer"
    assert client.get("/api/inspect", query_string={"race": SHARE, "racer": "1"}).status_code == 200


def test_a_beat_in_unicode_digits_opens_the_lessons_first_beat_with_a_note(client):
    assert client.get("/?lesson=ravine&beat=²").status_code == 200
    answer = client.get(
        "/_dash-layout", headers={"Referer": "http://localhost/?lesson=ravine&beat=²"}
    )
    assert answer.status_code == 200
    assert "here is the first" in json.dumps(props_of(answer.get_json(), "lesson-caption"))


def test_a_racer_order_in_unicode_digits_from_the_page_store_is_ignored():
    # The page's store comes back with every view callback: a forged one is the client's writing.
    config, order = page_race({"share": SHARE, "order": ["²", "0"]})
    assert len(config.racers) == 2 and order == [0, 1]
    assert page_race({"share": SHARE, "order": ["1", "0"]})[1] == [1, 0]


def test_the_qr_route_takes_ascii_digits_only(client):
    for key in ("step", "beat", "inspect"):
        answer = client.get("/api/qr", query_string={key: "٣", "lesson": "ravine"})
        assert answer.status_code == 400 and answer.get_json()["field"] == key


# The students' link: only on the deployment's hosts, port kept.


def qr_link(client, base_url: str) -> tuple[int, dict]:
    answer = client.get("/api/qr", query_string={"lesson": "ravine"}, base_url=base_url)
    return answer.status_code, answer.get_json()


def test_without_public_hosts_the_students_link_is_made_on_loopback_only_port_kept(client):
    for base in ("http://127.0.0.1:8071", "http://localhost:8071", "http://[::1]:8071"):
        code, body = qr_link(client, base)
        assert code == 200 and body["link"] == f"{base}/?lesson=ravine&hide=controls", body
    for base in ("http://evil.example", "http://evil.example:8071", "http://10.0.0.1:8050"):
        code, body = qr_link(client, base)
        assert code == 400 and body["field"] == "host" and "PUBLIC_HOSTS" in body["error"]
        assert "evil" not in json.dumps(body) and "svg" not in body


def test_with_public_hosts_only_those_hosts_get_a_link():
    env = dict(LIMITS, PUBLIC_HOSTS="class.example.org, Class.Example.org:8443")
    client = create_app(env).server.test_client()
    for base in ("https://class.example.org", "https://class.example.org:8443"):
        code, body = qr_link(client, base)
        assert code == 200 and body["link"].startswith(base + "/?"), body
    for base in ("https://class.example.org:9000", "https://evil.example", "http://127.0.0.1"):
        code, body = qr_link(client, base)
        assert code == 400 and body["field"] == "host", body
        assert "class.example.org, class.example.org:8443" in body["error"]


# What varies with the Referer, and what a shared cache must not keep.


def test_the_layout_and_the_page_say_how_they_may_be_cached(client):
    layout = client.get("/_dash-layout", headers={"Referer": f"http://localhost/?race={SHARE}"})
    assert layout.status_code == 200
    assert layout.headers["Cache-Control"] == "private, no-cache"
    assert {"referer", "accept-encoding"} <= {
        v.strip().lower() for v in layout.headers["Vary"].split(",")
    }
    for path in ("/", "/?lesson=ravine&beat=2"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-cache"


def test_dash_hot_reload_poll_is_not_found(client):
    answer = client.get("/_reload-hash")
    assert answer.status_code == 404
    assert b"reloadHash" not in answer.data and b"dash" not in answer.data


# Through the production stack: nginx passes the Host with its port, and the rest holds.


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack({"API_RATE_LIMIT": "10000 per minute"})
    yield running
    if running.proc.poll() is None:
        running.stop()


def get(port: int, path: str, host: str, referer: str = "") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host, **({"Referer": referer} if referer else {})}
    conn.request("GET", path, headers=headers)
    answer = conn.getresponse()
    answer.body = answer.read()  # type: ignore[attr-defined]
    conn.close()
    return answer


def test_through_the_stack_the_link_keeps_the_port_and_refuses_other_hosts(stack):
    here = f"127.0.0.1:{stack.port}"
    answer = get(stack.port, "/api/qr?lesson=ravine", here)
    assert answer.status == 200
    assert json.loads(answer.body)["link"] == f"http://{here}/?lesson=ravine&hide=controls"
    answer = get(stack.port, "/api/qr?lesson=ravine", "evil.example")
    assert answer.status == 400 and json.loads(answer.body)["field"] == "host"


def test_through_the_stack_caching_headers_hold_and_reload_hash_is_gone(stack):
    here = f"127.0.0.1:{stack.port}"
    layout = get(stack.port, "/_dash-layout", here, referer=f"http://{here}/?race={SHARE}")
    assert layout.status == 200 and layout.getheader("Cache-Control") == "private, no-cache"
    assert "referer" in layout.getheader("Vary", "").lower()
    assert get(stack.port, "/", here).getheader("Cache-Control") == "private, no-cache"
    assert get(stack.port, "/_reload-hash", here).status == 404


# Worker recycling.


def gunicorn_settings(env: dict[str, str]) -> dict[str, str]:
    """gunicorn.conf.py as gunicorn itself resolves it (``--print-config``; the app named is a
    stand-in, loaded only to check it is callable)."""
    done = subprocess.run(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--print-config",
            "json:dumps",
        ],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "MAX_REQUESTS"}, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pairs = (line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def test_workers_are_not_recycled_unless_max_requests_says_so():
    default = gunicorn_settings({})
    assert (default["max_requests"], default["max_requests_jitter"]) == ("0", "0")
    chosen = gunicorn_settings({"MAX_REQUESTS": "100000"})
    assert (chosen["max_requests"], chosen["max_requests_jitter"]) == ("100000", "10000")
