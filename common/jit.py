"""Compiled code: where numba keeps its cache, and how one loop is specialised per kernel.

numba is imported here first, so the cache directory is chosen before numba reads it:

* ``NUMBA_CACHE_DIR`` if set (a deployment's choice), else ``.numba_cache`` in the project
  when it is writable, else a directory in the system's temporary folder (a read-only
  install). Inside it, one sub-directory per hash of the compiled sources (``optimizers/``,
  ``surfaces/``, ``common/``): numba only checks the stamp of the file that holds a cached
  function, not of the functions it calls in other files, so a changed optimizer module must
  not find its old machine code. The hash makes that structural.
* numba writes each cache file to a temporary name and renames it into place, so several
  workers warming or reading one directory never see half a file.

``specialize`` builds, from one template function, a copy whose named globals are bound to
given compiled functions (one driver loop per optimizer kernel). numba then calls those
directly and inlines them; a function passed as an argument instead would be called through
a pointer (ten times slower per step here) or, as a dispatcher argument, never found in the
cache by a new process. Each copy gets its own qualified name, so each has its own cache file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("common", "optimizers", "surfaces")


def source_hash() -> str:
    """A short hash of every compiled source file: the cache's sub-directory."""
    digest = hashlib.sha256()
    for folder in SOURCES:
        for path in sorted((ROOT / folder).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, delete=True)
        probe.close()
        return True
    except OSError:
        return False


def cache_dir() -> Path:
    """The directory numba caches compiled kernels in (see the module's docstring).

    numba cannot read a cache it cannot write, so on a read-only install the kernels that
    ``make`` compiled into the project's cache are copied once to the writable fallback."""
    base = os.environ.get("OPTIMIZER_RACE_CACHE_BASE")
    candidates = [Path(base)] if base else []
    candidates += [ROOT / ".numba_cache", Path(tempfile.gettempdir()) / f"optrace-{os.getuid()}"]
    tag = source_hash()
    for candidate in candidates:
        if _writable(candidate / tag):
            _seed(candidate / tag, [c / tag for c in candidates if c != candidate])
            return candidate / tag
    return candidates[-1] / tag  # numba reports itself that it cannot write here


def _seed(target: Path, others: list[Path]) -> None:
    """Copy a prebuilt cache for the same sources into an empty ``target``: copied beside it,
    then renamed into place, so a worker starting at the same time sees all of it or none."""
    if any(target.iterdir()):
        return
    for other in others:
        if other.is_dir() and any(other.iterdir()):
            partial = target.parent / f".{target.name}.{os.getpid()}"
            try:
                shutil.copytree(other, partial)
                os.rename(partial, target)  # fails if another process filled it first
            except OSError:
                shutil.rmtree(partial, ignore_errors=True)
            return


def prune() -> list[Path]:
    """Remove caches of earlier sources beside the current one (the directory's siblings named
    like source hashes); returns what was removed. Called when warming, not at import."""
    current = Path(os.environ["NUMBA_CACHE_DIR"])
    removed = []
    if current.parent.exists():
        for sibling in current.parent.iterdir():
            if sibling != current and sibling.is_dir() and len(sibling.name) == 16:
                shutil.rmtree(sibling, ignore_errors=True)
                removed.append(sibling)
    return removed


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(cache_dir())

import numba  # noqa: E402  (after the cache directory is chosen)
from numba.core.caching import FunctionCache  # noqa: E402


class _LeanCache(FunctionCache):
    """numba's on-disk cache for a function compiled without its runtime (``_nrt=False``),
    loaded without first loading numba's compiler: numba's own ``load_overload`` refreshes
    every lowering and typing registry (and compiles its reference-counting runtime) before
    it reads a cache file, ~0.3 s of a new process's first race that loading machine code
    does not use. Such code calls neither the runtime nor the registries; a cache miss still
    compiles through numba's compiler, which refreshes them itself."""

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)


def jit(fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """``numba.njit`` with the on-disk cache on; float64 IEEE arithmetic (no fastmath), so a
    kernel's operations round exactly as written. Division by zero is IEEE's too (±inf or
    NaN, as torch's tensors give), not Python's ZeroDivisionError: a run that divides by zero
    is then stopped by the engine as diverged, where an exception would end the whole call."""
    if fn is None:
        return lambda f: jit(f, **options)
    cache = options.pop("cache", True)
    options.setdefault("error_model", "numpy")
    dispatcher = numba.njit(cache=cache and options.get("_nrt", True), **options)(fn)
    if cache and not options.get("_nrt", True):
        dispatcher._cache = _LeanCache(dispatcher.py_func)  # what enable_caching() sets
    return dispatcher


def inlined(fn: Callable[..., Any]) -> Any:
    """``jit`` for a function numba should copy into each caller (a kernel, an oracle call):
    arrays passed across a real call cost reference-count updates on every step."""
    return jit(fn, inline="always")


def specialize(
    template: Callable[..., Any], name: str, options: dict[str, Any] | None = None, **bound: Any
) -> Any:
    """A compiled copy of ``template`` whose globals ``bound`` name the given functions, under
    the qualified name ``name`` (its own cache entry), compiled with ``options`` (``jit``'s).
    ``template`` must be a plain Python function defined at a module's top level."""
    namespace = dict(template.__globals__)
    namespace.update(bound)
    copy = types.FunctionType(
        template.__code__, namespace, name, template.__defaults__, template.__closure__
    )
    copy.__qualname__ = name
    copy.__module__ = template.__module__
    copy.__doc__ = template.__doc__
    return jit(copy, **(options or {}))
