"""The compile cache: each compiled function's entry keyed by the fingerprint of what it is
compiled from (common/fingerprint.py), so an edit recompiles what it changes and nothing else;
a read-only install served from a writable copy; a new process that finds every kernel
compiled."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from common import jit
from common.fingerprint import fingerprint, reached

ROOT = Path(__file__).resolve().parent.parent


def _callee_one(x):
    return x + 1.0


def _callee_two(x):
    return x + 2.0


def _caller(x):
    """The template: ``callee`` is bound by ``jit.specialize``."""
    return callee(x) * SCALE  # noqa: F821  (bound by specialize)


def _caller_documented(x):
    """Another docstring, and a comment below: the same instructions."""
    # a comment
    return callee(x) * SCALE  # noqa: F821  (bound by specialize)


def test_a_fingerprint_follows_the_callees_and_constants_not_the_docstrings():
    one, two = jit.jit(_callee_one), jit.jit(_callee_two)
    base = jit.specialize(_caller, "caller", callee=one, SCALE=2.0)
    assert fingerprint(base.py_func) == fingerprint(
        jit.specialize(_caller, "caller", callee=one, SCALE=2.0).py_func
    )
    other_callee = jit.specialize(_caller, "caller", callee=two, SCALE=2.0)
    other_constant = jit.specialize(_caller, "caller", callee=one, SCALE=3.0)
    documented = jit.specialize(_caller_documented, "caller", callee=one, SCALE=2.0)
    assert fingerprint(other_callee.py_func) != fingerprint(base.py_func)
    assert fingerprint(other_constant.py_func) != fingerprint(base.py_func)
    assert fingerprint(documented.py_func) == fingerprint(base.py_func)
    assert reached(base.py_func) == [one]


def _cached_target(x):
    return x * 3.0


def test_an_index_an_other_checkout_wrote_is_a_miss_not_a_crash():
    """An index that names a type this code does not have (written by a later commit into a
    shared cache) is compiled over, where numba's own reader raises."""
    first = jit.jit(_cached_target)
    assert first(2.0) == 6.0
    index = Path(first._cache._cache_file._index_path)
    assert index.exists()
    gone = types.ModuleType("gone_module")
    gone.Gone = type("Gone", (), {"__module__": "gone_module"})
    sys.modules["gone_module"] = gone
    try:
        payload = pickle.dumps(("another stamp", {gone.Gone(): "x.nbc"}))
    finally:
        del sys.modules["gone_module"]
    with index.open("wb") as f:
        pickle.dump(jit.numba.__version__, f, protocol=-1)
        f.write(payload)
    plain = jit.IndexDataCacheFile(str(index.parent), index.stem, "another stamp")
    with pytest.raises(ModuleNotFoundError):
        plain._load_index()
    again = jit.jit(_cached_target)
    assert again(2.0) == 6.0
    assert again._cache._cache_file._load_index(), "the index was not written again"


def test_the_cache_directory_is_the_chosen_base(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_RACE_CACHE_BASE", str(tmp_path))
    chosen = jit.cache_dir()
    assert chosen == tmp_path
    assert chosen.is_dir()


def test_a_read_only_cache_is_copied_to_a_writable_place(tmp_path, monkeypatch):
    """numba cannot load from a directory it cannot write: the kernels compiled at install
    are copied, whole, to the first writable candidate."""
    read_only, writable = tmp_path / "install", tmp_path / "tmp"
    (read_only / "optimizers").mkdir(parents=True)
    (read_only / "optimizers" / "kernel.nbi").write_bytes(b"index")
    monkeypatch.setenv("OPTIMIZER_RACE_CACHE_BASE", str(read_only))
    monkeypatch.setattr(jit.tempfile, "gettempdir", lambda: str(writable))
    real = jit._writable
    monkeypatch.setattr(jit, "_writable", lambda p: writable in (p, *p.parents) and real(p))
    chosen = jit.cache_dir()
    assert chosen.parent == writable
    assert (chosen / "optimizers" / "kernel.nbi").read_bytes() == b"index"
    assert not list(chosen.glob(".*"))  # no partial copy left behind


PROBE = """
import json, numpy as np
from optimizers.engine import driver, simulate
from optimizers.registry import OPTIMIZERS
from optimizers.validate import validate_racer
from surfaces import get_surface
surface = get_surface("quadratic")
names = ["sgd", "adam", "lion"]
racers = [validate_racer({"optimizer": n, "lr": 1e-3}, "t") for n in names]
simulate(surface, racers, np.tile(surface.default_start, (3, 1)), 2)
stats = {n: driver(OPTIMIZERS[n].kernel.step).stats for n in names}
print(json.dumps({n: [len(s.cache_hits), len(s.cache_misses)] for n, s in stats.items()}))
"""


def _probe(tree: Path, cache: Path) -> dict[str, list[int]]:
    """Which of three loops a new process over ``tree`` loaded ([1, 0]) or compiled ([0, 1])."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tree, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.splitlines()[-1])


def _entries(cache: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (cache / "optimizers").glob("engine.drive_*")}


def test_an_edit_recompiles_the_loops_it_changes_and_nothing_else(tmp_path):
    """Over a copy of the tree and of the warmed cache: a comment and docstrings edited (in an
    optimizer and in the validator) compile nothing; a changed instruction in Lion's kernel
    compiles Lion's loop alone, and the other loops' entries stay as they were."""
    tree, cache = tmp_path / "tree", tmp_path / "cache"
    for folder in ("common", "optimizers", "surfaces"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.environ["NUMBA_CACHE_DIR"], cache)
    loaded = {"sgd": [1, 0], "adam": [1, 0], "lion": [1, 0]}
    assert _probe(tree, cache) == loaded  # make test warmed the project's cache

    lion, validate = tree / "optimizers" / "lion.py", tree / "optimizers" / "validate.py"
    text = lion.read_text()
    assert '    """The paper\'s update for one run' in text
    edited = '    # a new comment\n    """Lion\'s update'
    text = text.replace('    """The paper\'s update', edited)
    lion.write_text("# a line that moves every function down\n" + text)
    validate.write_text(validate.read_text().replace('"""', '"""Edited. ', 1))
    assert _probe(tree, cache) == loaded

    before = _entries(cache)
    code = "b1, b2, wd = cyc, h[B2], h[WD]"
    assert code in lion.read_text()
    lion.write_text(lion.read_text().replace(code, code + " + 0.0"))
    assert _probe(tree, cache) == {"sgd": [1, 0], "adam": [1, 0], "lion": [0, 1]}
    after = _entries(cache)
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed and all(name.startswith("engine.drive_lion_") for name in changed)


def _loaded_in_a_new_process(code: str) -> list[int]:
    """After warming, a new process (the project's cache directory, as a worker's) runs
    ``code`` then prints what numba counted over every loop: cache misses, cache hits, and
    loops loaded with the bitcode for linking them (common.jit._EntryImpl leaves it out)."""
    subprocess.run([sys.executable, "-m", "optimizers.warm"], cwd=ROOT, check=True)
    count = (
        "; from optimizers.engine import _DRIVERS; "
        "print(sum(len(d.stats.cache_misses) for d in _DRIVERS.values()), "
        "sum(len(d.stats.cache_hits) for d in _DRIVERS.values()), "
        "sum(o.library._shared_module is not None "
        "for d in _DRIVERS.values() for o in d.overloads.values()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", code + count],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return list(map(int, out.stdout.split()))


def test_a_new_process_compiles_nothing_once_warmed():
    """What gunicorn's workers and `make run` rely on: after warming, a fresh process loads
    every kernel from the cache (numba counts cache hits and misses per function), each
    loop's machine code only."""
    misses, hits, linkable = _loaded_in_a_new_process("from optimizers.warm import warm; warm()")
    assert misses == 0 and hits >= 1 and linkable == 0


def test_a_program_that_imports_numba_first_still_loads_the_engine_from_the_cache():
    """numba reads its cache directory once, when imported: a program importing it before
    the engine crashed at import ('no locator available')."""
    misses, hits, _ = _loaded_in_a_new_process(
        "import numba; from optimizers import run_race; "
        "run_race({'surface': {'name': 'rosenbrock'}, 'steps': 20, "
        "'racers': [{'optimizer': 'adam', 'lr': 0.01}]})"
    )
    assert misses == 0 and hits >= 1


def test_gunicorns_master_warms_the_kernels_before_forking():
    """gunicorn.conf.py's on_starting hook runs in the master (after the preloaded app):
    it must compile or load every kernel, so a new worker's first request compiles nothing,
    and it says how far it is, one line per job."""
    import importlib.util

    from optimizers.engine import _DRIVERS
    from optimizers.registry import OPTIMIZERS
    from optimizers.warm import jobs

    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    said = []

    class Log:
        def info(self, message, *args):
            said.append(message % args if args else message)

    class Server:
        log = Log()

    conf.on_starting(Server())
    total = len(jobs())
    assert [line.split("]")[0] for line in said[:-1]] == [
        f"[{k:>2}/{total}" for k in range(1, total + 1)
    ]
    assert said[-1].startswith("engine kernels ready")
    assert all(_DRIVERS[s.kernel.step].signatures for s in OPTIMIZERS.values())


def _loaded_target(x):
    return x - LOADED_SHIFT  # noqa: F821  (bound by specialize)


def test_loading_from_the_cache_is_left_uncharged_and_compiling_is_not():
    """The work budget leaves out a request's CPU spent loading compiled code (the server's
    start-up while a background warm-up runs), not CPU spent compiling (web/metering.py)."""
    from optimizers import readiness

    readiness.uncharged()
    warm = jit.specialize(_loaded_target, "loaded_target", LOADED_SHIFT=1.0)
    warm(3.0)  # compiled, or loaded: either way in the cache now
    again = jit.specialize(_loaded_target, "loaded_target", LOADED_SHIFT=1.0)
    with readiness.loading(again):
        assert again(3.0) == 2.0
    assert sum(again.stats.cache_hits.values()) == 1
    assert readiness.uncharged() > 0
    assert readiness.uncharged() == 0  # taken once
    fresh = jit.specialize(_loaded_target, "loaded_target", LOADED_SHIFT=os.getpid() + 0.5)
    with readiness.loading(fresh):
        assert fresh(3.0) == 2.5 - os.getpid()
    assert sum(fresh.stats.cache_misses.values()) == 1
    assert readiness.uncharged() == 0
