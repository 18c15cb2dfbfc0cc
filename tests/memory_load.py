"""A worker's memory after many distinct share links and inspect traces (issue 15, item 4).

Run as ``python -m tests.memory_load LINKS TRACES``: one process builds the app as a gunicorn
worker has it (the embedded cache, no Redis), opens LINKS distinct share links' pages
(``/_dash-layout``, as the browser fetches them) and asks for TRACES distinct inspect traces
(``/api/inspect``, ~1 MB each), then prints one JSON line: its resident memory (VmRSS)
before and after, its peak (VmHWM), and what each cache holds, at the end and halfway
through the links and through the traces. Run in a subprocess, so the test's own memory is
not counted. The test (tests/test_memory_bounds.py) and the bench
(bench/stack.py) both use it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

OPTIMIZERS = ("adam", "sgd", "momentum", "rmsprop", "nesterov", "adagrad")


def status(field: str) -> int:
    """A /proc/self/status memory figure (VmRSS, VmHWM) in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def link_race(i: int) -> dict[str, Any]:
    """The i-th link's race: 2 to 4 racers, 300 to 1,500 steps, every fifth with noise (so
    its page carries every racer's spread): pages from ~0.1 to ~1 MB of JSON."""
    racers = 2 + i % 3
    return {
        "surface": {"name": ("rosenbrock", "himmelblau", "beale")[i % 3]},
        "steps": 300 * (1 + i % 5),
        "noise": {"std": 0.2 if i % 5 == 4 else 0.0, "seed": i},
        "racers": [
            {"optimizer": OPTIMIZERS[(i + k) % len(OPTIMIZERS)], "lr": 1e-4 * (1 + i) * (k + 1)}
            for k in range(racers)
        ],
    }


def trace_race(i: int) -> dict[str, Any]:
    """The i-th trace's race: one racer over 5,000 steps (a trace of ~1 MB)."""
    return {
        "surface": {"name": "rosenbrock"},
        "steps": 5000,
        "racers": [{"optimizer": OPTIMIZERS[i % len(OPTIMIZERS)], "lr": 1e-5 * (1 + i)}],
    }


def main(links: int, traces: int) -> dict[str, Any]:
    from app import create_app
    from optimizers.validate import validate_race
    from service.share import encode_race

    bounds = {k: v for k, v in os.environ.items() if k in ("PAGE_CACHE_MB", "CACHE_MEMORY_MB")}
    app = create_app(
        {
            "RATE_LIMIT": "100000000 per minute",
            "API_RATE_LIMIT": "100000000 per minute",
            "WORK_RATE": "1e15",  # one client here asks for everything: no budget
            **bounds,
        }
    )
    client = app.server.test_client()
    client.get("/_dash-layout")
    (data,) = app.server.extensions["cache"].values()

    def reading() -> dict[str, int]:
        """Resident memory and what each cache holds, now."""
        return {"rss": status("VmRSS"), "pages": app.pages.bytes, "cache": data.entries.bytes}

    before = status("VmRSS")
    halfway: dict[str, dict[str, int]] = {}  # after half the links, and after half the traces
    for i in range(links):
        if i == links // 2:
            halfway["links"] = reading()
        link = "http://localhost/?race=" + quote(encode_race(validate_race(link_race(i))))
        answer = client.get("/_dash-layout", headers={"Referer": link})
        assert answer.status_code == 200, answer.status_code
    after_links = reading()
    for i in range(traces):
        if i == traces // 2:
            halfway["traces"] = reading()
        share = quote(encode_race(validate_race(trace_race(i))))
        answer = client.get(f"/api/inspect?race={share}&racer=0")
        assert answer.status_code == 200, answer.status_code
    return {
        "links": links,
        "traces": traces,
        "rss_before": before,
        "rss_after": status("VmRSS"),
        "rss_peak": status("VmHWM"),
        "pages_bytes": app.pages.bytes,
        "pages_max": app.pages.max_bytes,
        "cache_bytes": data.entries.bytes,
        "cache_max": data.entries.max_bytes,
        # For the growth per link and per trace once the caches are full (the test's
        # extrapolation): readings after half the links, after the links, after half the traces.
        "links_half": halfway.get("links"),
        "links_done": after_links,
        "traces_half": halfway.get("traces"),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
