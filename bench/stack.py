"""A public demo that one client cannot take down, measured (`make bench`; issue 15).

* Memory of a worker after 2,000 distinct share links and 400 distinct inspect traces
  (tests/memory_load.py, in a process of its own), beside the same worker before them.
* Peak memory of each maximum-budget request, in a fresh process each time (VmHWM above the
  process's resident memory just before the request), beside the same request run in one
  batch (the service's chunks turned off): medians of ``REPEATS``.
* Load through the production stack (scripts/serve.sh: nginx in front of gunicorn, as
  `make serve` runs it, limits raised so that wrk measures capacity, not the limits): cached
  race, uncached race and page load, beside `/healthz` through the same stack.
* Attacks (issue 24), each for ``ATTACK_SECONDS`` on one stack with the default limits, while
  another address probes `/healthz`, `GET /` and a cached race: forged callback requests
  (2,000 and 10,000 changed inputs), maximum sweeps, fans and heavy links (nothing cached),
  a heavy race's cached 6 MB export and 4 MB page over and over, 200 slow clients, and 4,200
  slow request bodies from 70 addresses. Beside each, the probes with no attack (the
  reference), and the CPU the workers spent on the attacker: their CPU time during the
  attack less the probes' own (measured without it), per second, as a share of one core
  (one sync worker busy all the time is 1.0).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.load import SECONDS, wrk
from bench.report import stamp, write_section
from tests.flood import PROBES, Flood, p99, probe_round
from tests.live import ROOT, workers_of
from tests.test_memory_bounds import WORKER_ENV
from tests.test_production_stack import Stack, slow_clients
from tests.test_stack_nginx import (
    ADDRESSES,
    PER_ADDRESS,
    SHAPED,
    raise_file_limit,
    slow_body,
    trickle,
)
from web.session import COOKIE

REPEATS = 3
MB = 1024 * 1024
UNLIMITED = {
    "RATE_LIMIT": "100000000 per minute",
    "API_RATE_LIMIT": "100000000 per minute",
    "WORK_RATE": "1e15",
    "WORK_CONCURRENCY": "64",
    "WORK_REQUESTS": "64",
    "COMPUTE_RATE": "100000r/s",
    "COMPUTE_BURST": "100000",
    "COMPUTE_CONNS": "64",
    # wrk sends a session cookie's shape (nginx's classroom zones, scaled by this), so that
    # nginx's per-route rates for one client do not cap what is measured (100,000 makes
    # nginx's numbers overflow: it does not start).
    "CLASS_SESSIONS": "1000",
    "LOG_LEVEL": "warning",
}
WRK_COOKIE = {"COOKIE": f"{COOKIE}={SHAPED}"}
ATTACK_SECONDS = int(os.environ.get("ATTACK_SECONDS", "30"))


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
            ("/healthz", wrk(f"{base}/healthz", "page.lua", WRK_COOKIE)),
            (
                "cached race (2 racers × 500 steps)",
                wrk(f"{base}/api/race", "race.lua", WRK_COOKIE),
            ),
            (
                "uncached race (a new rate each time)",
                wrk(f"{base}/api/race", "race.lua", {"UNCACHED": "1", **WRK_COOKIE}),
            ),
            ("page load (GET /, gzip)", wrk(f"{base}/", "page.lua", WRK_COOKIE)),
        ]
    finally:
        stack.stop()


def workers_cpu(master: int) -> float:
    """CPU seconds (user and system) the stack's gunicorn workers have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in workers_of(master):
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:  # recycled meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


@contextmanager
def flood(mix: str) -> Iterator[Callable[[], bool]]:
    """One address's flood (tests/flood.py's ``mix``) for ATTACK_SECONDS."""
    running = Flood(PORT[0], ATTACK_SECONDS, mix)
    yield running.running
    ATTACK_COUNTS[mix] = running.result()


@contextmanager
def held(make: Callable[[], list]) -> Iterator[Callable[[], bool]]:
    """Connections ``make`` opens, held for ATTACK_SECONDS (their bodies trickled)."""
    socks = make()
    stop = threading.Event()
    failed: list[OSError] = []
    thread = threading.Thread(target=trickle, args=(socks, stop, failed))
    thread.start()
    ends = time.monotonic() + ATTACK_SECONDS
    try:
        yield lambda: time.monotonic() < ends
    finally:
        stop.set()
        thread.join()
        for sock in socks:
            sock.close()


def slow_bodies() -> list:
    raise_file_limit(ADDRESSES * PER_ADDRESS + 1024)
    return [
        slow_body(PORT[0], f"127.0.1.{a}")
        for a in range(1, ADDRESSES + 1)
        for _ in range(PER_ADDRESS)
    ]


PORT = [0]  # the stack's port, set by attacks()
ATTACK_COUNTS: dict[str, dict[str, int]] = {}
FORGED: dict[int, dict[str, Any]] = {}
# The held connections first: the floods leave thousands of the flooder's ports in TIME_WAIT
# on 127.0.0.1, where the slow clients connect from.
ATTACKS: dict[str, Callable[[], Any]] = {
    "200 slow clients": lambda: held(lambda: slow_clients(PORT[0], 200)),
    "4,200 slow bodies from 70 addresses": lambda: held(slow_bodies),
    "forged callbacks, 2,000 / 10,000 changed inputs (16 connections)": lambda: flood("forged"),
    "maximum sweeps, fans and heavy links, nothing cached (16 connections)": lambda: flood(
        "costly"
    ),
    "a cached 6 MB export and 4 MB page, over and over (16 connections)": lambda: flood("cached"),
}


FORGED_SIZES = (2000, 10000, 100000)
FORGED_EACH = 20


def forged_answers(port: int) -> dict[int, dict[str, Any]]:
    """Each forged callback size (changed inputs) sent FORGED_EACH times one after another,
    each size from an address of its own (within nginx's burst): its answers' statuses and
    median and p99 seconds."""
    from tests.flood import forged_body, request

    out = {}
    for n, changed in enumerate(FORGED_SIZES):
        body = forged_body(changed)
        headers = {"Content-Type": "application/json"}
        answers = [
            request(port, "/_dash-update-component", body, headers, source=f"127.0.2.{n + 1}")
            for _ in range(FORGED_EACH)
        ]
        seconds = [a[0] for a in answers]
        out[changed] = {
            "statuses": sorted({a[1] for a in answers}),
            "median": statistics.median(seconds),
            "p99": p99(seconds),
            "bytes": len(body),
        }
    return out


def attacks() -> dict[str, Any]:
    """The probes (median and p99 per probe) and the attacker's CPU share, per attack, and
    with none (the reference)."""
    stack = Stack({}, workers=(os.cpu_count() or 1) * 2 + 1)
    PORT[0] = stack.port
    out: dict[str, Any] = {}
    try:
        probe_round(stack.port)  # the probe's race cached
        cpu, started = workers_cpu(stack.master), time.monotonic()
        quiet = probes(stack.port, 20)
        probe_rate = (workers_cpu(stack.master) - cpu) / (time.monotonic() - started)
        out["no attack (reference)"] = {"probes": quiet, "share": 0.0}
        FORGED.update(forged_answers(stack.port))
        for name, attack in ATTACKS.items():
            seconds: dict[str, list[float]] = {probe: [] for probe in PROBES}
            cpu, started = workers_cpu(stack.master), time.monotonic()
            with attack() as going:
                while going():
                    for probe, values in probes(stack.port, 1).items():
                        seconds[probe] += values
            spent = workers_cpu(stack.master) - cpu
            share = spent / (time.monotonic() - started) - probe_rate
            out[name] = {"probes": seconds, "share": max(0.0, share)}
    finally:
        stack.stop()
    return out


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

    measured = attacks()
    lines += [
        "",
        f"Attacks, {ATTACK_SECONDS} s each, default limits: another address's probes (median / "
        "p99, ms) beside the same probes with no attack, and the workers' CPU spent on the "
        "attacker (cores: 1.0 is one sync worker busy all the time):",
        "",
        "| attack | " + " | ".join(PROBES) + " | attacker's CPU (cores) |",
        "|---|" + "---:|" * (len(PROBES) + 1),
    ]
    for name, result in measured.items():
        cells = [ms(result["probes"][probe]) for probe in PROBES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {result['share']:.2f} |")
    lines += [
        "",
        f"Forged callback requests (issue 24, finding 1), {FORGED_EACH} of each one after "
        "another through the stack: their answers and how long each took (before the guard, "
        "2,000 changed inputs held a worker 28.5 s):",
        "",
        "| changed inputs | body (KB) | status | median (ms) | p99 (ms) |",
        "|---:|---:|---|---:|---:|",
    ]
    for changed, r in FORGED.items():
        lines.append(
            f"| {changed:,} | {r['bytes'] / 1024:.0f} | {', '.join(map(str, r['statuses']))} | "
            f"{r['median'] * 1000:.1f} | {r['p99'] * 1000:.1f} |"
        )
    lines += ["", "What each flood got back (status and kind, or who refused it):", ""]
    for mix, counts in ATTACK_COUNTS.items():
        lines.append(f"- {mix}: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
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
