"""bench/results.md holds one section per bench module; each run rewrites only its own."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).with_name("results.md")
TITLE = "# Benchmarks\n\nEach section is rewritten by its `make bench` module; see its header.\n"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}"


def stamp() -> str:
    return f"Measured {datetime.date.today().isoformat()} on {machine()}"


def load_note(start: float) -> str:
    """The machine's 1-minute load average at a run's start (``start``) and now: these cores
    are shared, and absolute times stretch with the load (the ratios hold better)."""
    return (
        f"The machine's load average (1 min) was {start:.1f} at the start and "
        f"{os.getloadavg()[0]:.1f} at the end (2 shared cores)."
    )


def write_section(name: str, lines: list[str]) -> None:
    """Replace (or append) the section between ``<!-- name -->`` markers."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = "\n".join([start, *lines, end])
    text = RESULTS.read_text() if RESULTS.exists() else TITLE
    if not text.startswith("# Benchmarks"):
        text = TITLE
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text)
