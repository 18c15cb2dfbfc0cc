"""The compile cache: one directory per version of the sources, a read-only install served
from a writable copy, and a new process that finds every kernel compiled."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from common import jit

ROOT = Path(__file__).resolve().parent.parent


def test_the_cache_directory_is_named_by_the_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_RACE_CACHE_BASE", str(tmp_path))
    chosen = jit.cache_dir()
    assert chosen == tmp_path / jit.source_hash()
    assert chosen.is_dir()


def test_a_read_only_cache_is_copied_to_a_writable_place(tmp_path, monkeypatch):
    """numba cannot load from a directory it cannot write: the kernels compiled at install
    are copied, whole, to the first writable candidate."""
    read_only, writable = tmp_path / "install", tmp_path / "tmp"
    tag = jit.source_hash()
    (read_only / tag / "optimizers_x").mkdir(parents=True)
    (read_only / tag / "optimizers_x" / "kernel.nbi").write_bytes(b"index")
    monkeypatch.setenv("OPTIMIZER_RACE_CACHE_BASE", str(read_only))
    monkeypatch.setattr(jit.tempfile, "gettempdir", lambda: str(writable))
    real = jit._writable
    monkeypatch.setattr(jit, "_writable", lambda p: writable in p.parents and real(p))
    chosen = jit.cache_dir()
    assert chosen.parent.parent == writable and chosen.name == tag
    assert (chosen / "optimizers_x" / "kernel.nbi").read_bytes() == b"index"
    assert not list(chosen.parent.glob(".*"))  # no partial copy left behind


def test_a_new_process_compiles_nothing_once_warmed():
    """What gunicorn's workers and `make run` rely on: after warming, a fresh process loads
    every kernel from the cache (numba counts cache hits and misses per function)."""
    subprocess.run([sys.executable, "-m", "optimizers.warm"], cwd=ROOT, check=True)
    code = (
        "from optimizers.warm import warm; from optimizers.engine import _DRIVERS; warm(); "
        "print(sum(len(d.stats.cache_misses) for d in _DRIVERS.values()), "
        "sum(len(d.stats.cache_hits) for d in _DRIVERS.values()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    misses, hits = map(int, out.stdout.split())
    assert misses == 0 and hits >= 1


def test_gunicorns_master_warms_the_kernels_before_forking():
    """gunicorn.conf.py's on_starting hook runs in the master (after the preloaded app):
    it must compile or load every kernel, so a new worker's first request compiles nothing."""
    import importlib.util

    from optimizers.engine import _DRIVERS
    from optimizers.registry import OPTIMIZERS

    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    said = []

    class Log:
        def info(self, message, *args):
            said.append(message % args)

    class Server:
        log = Log()

    conf.on_starting(Server())
    assert said and said[0].startswith("engine kernels ready")
    assert all(_DRIVERS[s.kernel].signatures for s in OPTIMIZERS.values())
