"""Every request pays for the CPU it used, whatever it did: the work budget as a meter.

The work budget (service/budget.py) charged engine run-steps before they ran, and nothing else:
a forged callback request that spent 28 s of a worker in Dash's own bookkeeping, or a cached
5.8 MB export serialised again on every request, cost its client nothing, so nothing refused
it (issue 24, findings 1 and 2). Here each request's CPU time (the thread's, so neither other
requests nor waiting count) is measured from its first hook to its last, and what it used
beyond its free first millisecond and the engine work it already paid for is charged to its
client after it ends. A client in debt is refused (429 with Retry-After) before its next
request runs anything, and so is one that already has ``WORK_REQUESTS`` requests in progress
(each holds a lease while it runs: a flood of requests that are cheap to charge but slow to
answer cannot take every worker). So a path nobody thought of is still paid for, at the rate
engine work is: a client holds about a third of a core for long, whatever it sends.

Static files (versioned, precompressed: web/static.py) and /healthz are not metered: they cost
microseconds and a balancer's or a page's many fetches should not each touch the store.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from optimizers import readiness
from service.budget import WorkBudget, cpu_run_steps

log = logging.getLogger(__name__)
UNMETERED_PREFIXES = ("/assets/", "/_dash-component-suites/")
UNMETERED_PATHS = frozenset({"/healthz", "/favicon.ico"})


def metered(path: str) -> bool:
    """Whether a request to ``path`` is charged its CPU time."""
    return path not in UNMETERED_PATHS and not path.startswith(UNMETERED_PREFIXES)


def page(method: str, path: str) -> bool:
    """Whether a request asks for the page itself (the index, a lesson's or a link's address:
    anything but Dash's and the API's routes), which hands a browser its session."""
    return method in ("GET", "HEAD") and not path.startswith(("/_", "/api/"))


def meter(server: Flask, budget: WorkBudget) -> None:
    """Refuse a client in debt before its request runs; charge each request its CPU after.
    Registered after the session's hook (web/session.py), which says who the client is."""

    @server.before_request
    def enter() -> None:
        if not metered(request.path):
            return
        readiness.uncharged()  # what an earlier request on this thread left
        g.cpu_started = time.thread_time()
        # A client in debt, or with as many requests in progress as it may have, is refused
        # here (OverBudget: 429 with Retry-After, answered by web/hardening.py). The page
        # itself takes no lease: a class arrives at once, from one address, before its
        # sessions exist (nginx's page zone and the debt bound it).
        g.request_lease = budget.enter(lease=not page(request.method, request.path))

    @server.teardown_request
    def leave(_exc: BaseException | None) -> None:
        started = g.get("cpu_started")
        if started is None:
            return
        # Loading a compiled loop from the cache is the server's start-up, not the client's
        # work (a background warm-up; optimizers/readiness.py); compiling one is charged.
        used = time.thread_time() - started - readiness.uncharged()
        try:
            budget.finish(g.get("request_lease"), cpu_run_steps(used, g.get("work_charged", 0)))
        except Exception:  # the store failed too: the request is over, nothing to refuse
            log.exception("work budget: a request's CPU time could not be charged")
