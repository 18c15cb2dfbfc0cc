"""The students' link and its QR code (issue 13, item 11): what it encodes, what it refuses.

The code is decoded with Debian's zbarimg (zbar-tools, scripts/install-system.sh), from
segno's own PNG of the same code; tests/test_browser_views.py decodes what the page shows.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import segno

from app import create_app
from optimizers.validate import validate_race
from service.share import encode_race
from tests.conftest import require_executable
from tests.test_hostile_input import API_RACE, HOSTILE, RAW, check, encodable, mutants
from web.qr import ERROR_LEVEL, MAX_QUERY_CHARS

ZBARIMG = "/usr/bin/zbarimg"
SHARE = encode_race(validate_race(API_RACE))


@pytest.fixture(scope="module")
def client():
    limits = {"RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"}
    app = create_app(dict(limits, PUBLIC_HOSTS="class.example.org, localhost"))
    return app.server.test_client()


def decode_png(png: bytes) -> str:
    """The text of the one QR code in a PNG image, read by zbarimg."""
    done = subprocess.run(
        [require_executable(ZBARIMG), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "-"],
        input=png,
        capture_output=True,
        timeout=30,
        check=True,
    )
    return done.stdout.decode("utf-8").rstrip("\n")


def test_the_qr_code_holds_the_students_link_on_this_server(client):
    query = {"race": SHARE, "lesson": "ravine", "step": "40", "present": "1", "hide": "toolbar"}
    answer = client.get("/api/qr", query_string=query, base_url="https://class.example.org")
    assert answer.status_code == 200
    body = answer.get_json()
    link = urlsplit(body["link"])
    assert (link.scheme, link.netloc, link.path) == ("https", "class.example.org", "/")
    # The same link, presentation dropped, the controls hidden for students.
    assert parse_qs(link.query) == {
        "race": [SHARE],
        "lesson": ["ravine"],
        "step": ["40"],
        "hide": ["toolbar,controls"],
    }
    assert body["svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<script" not in body["svg"] and "width=" not in body["svg"].split(">")[0]
    # segno draws the same code as PNG; zbarimg reads the link back.
    png = io.BytesIO()
    segno.make_qr(body["link"], error=ERROR_LEVEL).save(png, kind="png", scale=8, border=4)
    assert decode_png(png.getvalue()) == body["link"]


def test_a_page_without_query_gets_its_bare_student_link(client):
    answer = client.get("/api/qr")
    assert answer.status_code == 200
    assert answer.get_json()["link"] == "http://localhost/?hide=controls"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"next": "https://evil.example"}, "next"),  # not a key of the page's links
        ({"url": "//evil.example"}, "url"),
        ({"race": "//evil.example"}, "race"),
        ({"race": "x" * 6500}, "race"),  # longer than a share link holds
        ({"lesson": "https://evil.example"}, "lesson"),
        ({"step": "-1"}, "step"),
        ({"step": "12.5"}, "step"),
        ({"x": "1,nan"}, "x"),
        ({"y": "2,1"}, "y"),
        ({"view": "4d"}, "view"),
        ({"analysis": "fan"}, "analysis"),
        ({"tuned": "best"}, "tuned"),
        ({"inspect": "1000"}, "inspect"),
        ({"present": "yes"}, "present"),
        ({"hide": "controls,<script>"}, "hide"),
    ],
)
def test_the_qr_route_refuses_what_is_not_the_pages_own_link(client, query, field):
    answer = client.get("/api/qr", query_string=query)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["field"] == field and body["error"]
    assert "evil" not in json.dumps(body)


def test_the_qr_route_refuses_repeats_and_long_queries(client):
    twice = client.get("/api/qr?step=1&step=2")
    assert twice.status_code == 400 and twice.get_json()["field"] == "step"
    long = client.get("/api/qr?hide=" + "a" * (MAX_QUERY_CHARS + 1))
    assert long.status_code == 414 and long.get_json()["error"]


def test_hostile_qr_queries_never_fail_or_leak(client):
    links = [
        base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        for body in [*mutants(API_RACE, 150), *RAW[:12]]
    ]
    words = [str(v) for v in HOSTILE if isinstance(v, (str, int, float)) and encodable(str(v))]
    for link in links:
        check(client.get("/api/qr", query_string={"race": link}))
    for key in ("race", "lesson", "step", "x", "y", "view", "analysis", "tuned", "inspect"):
        for word in words:
            answer = client.get("/api/qr", query_string={key: word, "hide": "header"})
            check(answer)
            if answer.status_code == 200:  # only a value the page itself would write
                assert parse_qs(urlsplit(answer.get_json()["link"]).query)[key] == [word]
    for word in words:
        check(client.get("/api/qr", query_string={"hide": word}))
        check(client.get("/api/qr", query_string={word[:60]: "1"}))
    check(client.get("/api/qr?%ff%fe=%ff"))
    check(client.post("/api/qr", data="{}"))


def test_the_qr_route_is_rate_limited_like_the_api():
    app = create_app({"API_RATE_LIMIT": "3 per minute"})
    client = app.server.test_client()
    answers = [client.get("/api/qr", query_string={"lesson": "ravine"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["error"]
