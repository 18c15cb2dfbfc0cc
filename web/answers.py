"""Answers that are the same every time: serialised once, compressed once per encoding, kept.

A share link's page (up to ~4 MB of JSON) and a cached race's JSON export (up to ~6 MB) are the
same bytes for every request that names them, yet each request serialised them again and
flask-compress gzipped them again: 0.6 s of CPU for one export, free to ask for as often as a
client liked (issue 24, finding 2). Here each answer is kept as its bytes and as each encoding
a client asked for (brotli or gzip, in web/static.py's order of preference), within a bound in
bytes (service/lru.py), and a response is those bytes as they are. Dynamic answers are
compressed at a fast level (brotli 5, gzip 6): a first request pays that once, not quality 11's
seconds.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Hashable
from typing import Any

import brotli
from flask import Response, request

from service.lru import ByteLRU
from web.static import accepted

FAST = {
    "br": lambda data: brotli.compress(data, quality=5),
    "gzip": lambda data: gzip.compress(data, 6, mtime=0),
}
MIN_COMPRESS = 500  # as flask-compress's COMPRESS_MIN_SIZE: smaller goes out as it is


def json_bytes(data: Any) -> bytes:
    """``data`` as Flask's jsonify writes it outside debug mode (compact, keys sorted, ASCII),
    without needing an app context: a cached answer is the same whichever way it was made."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


class Answers:
    """Each key's answer bytes and their compressed copies, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.entries = ByteLRU(max_bytes)

    @property
    def bytes(self) -> int:
        return self.entries.bytes

    @property
    def max_bytes(self) -> int:
        return self.entries.max_bytes

    def data(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The answer's bytes: kept, or made now by ``make`` and kept."""
        found = self.entries.get((key, ""))
        if found is None:
            found = make()
            self.entries.put((key, ""), found)
        return bytes(found)

    def response(
        self, key: Hashable, make: Callable[[], bytes], mimetype: str = "application/json"
    ) -> Response:
        """The answer for this request's Accept-Encoding, compressed at most once per key."""
        encodings = accepted(request.headers.get("Accept-Encoding", ""))
        body, encoding = None, ""
        for candidate in encodings:
            kept = self.entries.get((key, candidate))
            if kept is not None:
                body, encoding = kept, candidate
                break
        if body is None:
            data = self.data(key, make)
            body = data
            if encodings and len(data) >= MIN_COMPRESS:
                encoding = encodings[0]
                body = FAST[encoding](data)
                self.entries.put((key, encoding), body)
        response = Response(bytes(body), mimetype=mimetype)
        if encoding:
            response.headers["Content-Encoding"] = encoding
        response.headers["Vary"] = "Accept-Encoding"
        response.precompressed = True  # type: ignore[attr-defined]  # not compressed again
        return response
