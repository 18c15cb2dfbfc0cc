"""Lighthouse (npm ``lighthouse@12.2.3``) against the page as ``make run`` serves it.

``make bench`` installs Lighthouse with scripts/vendor-lighthouse.sh into bench/vendor/ and
runs it with Debian's Chromium (the browser tests' headless flags), ``RUNS`` times for each of
Lighthouse's two presets: mobile (its default: a Moto G power-class phone, simulated slow 4G
and a 4× slower CPU) and desktop. The table gives the medians; the breakdown below it, from
the median mobile run's JSON, what each script costs: bytes transferred and main-thread time
(evaluation, parse and compile), the figures to read when a target is missed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.report import stamp, write_section
from tests.live import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, until_healthy

RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", "5"))
VERSION = "12.2.3"
CLI = ROOT / "bench" / "vendor" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
TARGETS = {"mobile": 70, "desktop": 90}
LCP_TARGET_MS = 2500


def start_app(port: int) -> subprocess.Popen:
    """``python app.py`` (what ``make run`` runs) on ``port``, once ``/healthz`` answers."""
    proc = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=dict(os.environ, HOST="127.0.0.1", PORT=str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return until_healthy(proc, port)


def lighthouse(url: str, preset: str, out: Path) -> dict[str, Any]:
    """One Lighthouse run's JSON report (performance and accessibility only)."""
    command = [
        "node",
        str(CLI),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=performance,accessibility",
        "--chrome-flags=" + " ".join(CHROMIUM_ARGS),
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    subprocess.run(command, check=True, env=dict(os.environ, CHROME_PATH=CHROMIUM), cwd=ROOT)
    return json.loads(out.read_text())


def figures(report: dict[str, Any]) -> dict[str, float]:
    audits, categories = report["audits"], report["categories"]
    return {
        "performance": categories["performance"]["score"] * 100,
        "accessibility": categories["accessibility"]["score"] * 100,
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "tti": audits["interactive"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "si": audits["speed-index"]["numericValue"],
        "bytes": audits["total-byte-weight"]["numericValue"],
    }


def short(url: str) -> str:
    """A script's name without the host, Dash's cache-busting version or query."""
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    name = path.rsplit("/", 1)[-1]
    for part in name.split("."):
        if part.startswith("v") and "m1" in part:  # Dash's fingerprint, e.g. v4_4_1m1795787380
            name = name.replace("." + part, "")
    return name or "/" + path


def breakdown(report: dict[str, Any]) -> list[str]:
    """A table row per script: transferred KB, and main-thread ms (all, evaluation, parse)."""
    audits = report["audits"]
    sizes = {
        item["url"]: item["transferSize"]
        for item in audits["network-requests"]["details"]["items"]
        if item.get("resourceType") == "Script"
    }
    boot = {item["url"]: item for item in audits["bootup-time"]["details"]["items"]}
    rows = []
    for url in sorted(
        set(sizes) | {u for u in boot if u.startswith("http")},
        key=lambda u: -boot.get(u, {}).get("total", 0),
    ):
        b = boot.get(url, {})
        rows.append(
            f"| {short(url)} | {sizes.get(url, 0) / 1e3:.1f} | {b.get('total', 0):.0f} "
            f"| {b.get('scripting', 0):.0f} | {b.get('scriptParseCompile', 0):.0f} |"
        )
    return rows


def long_tasks(report: dict[str, Any]) -> list[str]:
    """A row per main-thread task over 50 ms (what total blocking time adds up), with the
    script Lighthouse attributes it to: where the desktop preset's time goes."""
    items = report["audits"]["long-tasks"]["details"]["items"]
    return [
        f"| {t['startTime']:.0f} | {t['duration']:.0f} | {max(0.0, t['duration'] - 50):.0f} "
        f"| {short(t['url']) if t['url'].startswith('http') else t['url']} |"
        for t in sorted(items, key=lambda t: t["startTime"])
    ]


def keep(report: dict[str, Any], path: Path) -> None:
    """Keep a run's JSON for reading (LIGHTHOUSE_KEEP=folder), beside the table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report))


def main() -> None:
    if not CLI.exists():
        raise SystemExit("Lighthouse is not installed: run scripts/vendor-lighthouse.sh")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app = start_app(port)
    runs: dict[str, list[tuple[dict[str, float], dict[str, Any]]]] = {}
    try:
        with tempfile.TemporaryDirectory() as work:
            for preset in ("mobile", "desktop"):
                runs[preset] = []
                for i in range(RUNS):
                    report = lighthouse(url, preset, Path(work) / f"{preset}-{i}.json")
                    runs[preset].append((figures(report), report))
                    if os.environ.get("LIGHTHOUSE_KEEP"):
                        keep(report, Path(os.environ["LIGHTHOUSE_KEEP"]) / f"{preset}-{i}.json")
    finally:
        app.terminate()
        app.wait(timeout=30)

    med = statistics.median
    lines = [
        "## Lighthouse",
        "",
        f"{stamp()}; Lighthouse {VERSION} (npm) with Debian Chromium headless, against",
        "`python app.py` (what `make run` serves: Flask's dev server, gzip on) at `/`.",
        f"Medians of {RUNS} runs per preset; mobile is Lighthouse's default (simulated slow 4G,",
        "4× CPU slowdown), desktop its `--preset=desktop`. Times in ms, bytes per load in KB.",
        "",
        "| preset | performance | target | LCP | TBT | TTI | FCP | CLS | accessibility "
        "| KB per load | |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for preset, results in runs.items():
        f = {key: med(r[0][key] for r in results) for key in results[0][0]}
        ok = f["performance"] >= TARGETS[preset] and f["accessibility"] == 100
        if preset == "mobile":
            ok = ok and f["lcp"] <= LCP_TARGET_MS
        target = f"≥ {TARGETS[preset]}" + (" (LCP ≤ 2,500)" if preset == "mobile" else "")
        lines.append(
            f"| {preset} | {f['performance']:.0f} | {target} | {f['lcp']:.0f} | {f['tbt']:.0f} "
            f"| {f['tti']:.0f} | {f['fcp']:.0f} | {f['cls']:.3f} | {f['accessibility']:.0f} "
            f"| {f['bytes'] / 1e3:.0f} | {'met' if ok else 'missed'} |"
        )
    mobile = sorted(runs["mobile"], key=lambda r: r[0]["performance"])[len(runs["mobile"]) // 2]
    lines += [
        "",
        "Per script, the median mobile run (main-thread ms at Lighthouse's 4× CPU slowdown):",
        "",
        "| script | KB | main thread | evaluation | parse & compile |",
        "|---|---:|---:|---:|---:|",
        *breakdown(mobile[1]),
    ]
    desktop = sorted(runs["desktop"], key=lambda r: r[0]["performance"])[len(runs["desktop"]) // 2]
    lines += [
        "",
        "Long tasks of the median desktop run (blocking = duration − 50 ms; their sum is TBT",
        "when they fall between first paint and interactive). React's task is Dash's renderer",
        "building the page from its layout; Plotly's and playback.js's draw the first race.",
        "",
        "| start | duration | blocking | attributed to |",
        "|---:|---:|---:|---|",
        *long_tasks(desktop[1]),
    ]
    for line in lines[8:]:
        print(line)
    write_section("lighthouse", lines)


if __name__ == "__main__":
    main()
