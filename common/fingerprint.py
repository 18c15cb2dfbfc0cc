"""What a compiled function is compiled from, as one hash: the key its cache entry is kept
under (``common.jit``), so editing one optimizer recompiles that optimizer's loop alone.

numba checks only the time stamp of the file that holds a cached function, not the functions
it calls, inlines or links from other files. The fingerprint follows them: the function's
bytecode and constants (its docstring left out), its closure, and for every global name it
reads, what that name is bound to when it is compiled:

* another compiled function (a numba dispatcher): that function's fingerprint and its
  compile options, recursively;
* a module: the attributes of it the code reads (``oracle.gradient``: the ``gradient``
  attribute; every name the code reads is tried, which can only add to the hash);
* a number, string, tuple or array: its value (numba freezes globals as constants);
* a class (a ``NamedTuple`` the code builds): its fields; a numba intrinsic: its code;
* anything else from outside the project (``math``, ``np``): its name, which the library
  versions in numba's own cache key stand behind.

Line numbers are not code (a comment or a docstring moves them): they are left out, so an
edit that changes no instruction compiles nothing.
"""

from __future__ import annotations

import hashlib
import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np

_MEMO: dict[int, tuple[Any, str]] = {}


def fingerprint(fn: Callable[..., Any]) -> str:
    """The hex digest of everything ``fn`` (a plain function) is compiled from."""
    held = _MEMO.get(id(fn))
    if held is not None and held[0] is fn:
        return held[1]
    digest = hashlib.sha256()
    _function(fn, digest, set())
    result = digest.hexdigest()[:32]
    _MEMO[id(fn)] = (fn, result)
    return result


def reached(fn: Callable[..., Any]) -> list[Any]:
    """Every compiled function (dispatcher) ``fn`` calls, directly or through others: the
    pieces a warm-up must have ready before ``fn`` can be compiled without repeating them."""
    found: dict[int, Any] = {}
    _function(fn, hashlib.sha256(), set(), found)
    return list(found.values())


def _function(fn: Any, digest: Any, seen: set[int], found: dict[int, Any] | None = None) -> None:
    if id(fn) in seen:
        digest.update(b"<again>" + fn.__qualname__.encode())
        return
    seen.add(id(fn))
    code = fn.__code__
    _code(code, digest, fn.__doc__)
    for cell in fn.__closure__ or ():
        _value(cell.cell_contents, (), digest, seen, found)
    names = _names(code)
    namespace = fn.__globals__
    for name in sorted(names):
        if name in namespace:
            digest.update(b"G" + name.encode())
            _value(namespace[name], names, digest, seen, found)


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _code(code: types.CodeType, digest: Any, doc: str | None = None) -> None:
    digest.update(code.co_code)
    digest.update(repr((code.co_argcount, code.co_kwonlyargcount, code.co_varnames)).encode())
    digest.update(repr(code.co_names).encode())
    consts = code.co_consts
    if doc is not None and consts and consts[0] == doc:
        consts = consts[1:]
    for const in consts:
        if isinstance(const, types.CodeType):
            _code(const, digest)
        else:
            digest.update(repr(const).encode())


def _value(
    value: Any, names: set[str], digest: Any, seen: set[int], found: dict[int, Any] | None
) -> None:
    py_func = getattr(value, "py_func", None)
    if py_func is not None and hasattr(value, "targetoptions"):  # a numba dispatcher
        if found is not None:
            found.setdefault(id(value), value)
        digest.update(b"D" + repr(sorted(value.targetoptions.items())).encode())
        _function(py_func, digest, seen, found)
    elif isinstance(value, types.ModuleType):
        digest.update(b"M" + value.__name__.encode())
        if _ours(value):
            for name in sorted(names):
                if hasattr(value, name):
                    digest.update(b"." + name.encode())
                    _value(getattr(value, name), names, digest, seen, found)
    elif isinstance(value, bool | int | float | str | bytes | complex | type(None)):
        digest.update(repr(value).encode() if not _nan(value) else b"nan")
    elif isinstance(value, tuple | list):
        digest.update(b"(")
        for item in value:
            _value(item, names, digest, seen, found)
        digest.update(b")")
    elif isinstance(value, np.ndarray):
        digest.update(repr((value.dtype.str, value.shape)).encode() + value.tobytes())
    elif isinstance(value, types.FunctionType):
        if _ours(value):
            _function(value, digest, seen, found)
        else:
            digest.update(b"F" + value.__module__.encode() + value.__qualname__.encode())
    elif isinstance(value, type):
        digest.update(b"T" + value.__module__.encode() + value.__qualname__.encode())
        digest.update(repr(getattr(value, "_fields", ())).encode())
    elif hasattr(value, "_defn") and isinstance(value._defn, types.FunctionType):
        _function(value._defn, digest, seen, found)  # a numba intrinsic
    else:
        digest.update(b"O" + type(value).__module__.encode() + type(value).__qualname__.encode())


def _ours(obj: Any) -> bool:
    """Whether ``obj`` comes from this project (not the standard library or a package)."""
    module = obj.__name__ if isinstance(obj, types.ModuleType) else obj.__module__
    return module.split(".")[0] in {"common", "optimizers", "surfaces"}


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
