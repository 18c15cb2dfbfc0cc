"""Load on gunicorn (`make bench`): wrk, 60 s per case, on this machine's cores.

Each case is reported beside the same server answering `/healthz` (its ceiling: routing,
headers and logging with no work), as a ratio of requests per second. The last run kills
one worker halfway through a cached-race load; only requests in flight at the kill may fail
(at most one per connection), and gunicorn starts a replacement.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading

from bench.report import stamp, write_section
from tests.live import ROOT, free_port, start_gunicorn, workers_of

SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
CONNECTIONS = 16
RESULT = re.compile(r"RESULT (.*)")


def start_server(port: int) -> subprocess.Popen:
    return start_gunicorn(
        port,
        {
            "RATE_LIMIT": "100000000 per minute",
            "API_RATE_LIMIT": "100000000 per minute",
            # wrk is one client using both cores: the work budget (every request's CPU is
            # charged, web/metering.py) and its requests at once would refuse it; capacity is
            # measured here, the limits in bench/stack.py.
            "WORK_RATE": "1e15",
            "WORK_CONCURRENCY": "64",
            "WORK_REQUESTS": "64",
            "LOG_LEVEL": "warning",
            "ACCESS_LOG": "",
        },
        workers=(os.cpu_count() or 1) * 2 + 1,  # gunicorn.conf.py's default
    )


def wrk(url: str, script: str, env: dict[str, str] | None = None) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{SECONDS}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "wrk" / script),
            url,
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        check=True,
    ).stdout
    fields = dict(pair.split("=") for pair in RESULT.search(out).group(1).split())
    result = {k: float(v) for k, v in fields.items()}
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        workers = len(workers_of(server.pid))
        health = wrk(f"{base}/healthz", "page.lua")
        cases = [
            ("cached race (2 racers × 500 steps)", wrk(f"{base}/api/race", "race.lua")),
            (
                "uncached race (a new rate each time)",
                wrk(f"{base}/api/race", "race.lua", {"UNCACHED": "1"}),
            ),
            ("page load (GET /, gzip)", wrk(f"{base}/", "page.lua")),
        ]
        victims: list[int] = []

        def kill_one() -> None:
            # Chosen at the kill: workers recycle (max_requests), so one picked earlier may
            # already be gone.
            victims.append(workers_of(server.pid)[0])
            os.kill(victims[0], signal.SIGKILL)

        killer = threading.Timer(SECONDS / 2, kill_one)
        killer.start()
        killed = wrk(f"{base}/api/race", "race.lua")
        killer.join()
        after = workers_of(server.pid)
        replaced = len(after) == workers and bool(victims) and victims[0] not in after
    finally:
        server.terminate()
        server.wait(timeout=30)

    lines = [
        "## Load: gunicorn under wrk",
        "",
        f"{stamp()}; gunicorn with gunicorn.conf.py ({workers} sync workers), wrk -t2 "
        f"-c{CONNECTIONS}, {SECONDS} s per case, client and server on the same 2 cores.",
        f"Reference: the same server answering `/healthz` at {health['rps']:.0f} requests/s "
        f"(p50 {health['p50']:.1f} ms).",
        "",
        "| case | requests/s | p50 (ms) | p99 (ms) | errors | ratio to /healthz |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in cases:
        errors = int(r["errors"] + r["non2xx"])
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {errors} | "
            f"{r['rps'] / health['rps']:.2f} |"
        )
    failed = int(killed["errors"] + killed["non2xx"])
    lines += [
        "",
        f"Worker killed (SIGKILL) halfway through a cached-race load: {killed['requests']:.0f} "
        f"requests, {failed} failed (at most {CONNECTIONS} could be in flight), replacement "
        f"worker started: {'yes' if replaced else 'no'}.",
    ]
    print("\n".join(lines))
    write_section("load", lines)


if __name__ == "__main__":
    main()
