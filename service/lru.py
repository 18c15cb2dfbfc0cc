"""Caches in a worker's memory, bounded by bytes rather than by entries.

A bound in entries says nothing of memory when an entry is anything from 2 KB (a small race)
to 3 MB (the page of a 12-racer noisy race) or 1 MB (an inspect trace): 256 pages or 2,000
results could hold gigabytes, and a crawler walking share links grew each worker by a
gigabyte. Each cache here keeps what it holds as one bytes or str value (the pickled result,
the page's JSON, the SVG), so its size is exact and costs nothing to measure, and drops the
least recently used entries once the total passes its bound. An entry larger than the whole
bound is not kept at all.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask
from flask_caching.backends.base import BaseCache


class ByteLRU:
    """Least-recently-used str/bytes values, at most ``max_bytes`` of them in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[Any, tuple[str | bytes, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Any) -> str | bytes | None:
        """The value (and it becomes the most recent), or None if absent or expired."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            value, expires = item
            if expires and expires <= time.time():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: str | bytes, timeout: float = 0) -> None:
        """Keep ``value`` (for ``timeout`` seconds, 0: until evicted)."""
        with self._lock:
            if key in self._items:
                self._drop(key)
            if len(value) > self.max_bytes:
                return
            self._items[key] = (value, time.time() + timeout if timeout else 0.0)
            self.bytes += len(value)
            while self.bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def delete(self, key: Any) -> bool:
        with self._lock:
            if key not in self._items:
                return False
            self._drop(key)
            return True

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def _drop(self, key: Any) -> None:
        value, _ = self._items.pop(key)
        self.bytes -= len(value)


class ByteCache(BaseCache):
    """flask-caching's in-process cache (``CACHE_TYPE: "service.lru.ByteCache"``) bounded by
    ``CACHE_MAX_BYTES`` of pickled values. Values are pickled as SimpleCache does, so a
    caller changing what it got back never changes the cache."""

    def __init__(self, max_bytes: int, default_timeout: int = 300, **options: Any) -> None:
        super().__init__(default_timeout=default_timeout, **options)
        self.entries = ByteLRU(max_bytes)

    @classmethod
    def factory(
        cls, app: Flask, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]
    ) -> ByteCache:
        return cls(int(config["CACHE_MAX_BYTES"]), *args, **kwargs)

    def _timeout(self, timeout: int | None) -> float:
        return float(self.default_timeout if timeout is None else timeout)

    def get(self, key: str) -> Any:
        data = self.entries.get(key)
        return None if data is None else pickle.loads(data)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self.entries.put(key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL), self._timeout(timeout))
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        if self.entries.get(key) is not None:
            return False
        return self.set(key, value, timeout)

    def delete(self, key: str) -> bool:
        return self.entries.delete(key)

    def has(self, key: str) -> bool:
        return self.entries.get(key) is not None

    def clear(self) -> bool:
        self.entries.clear()
        return True
