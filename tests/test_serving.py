"""gunicorn serves the app with the checked-in configuration (a real server on a loopback port)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_health_api_and_page():
    port = free_port()
    env = dict(os.environ, PORT=str(port), WORKERS="2")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # readiness poll until the workers answer
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    health = json.load(r)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not come up"
        assert health["status"] == "ok"
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
