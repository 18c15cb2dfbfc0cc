"""Compiled code: where numba keeps its cache, what a cache entry is keyed by, and how one
loop is specialised per kernel.

The cache directory is chosen before numba reads its configuration (or set in it, if a
program imported numba first):

* ``NUMBA_CACHE_DIR`` if set (a deployment's choice), else ``.numba_cache`` in the project
  when it is writable, else a directory in the system's temporary folder (a read-only
  install, seeded once from the project's). Inside it, one sub-directory per source folder.
* Each compiled function's entry is keyed by its fingerprint (``common.fingerprint``): its
  own code and that of every compiled function it calls, inlines or links, wherever they
  live. numba's own key is the time stamp of the one file that holds the function, which
  misses a changed callee in another file; the fingerprint does not, and it is per function,
  so editing one optimizer's module recompiles that optimizer's loop alone, and an edit that
  changes no instruction (a docstring, a comment, the validator) recompiles nothing.
* numba writes each cache file to a temporary name and renames it into place, so several
  workers warming or reading one directory never see half a file.

``specialize`` builds, from one template function, a copy whose named globals are bound to
given compiled functions (one driver loop per optimizer kernel). numba then calls those
directly and inlines them; a function passed as an argument instead would be called through
a pointer (ten times slower per step here) or, as a dispatcher argument, never found in the
cache by a new process. Each copy gets its own qualified name, so each has its own cache file.
"""

from __future__ import annotations

import functools
import os
import pickle
import shutil
import tempfile
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("common", "optimizers", "surfaces")


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
    for candidate in candidates:
        if _writable(candidate):
            _seed(candidate, [c for c in candidates if c != candidate])
            return candidate
    return candidates[-1]  # numba reports itself that it cannot write here


def _seed(target: Path, others: list[Path]) -> None:
    """Copy a prebuilt cache into an empty ``target``: copied beside it, then its folders
    renamed into place, so a worker starting at the same time sees each whole or not at all."""
    if any(p for p in target.iterdir() if not p.name.startswith(".")):
        return
    for other in others:
        if other.is_dir() and any(other.glob("*/*.nbi")):
            partial = target / f".seed.{os.getpid()}"
            try:
                shutil.copytree(other, partial)
                for folder in partial.iterdir():
                    os.rename(folder, target / folder.name)  # fails if another filled it
            except OSError:
                pass
            shutil.rmtree(partial, ignore_errors=True)
            return


def prune() -> list[Path]:
    """Remove what earlier layouts left in the cache directory (a folder per hash of every
    source, 16 hex digits); returns what was removed. Called when warming, not at import."""
    current = Path(os.environ["NUMBA_CACHE_DIR"])
    removed = []
    if current.exists():
        for child in current.iterdir():
            if child.is_dir() and len(child.name) == 16 and set(child.name) <= set(HEX):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
    return removed


HEX = "0123456789abcdef"


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(cache_dir())

import numba  # noqa: E402  (after the cache directory is chosen)
from numba._dispatcher import compute_fingerprint  # noqa: E402, F401  (optimizers.engine)
from numba.core import config  # noqa: E402
from numba.core.caching import (  # noqa: E402
    CompileResultCacheImpl,
    FunctionCache,
    IndexDataCacheFile,
    _CacheLocator,
)

from common.fingerprint import fingerprint  # noqa: E402

if not config.CACHE_DIR:
    # numba was imported before this module (a program's own ``import numba`` first): it read
    # its configuration without the directory chosen above, and would refuse to cache.
    config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]


class _FolderLocator(_CacheLocator):
    """Keeps a function's entry in the cache directory's folder named after its source's
    folder (``optimizers``, ``surfaces``), under a name without its line number (a line
    added above it is no change), checked by its fingerprint (``_FingerprintCache``)."""

    def __init__(self, py_func: Any, py_file: str) -> None:
        self._path = os.path.join(config.CACHE_DIR, Path(py_file).parent.name)

    def get_cache_path(self) -> str:
        return self._path

    def get_source_stamp(self) -> str:
        return ""  # set from the fingerprint on first use (_FingerprintCache)

    def get_disambiguator(self) -> str:
        return "fp"

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> _FolderLocator | None:
        if not config.CACHE_DIR or not os.path.exists(py_file):
            return None
        locator = cls(py_func, py_file)
        return locator if _usable(locator._path) else None


@functools.cache
def _usable(folder: str) -> bool:
    """Whether ``folder`` can hold cache files (made, and a file written in it): checked once
    per folder and process, not once per function as numba's locators do (a temporary file
    for each of the ~220 functions was ~0.1 s of a new process's first race)."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


class _FingerprintImpl(CompileResultCacheImpl):
    _locator_classes: ClassVar[list[type]] = [_FolderLocator]


class _EntryLocator(_FolderLocator):
    """An entry of another form (``_EntryImpl``), so under another name: an entry written in
    numba's own form is not read as one."""

    def get_disambiguator(self) -> str:
        return "entry"


class _EntryImpl(_FingerprintImpl):
    """The cache entry of a function no compiled code calls (an engine loop: ``entry=True``):
    its machine code and the names it defines, without the LLVM bitcode numba keeps in every
    entry for linking the function into a caller. Reading that bitcode back was half the time
    to load a loop (~7 ms of ~15, five loops in a new process's first race), for a module
    nothing links. A library loaded from such an entry cannot be linked into another one:
    numba then raises ("library unfit for linking"), it does not run wrong code."""

    _locator_classes: ClassVar[list[type]] = [_EntryLocator]

    def reduce(self, cres: Any) -> Any:
        libdata, *rest = super().reduce(cres)
        name, _, (code, _) = libdata
        shared = cres.library._get_module_for_linking()
        names = {
            g.name
            for group in (shared.functions, shared.global_variables)
            for g in group
            if not g.is_declaration
        }
        return ((name, "entry", (code, tuple(sorted(names)))), *rest)

    def rebuild(self, target_context: Any, payload: Any) -> Any:
        libdata, *rest = payload
        name, kind, data = libdata
        if kind != "entry":
            return super().rebuild(target_context, payload)
        code, names = data
        codegen = target_context.codegen()
        library = codegen.create_library(name)
        library.enable_object_caching()
        library._set_compiled_object(code)
        library._finalize_final_module()
        codegen._engine._defined_symbols.update(names)
        # numba's rebuild asks the code generator to read the library back: for this one call
        # (under numba's compiler lock, which loading holds) it is handed the one just read.
        codegen.unserialize_library = lambda serialized: library
        try:
            return super().rebuild(target_context, (libdata, *rest))
        finally:
            del codegen.unserialize_library


class _TolerantIndex(IndexDataCacheFile):
    """A function's cache index that another version of the code wrote is a miss, not a
    crash: the index pickles the types of the signature it holds, and a checkout from before
    a type existed (``git checkout`` of an older commit with the same cache directory) cannot
    unpickle them. numba reads the stamp only after unpickling, so its own check comes too
    late; the entry is compiled again and the index overwritten."""

    def _load_index(self) -> dict:
        try:
            return super()._load_index()
        except (AttributeError, ImportError, EOFError, pickle.UnpicklingError, ValueError):
            return {}


class _FingerprintCache(FunctionCache):
    """numba's on-disk cache, each entry valid for one fingerprint of what the function is
    compiled from (``common.fingerprint``), computed when the entry is first read or written:
    by then every module the function reads is loaded."""

    _impl_class = _FingerprintImpl

    def __init__(self, py_func: Any) -> None:
        super().__init__(py_func)
        self._cache_file = _TolerantIndex(
            self._cache_path, self._impl.filename_base, self._cache_file._source_stamp
        )

    def _stamped(self) -> None:
        if not self._cache_file._source_stamp:
            self._cache_file._source_stamp = fingerprint(self._py_func)

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        self._stamped()
        return super().load_overload(sig, target_context)

    def save_overload(self, sig: Any, data: Any) -> None:
        self._stamped()
        super().save_overload(sig, data)


class _LeanCache(_FingerprintCache):
    """The cache for a function compiled without numba's runtime (``_nrt=False``), loaded
    without first loading numba's compiler: numba's own ``load_overload`` refreshes every
    lowering and typing registry (and compiles its reference-counting runtime) before it
    reads a cache file, ~0.3 s of a new process's first race that loading machine code does
    not use. Such code calls neither the runtime nor the registries; a cache miss still
    compiles through numba's compiler, which refreshes them itself."""

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        self._stamped()
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)


class _EntryCache(_LeanCache):
    """``_LeanCache`` for a function no compiled code calls (``_EntryImpl``)."""

    _impl_class = _EntryImpl


class _CacheOnFirstUse:
    """A dispatcher's cache, made when the dispatcher first compiles or loads: ~280 compiled
    functions are defined at import and most never do (the pieces copied into the surface
    trees), and making numba's cache object (its locator, index and paths) was a third of
    defining one, ~0.03 s of a new process's first race."""

    def __init__(self, kind: type[_FingerprintCache], py_func: Any) -> None:
        self._kind = kind
        self._py_func = py_func
        self._made: _FingerprintCache | None = None

    @property
    def made(self) -> _FingerprintCache:
        if self._made is None:
            self._made = self._kind(self._py_func)
        return self._made

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made, name)


def cached(dispatcher: Any) -> bool:
    """Whether the on-disk cache holds an entry for what ``dispatcher`` is compiled from now
    (its fingerprint): loading it then compiles nothing."""
    cache = dispatcher._cache
    if isinstance(cache, _CacheOnFirstUse):
        cache = cache.made
    if not isinstance(cache, _FingerprintCache):
        return False
    cache._stamped()
    return bool(cache._cache_file._load_index())


def jit(fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """``numba.njit`` with the on-disk cache on (keyed by fingerprint); float64 IEEE
    arithmetic (no fastmath), so a kernel's operations round exactly as written. Division by
    zero is IEEE's too (±inf or NaN, as torch's tensors give), not Python's
    ZeroDivisionError: a run that divides by zero is then stopped by the engine as diverged,
    where an exception would end the whole call. ``entry=True`` (with ``_nrt=False``): no
    compiled code calls the function, so its cache entry leaves out what linking needs
    (``_EntryImpl``)."""
    if fn is None:
        return lambda f: jit(f, **options)
    cache = options.pop("cache", True)
    entry = options.pop("entry", False)
    options.setdefault("error_model", "numpy")
    dispatcher = numba.njit(**options)(fn)
    if cache:  # what enable_caching() sets, with our key
        lean = not options.get("_nrt", True)
        kind = (_EntryCache if entry else _LeanCache) if lean else _FingerprintCache
        dispatcher._cache = _CacheOnFirstUse(kind, dispatcher.py_func)
    return dispatcher


def inlined(fn: Callable[..., Any]) -> Any:
    """``jit`` for a function numba should copy into each caller (a kernel, an oracle call):
    arrays passed across a real call cost reference-count updates on every step."""
    return jit(fn, inline="always")


def called(fn: Callable[..., Any]) -> Any:
    """``jit`` for a large function the loops call rather than copy (a line search): compiled
    once and linked into each caller, without numba's runtime (``_nrt=False``: it allocates
    nothing, so arrays cross the call without reference counting)."""
    return jit(fn, _nrt=False)


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
