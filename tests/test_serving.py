"""gunicorn serves the app with the checked-in configuration (a real server on a loopback port)."""

from __future__ import annotations

import json
import subprocess
import urllib.request

from tests.live import free_port, start_gunicorn


def test_gunicorn_serves_health_api_and_page():
    port = free_port()
    proc = start_gunicorn(port, {"WORKERS": "2"}, output=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
            assert json.load(r)["status"] == "ok"
        request = urllib.request.Request(f"{base}/", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert "gunicorn/" not in (r.headers.get("Server") or "")
        body = json.dumps(
            {"surface": {"name": "himmelblau"}, "racers": [{"optimizer": "adam", "lr": 0.1}]}
        ).encode()
        request = urllib.request.Request(
            f"{base}/api/race", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            assert json.load(r)["racers"][0]["optimizer"] == "adam"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    access = proc.stdout.read().decode()
    assert '"GET /healthz HTTP/1.1" 200' in access  # the access log is on
