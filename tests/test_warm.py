"""The warm-up (optimizers/warm.py): what it compiles first, how it answers a race that cannot
wait for the rest, and what it says while it works."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optimizers import readiness
from optimizers.readiness import Progress
from optimizers.registry import OPTIMIZERS
from optimizers.warm import FIRST, Job, _next_job, _worker, jobs
from tests.warming import warming

ROOT = Path(__file__).resolve().parent.parent


def test_the_default_race_comes_first_and_every_loop_after_its_trees():
    order = [job.key for job in jobs()]
    assert set(order) == {f"loop:{n}" for n in OPTIMIZERS} | {
        f"tree:{k}" for k in ("value", "gradient", "hessian", "residuals", "jacobian")
    }
    first = {f"loop:{n}" for n in FIRST}
    head = order[: order.index(max(first, key=order.index)) + 1]
    assert first <= set(head) and all(k in first or k.startswith("tree:") for k in head)
    assert {"tree:value", "tree:gradient"} <= set(head)
    for index, job in enumerate(jobs()):
        assert job.needs <= set(order[:index]), job.key
    newton = next(job for job in jobs() if job.key == "loop:newton")
    assert "tree:hessian" in newton.needs


def test_no_two_processes_compile_the_same_code():
    """An optimizer sharing another's loop (Nesterov, SGD's) waits for that loop's job, and
    GD + line search waits for L-BFGS, which compiles the line search both link: two
    processes compiled each twice, beside the loops a race waited for."""
    order = jobs()
    index = {job.key: i for i, job in enumerate(order)}
    by_kernel: dict[object, list[str]] = {}
    for name, spec in OPTIMIZERS.items():
        by_kernel.setdefault(spec.kernel.step, []).append(f"loop:{name}")
    shared = [keys for keys in by_kernel.values() if len(keys) > 1]
    assert shared  # SGD's loop is Momentum's and Nesterov's
    for keys in shared:
        owner = min(keys, key=index.get)
        for key in keys:
            assert key == owner or owner in order[index[key]].needs, key
    search = order[index["loop:gd_line_search"]]
    assert "loop:lbfgs" in search.needs and index["loop:lbfgs"] < index["loop:gd_line_search"]


def test_a_loop_a_race_waits_for_goes_next_after_its_trees():
    todo = jobs()
    progress = Progress(done=["tree:value", "tree:gradient"])
    pending = [j for j in todo if j.key not in progress.done]
    assert _next_job(progress, pending).key == next(
        j.key for j in pending if j.needs <= set(progress.done)
    )
    progress.urgent.append("loop:newton")
    for expected in ("tree:hessian", "loop:newton"):
        job = _next_job(progress, pending)
        assert job.key == expected
        pending.remove(job)  # as a worker does when it takes a job
        progress.done.append(job.key)


RACE_DURING_WARM_UP = """
import json, numpy as np
from optimizers import readiness
from optimizers.engine import driver, simulate
from optimizers.registry import OPTIMIZERS
from optimizers.validate import validate_racer
from optimizers.warm import start
from surfaces import get_surface
lines = []
thread = start(lines.append)
preparing = readiness.preparing(["lion"])
surface = get_surface("rosenbrock")
racer = validate_racer({"optimizer": "lion", "lr": 1e-3}, "t")
run = simulate(surface, [racer], np.array([surface.default_start]), 50)
stats = driver(OPTIMIZERS["lion"].kernel.step).stats
seen = readiness.status()
thread.join()
print(json.dumps({
    "preparing": preparing, "points": run.points[:, 0].tolist(), "seen": seen,
    "hits": len(stats.cache_hits), "misses": len(stats.cache_misses), "lines": lines,
    "after": readiness.status(),
}))
"""


def test_a_race_during_the_warm_up_waits_for_its_loop_and_gets_its_result(tmp_path):
    """A process warming in the background (make run) with Lion's loop missing from its cache:
    the page's words name Lion while it is prepared; a Lion race asked for at once waits for
    the warm-up's worker to compile that loop (this process loads it, compiling nothing) and
    gets the same path as a process that had it ready; /healthz's field ends "ready"."""
    from optimizers.engine import simulate
    from optimizers.validate import validate_racer
    from surfaces import get_surface

    cache = tmp_path / "cache"
    shutil.copytree(os.environ["NUMBA_CACHE_DIR"], cache)
    for entry in (cache / "optimizers").glob("engine.drive_lion_*"):
        entry.unlink()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    out = subprocess.run(
        [sys.executable, "-c", RACE_DURING_WARM_UP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    said = json.loads(out.stdout.splitlines()[-1])
    assert said["preparing"] == ["Lion"]
    assert said["hits"] == 1 and said["misses"] == 0
    assert said["seen"]["state"] in {"compiling", "loading", "ready"}
    assert said["after"]["state"] == "ready" and said["after"]["done"] == len(jobs())
    assert any("Lion's loop ready" in line for line in said["lines"])
    surface = get_surface("rosenbrock")
    racer = validate_racer({"optimizer": "lion", "lr": 1e-3}, "t")
    here = simulate(surface, [racer], [surface.default_start], 50)
    assert said["points"] == here.points[:, 0].tolist()


def test_a_process_that_never_warmed_in_the_background_never_waits():
    assert not readiness.ACTIVE.is_set()
    assert readiness.preparing(list(OPTIMIZERS)) == []
    assert readiness.status()["state"] in {"idle", "ready"}


def test_a_job_whose_process_fails_is_reported_not_waited_for():
    """A compile that fails ends its worker process: the warm-up says which job, at once
    (make run then compiles loops where they are raced; gunicorn's master does not start)."""
    progress = Progress(labels={"loop:nowhere": "Nowhere's loop"})
    pending = [Job("loop:nowhere", "Nowhere's loop", frozenset())]
    with pytest.raises(RuntimeError, match="compiling Nowhere's loop failed"):
        _worker(progress, pending, lambda line: None)
    assert progress.done == []


ALL_AT_ONCE = """
import json, threading, numpy as np
from optimizers.engine import simulate
from optimizers.validate import validate_racer
from surfaces import get_surface
from tests.warming import warming
missing = ["lion", "sophia", "prodigy"]
surface = get_surface("rosenbrock")
racers = [validate_racer({"optimizer": n, "lr": 1e-3}, "t") for n in missing]
result = {}
race = threading.Thread(target=lambda: result.update(
    run=simulate(surface, racers, np.array([surface.default_start] * 3), 20)), daemon=True)
with warming(missing) as progress:
    race.start()
    with progress.lock:
        asked = progress.lock.wait_for(
            lambda: all(f"loop:{n}" in progress.urgent for n in missing), timeout=60)
        waiting = "run" not in result
        progress.done.extend(f"loop:{n}" for n in missing)
        progress.lock.notify_all()
    race.join(timeout=120)
print(json.dumps({"asked": asked, "waiting": waiting,
                  "finite": bool(np.isfinite(result["run"].points[-1]).all())}))
"""


def test_a_race_waiting_during_the_warm_up_puts_all_its_loops_first_at_once():
    """A race (a share link's, a lesson's) that needs several loops the warm-up has not made
    ready asks for all of them before it waits for the first (not one at a time, each only
    once the one before it is done: a link's four loops came 15th to 26th of 28). In a new
    process: one that has loaded a loop already never waits for it."""
    out = subprocess.run(
        [sys.executable, "-c", ALL_AT_ONCE], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    said = json.loads(out.stdout.splitlines()[-1])
    assert said == {"asked": True, "waiting": True, "finite": True}


def test_while_the_warm_up_runs_the_page_says_why_it_may_wait():
    """Until its layout arrives, a page opened during make run's warm-up says why, not just
    'Loading...'."""
    from app import WARMING_UP, create_app
    from optimizers import readiness

    client = create_app({}).server.test_client()
    assert "Loading..." in client.get("/").get_data(as_text=True)
    readiness.ACTIVE.set()
    try:
        page = client.get("/?lesson=line_search").get_data(as_text=True)
    finally:
        readiness.ACTIVE.clear()
    assert WARMING_UP in page and "Loading..." not in page


def test_a_links_layout_while_its_loop_compiles_is_the_page_without_its_race_and_not_kept():
    """A link whose loops make run's warm-up has not made ready gets its page at once, with
    the link's racers in the cards, no race and the words saying why (the race callback
    polls); that page is not kept, so once the loop is ready the link opens raced."""
    from app import create_app
    from optimizers.validate import validate_race
    from service.share import encode_race
    from tests.dash_requests import layout_components

    race = {
        "surface": {"name": "beale"},
        "steps": 40,
        "racers": [{"optimizer": "lion", "lr": 0.0031}],
    }
    referer = {"Referer": "http://x/?race=" + encode_race(validate_race(race))}
    client = create_app({}).server.test_client()

    def layout() -> dict:
        answer = client.get("/_dash-layout", headers=referer)
        assert answer.status_code == 200
        return {json.dumps(i, sort_keys=True): p for i, p in layout_components(answer.get_json())}

    with warming(["lion"]) as progress:
        waiting = layout()
        assert waiting['"race-preparing"']["children"].startswith("Preparing Lion")
        assert waiting['"preparing-poll"']["disabled"] is False
        assert waiting['"race-store"'].get("data") is None
        assert "loop:lion" in progress.urgent
        with progress.lock:
            progress.done.append("loop:lion")
        raced = layout()
    assert not raced['"race-preparing"'].get("children")
    assert raced['"preparing-poll"']["disabled"] is True
    assert raced['"race-store"']["data"]["racers"]
