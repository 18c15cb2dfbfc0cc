"""One client floods the routes that compute, through the production stack as `make serve`
starts it (issue 15, item 3): 16 connections from one address post maximum-budget sweeps and
fans and fetch the layouts of heavy share links, each a new one, as fast as they are answered.
Meanwhile another address's `/healthz`, `GET /` and cached race answer within 1 s at p99: the
flood meets nginx's per-address limits and the app's work budget (429 with Retry-After from
either), so it holds a bounded share of the workers and cores.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.flood import PROBES, Flood, p99, probe_round
from tests.live import workers_of
from tests.test_production_stack import Stack

FLOOD_SECONDS = 30
PROBE_INTERVAL = 0.5  # the probes' pace (the API allows 120 a minute), not a wait for an event
# The flood loads every core and the probes are timed: nothing else runs meanwhile (conftest).
pytestmark = pytest.mark.alone


def flood_beside_probes(mix: str) -> tuple[dict[str, int], list[dict[str, tuple[float, int]]]]:
    """The stack as make serve starts it; the ``mix`` flood (tests/flood.py) from one address
    while the other address probes; (the flood's counts, the probe rounds). Checks that the
    probes were all answered within 1 s at p99, that no worker was lost and nothing logged a
    traceback or a worker timeout."""
    stack = Stack({}, workers=(os.cpu_count() or 1) * 2 + 1)  # gunicorn.conf.py's default
    try:
        warm = probe_round(stack.port)  # the probe's race is cached from now on
        assert {status for _, status in warm.values()} == {200}, warm
        workers = sorted(workers_of(stack.master))
        flood = Flood(stack.port, FLOOD_SECONDS, mix)
        rounds = []
        while flood.running():
            rounds.append(probe_round(stack.port))
            time.sleep(PROBE_INTERVAL)
        counts = flood.result()
        assert len(rounds) >= 20, len(rounds)
        for name in PROBES:
            statuses = [r[name][1] for r in rounds]
            seconds = [r[name][0] for r in rounds]
            assert set(statuses) == {200}, (name, statuses)
            assert p99(seconds) < 1.0, (name, sorted(seconds)[-5:], counts)
        # Every refusal came with a Retry-After, and some of the flood was served.
        assert not [key for key in counts if key.endswith("bare")], counts
        assert sum(v for k, v in counts.items() if k.startswith("200")) > 0, counts
        # Nothing the server cut off (the flooder may run out of its own ports: not a fault).
        assert not [k for k in counts if "Reset" in k or "Disconnected" in k], counts
        assert sorted(workers_of(stack.master)) == workers  # none killed for a timeout
    finally:
        log = stack.stop()
    assert "Traceback" not in log and "WORKER TIMEOUT" not in log, log[-2000:]
    return counts, rounds


def test_a_flood_of_costly_requests_leaves_another_client_served_within_a_second():
    counts, _ = flood_beside_probes("costly")
    # The flood was refused by the work budget (the app), not only by nginx's rate.
    assert counts.get("429 app", 0) > 0, counts


def test_a_flood_of_cached_exports_and_a_heavy_layout_is_limited_and_leaves_others_served():
    """The same heavy race's 6 MB export and 4 MB page, over and over (issue 24, finding 2):
    they were serialised and compressed again each time and no limit refused them. Now they
    are bytes kept once (web/answers.py), each request is charged its CPU (web/metering.py),
    and the flood meets 429s with Retry-After while the other address is served."""
    counts, _ = flood_beside_probes("cached")
    assert sum(v for k, v in counts.items() if k.startswith("429")) > 0, counts
    assert counts.get("200 export", 0) > 0 and counts.get("200 layout", 0) > 0, counts
