"""make run's server before its app is built (web/starting.py): the port answers from the
first second and says how far the start is, then every request goes to the app."""

from __future__ import annotations

import html
import json

from werkzeug.test import Client

from optimizers.registry import OPTIMIZERS
from tests.warming import warming
from web.starting import Starting


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"the app"]


def test_until_the_app_is_built_every_path_says_how_far_the_start_is():
    with warming(OPTIMIZERS, active=False) as progress:  # nothing ready yet
        progress.done[:] = ["tree:value", "tree:gradient", "loop:sgd"]
        total = progress.total
        starting = Starting(["tree:value", "tree:gradient", "loop:sgd", "loop:adam"])
        client = Client(starting)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.headers["Retry-After"]
        body = json.loads(health.get_data())
        assert body["status"] == "starting"
        assert body["warm_up"]["done"] == 3 and body["warm_up"]["total"] == total
        page = client.get("/?race=<script>alert(1)</script>")
        text = page.get_data(as_text=True)
        assert page.status_code == 503 and page.headers["Cache-Control"] == "no-store"
        words = html.unescape(text)
        assert "3 of the opening race's 4 parts ready" in words and f"3 of {total} in all" in words
        assert "http-equiv='refresh'" in text
        assert "<script" not in text  # nothing of the request is echoed
        starting.serve(_app)
        assert client.get("/healthz").get_data() == b"the app"
        assert client.get("/").status_code == 200
