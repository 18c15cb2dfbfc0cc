"""A public demo that one client cannot take down, measured (`make bench`; issue 15).

* Memory of a worker after 2,000 distinct share links and 400 distinct inspect traces
  (tests/memory_load.py, in a process of its own), beside the same worker before them.
* Peak memory of each maximum-budget request, in a fresh process each time (VmHWM above the
  process's resident memory just before the request), beside the same request run in one
  batch (the service's chunks turned off): medians of ``REPEATS``.
* Load through the production stack (scripts/serve.sh: nginx in front of gunicorn, as
  `make serve` runs it, limits raised so that wrk measures capacity, not the limits): cached
  race, uncached race and page load, beside `/healthz` through the same stack.
* Slow clients: `/healthz` and a cached race while 200 slow clients are held open, beside the
  same probes with none.
* Flood: one address's 16 connections of maximum-budget sweeps, fans and heavy links (with the
  default limits) while another address probes `/healthz`, `GET /` and a cached race, beside
  the same probes without the flood; and what the flood got back.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.load import SECONDS, wrk
from bench.report import stamp, write_section
from tests.flood import PROBES, Flood, p99, probe_round
from tests.live import ROOT
from tests.test_memory_bounds import WORKER_ENV
from tests.test_production_stack import Stack, slow_clients

REPEATS = 3
MB = 1024 * 1024
UNLIMITED = {
    "RATE_LIMIT": "100000000 per minute",
    "API_RATE_LIMIT": "100000000 per minute",
    "WORK_RATE": "1e15",
    "WORK_CONCURRENCY": "64",
    "COMPUTE_RATE": "100000r/s",
    "COMPUTE_BURST": "100000",
    "COMPUTE_CONNS": "64",
    "LOG_LEVEL": "warning",
}


def _status(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def peak(kind: str) -> dict[str, Any]:
    """In this process: the app, then one maximum-budget request of ``kind``; its peak above
    the resident memory before it (VmHWM is reset first through /proc/self/clear_refs)."""
    from app import create_app
    from tests.flood import flood_request, heavy_race

    app = create_app(UNLIMITED)
    client = app.server.test_client()
    if kind == "starts":
        body = {"race": heavy_race(1), "count": 256}
        send = lambda: client.post("/api/starts", json=body)  # noqa: E731
    elif kind == "inspect":
        from optimizers.validate import validate_race
        from service.share import encode_race

        share = encode_race(validate_race(heavy_race(1)))
        send = lambda: client.get(f"/api/inspect?race={share}&racer=0")  # noqa: E731
    else:
        _, path, data, headers = flood_request({"sweep": 0, "fan": 1, "layout": 2}[kind])
        if data is None:
            send = lambda: client.get(path, headers=headers)  # noqa: E731
        else:
            send = lambda: client.post(path, data=data, headers=headers)  # noqa: E731
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS
    before = _status("VmRSS")
    started = time.perf_counter()
    answer = send()
    seconds = time.perf_counter() - started
    assert answer.status_code == 200, answer.status_code
    return {"peak": _status("VmHWM") - before, "rss": before, "seconds": seconds}


def measure_peak(kind: str, one_batch: bool) -> dict[str, Any]:
    env = dict(os.environ, BENCH_ONE_BATCH="1" if one_batch else "")
    out = subprocess.run(
        [sys.executable, "-m", "bench.stack", "peak", kind],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_after_links() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.memory_load", "2000", "400"],
        cwd=ROOT,
        env={**os.environ, **WORKER_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def probes(port: int, rounds: int, interval: float = 0.5) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {name: [] for name in PROBES}
    for _ in range(rounds):
        for name, (s, status) in probe_round(port).items():
            assert status == 200, (name, status)
            seconds[name].append(s)
        time.sleep(interval)  # the probes' pace (the API allows 120 a minute)
    return seconds


def load_figures() -> list[tuple[str, dict[str, float]]]:
    stack = Stack(UNLIMITED, workers=(os.cpu_count() or 1) * 2 + 1)
    base = f"http://127.0.0.1:{stack.port}"
    try:
        return [
            ("/healthz", wrk(f"{base}/healthz", "page.lua")),
            ("cached race (2 racers × 500 steps)", wrk(f"{base}/api/race", "race.lua")),
            (
                "uncached race (a new rate each time)",
                wrk(f"{base}/api/race", "race.lua", {"UNCACHED": "1"}),
            ),
            ("page load (GET /, gzip)", wrk(f"{base}/", "page.lua")),
        ]
    finally:
        stack.stop()


def slow_and_flood() -> dict[str, Any]:
    stack = Stack({}, workers=(os.cpu_count() or 1) * 2 + 1)
    try:
        probe_round(stack.port)  # the probe's race cached
        quiet = probes(stack.port, 20)
        held = slow_clients(stack.port, 200)
        try:
            slow = probes(stack.port, 20)
        finally:
            for sock in held:
                sock.close()
        flood = Flood(stack.port, SECONDS)
        flooded: dict[str, list[float]] = {name: [] for name in PROBES}
        while flood.running():
            for name, values in probes(stack.port, 1).items():
                flooded[name] += values
        counts = flood.result()
    finally:
        stack.stop()
    return {"quiet": quiet, "slow": slow, "flooded": flooded, "counts": counts}


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} / {p99(values) * 1000:.1f}"


def main() -> None:
    lines = [
        "## A public demo one client cannot take down (issue 15)",
        "",
        f"{stamp()}; the production stack as `make serve` runs it (nginx, gunicorn with "
        f"{(os.cpu_count() or 1) * 2 + 1} sync workers), client and server on the same cores.",
        "",
    ]
    memory = memory_after_links()
    lines += [
        "Memory of one worker (the embedded cache) after 2,000 distinct share links' pages and "
        "400 distinct inspect traces, beside the same worker before them:",
        "",
        "| measure | after | before (reference) | bound |",
        "|---|---:|---:|---:|",
        f"| resident memory (MB) | {memory['rss_after'] / MB:.0f} | "
        f"{memory['rss_before'] / MB:.0f} | ≤ 300 |",
        f"| pages kept (MB) | {memory['pages_bytes'] / MB:.1f} | | "
        f"{memory['pages_max'] / MB:.0f} |",
        f"| results and traces kept (MB) | {memory['cache_bytes'] / MB:.1f} | | "
        f"{memory['cache_max'] / MB:.0f} |",
        "",
        f"Peak memory of each maximum-budget request in its process (medians of {REPEATS}; "
        "above the process's resident memory just before), in chunks as served, beside the "
        "same request in one batch:",
        "",
        "| request | peak, as served (MB) | time (s) | peak, one batch (MB) | time (s) | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    kinds = {
        "sweep": "sweep, 12 racers × 49 rates × 5,000 steps",
        "fan": "fan, 12 racers × 50 runs × 5,000 steps",
        "layout": "page of a 12-racer × 5,000-step noisy link",
        "starts": "many starts, 256 × 5,000 steps",
        "inspect": "inspect trace, 5,000 steps",
    }
    for kind, name in kinds.items():
        chunked = [measure_peak(kind, False) for _ in range(REPEATS)]
        whole = [measure_peak(kind, True) for _ in range(REPEATS)]
        a = statistics.median(r["peak"] for r in chunked) / MB
        b = statistics.median(r["peak"] for r in whole) / MB
        ta = statistics.median(r["seconds"] for r in chunked)
        tb = statistics.median(r["seconds"] for r in whole)
        lines.append(f"| {name} | {a:.0f} | {ta:.2f} | {b:.0f} | {tb:.2f} | {a / b:.2f} |")

    load = load_figures()
    health = load[0][1]
    lines += [
        "",
        f"Load through the stack (wrk -t2 -c16, {SECONDS} s per case; nginx's and the app's "
        "limits raised so that capacity is measured), beside `/healthz` through the same stack "
        f"at {health['rps']:.0f} requests/s:",
        "",
        "| case | requests/s | p50 (ms) | p99 (ms) | errors | ratio to /healthz |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in load[1:]:
        errors = int(r["errors"] + r["non2xx"])
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {errors} | "
            f"{r['rps'] / health['rps']:.2f} |"
        )

    shaped = slow_and_flood()
    counts = shaped["counts"]
    lines += [
        "",
        "Another client's probes (median / p99, ms; default limits) while 200 slow clients "
        f"are held open, and while one address floods for {SECONDS} s, beside the same probes "
        "with neither:",
        "",
        "| probe | quiet (reference) | 200 slow clients | flood |",
        "|---|---:|---:|---:|",
    ]
    for name in PROBES:
        lines.append(
            f"| {name} | {ms(shaped['quiet'][name])} | {ms(shaped['slow'][name])} | "
            f"{ms(shaped['flooded'][name])} |"
        )
    served = sum(v for k, v in counts.items() if k.startswith("200"))
    lines += [
        "",
        f"The flood got: {served} answered ("
        + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if k.startswith("200"))
        + f"), {counts.get('429 app', 0)} refused by the work budget and "
        f"{counts.get('429 nginx', 0)} by nginx (all with Retry-After), "
        f"{counts.get('error', 0)} connection errors.",
    ]
    print("\n".join(lines))
    write_section("stack", lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["peak"]:
        if os.environ.get("BENCH_ONE_BATCH"):
            from service import races

            races.CHUNK_RUN_STEPS = 10**12
        print(json.dumps(peak(sys.argv[2])))
    else:
        main()
