"""Static files (/assets/ and Dash's /_dash-component-suites/): cached for a year where the URL
names the version, and compressed once per file version rather than on every request.

Dash versions both kinds of URL: an asset's carries its modification time (``?m=``), a
component file's a fingerprint in its name. Such a URL always means the same bytes, so it is
sent ``immutable`` with a year's max-age; any other URL is revalidated (``no-cache`` and an
ETag). A text file is compressed once per version with brotli (quality 11, or 9 for bundles
over 2 MB, where 11 takes seconds) and gzip (level 9) into a directory of files named by the
content's hash, which every worker and every later start shares (``python -m web.static``
fills it ahead: ``make serve`` does); each response is one of those files as it is. Before,
the 1.5 MB Plotly bundle was compressed again on every request (0.14 s of CPU) and gzip-only
clients got it uncompressed.

A component path Dash did not register (a typo, a probe, a traversal) is a plain 404; Dash's
own view raised, which logged a 2.5 KB traceback per request.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import brotli
from dash import Dash
from dash.fingerprint import check_fingerprint
from flask import Flask, Response, abort, request, send_file
from werkzeug.security import safe_join

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
YEAR = 365 * 24 * 3600
COMPRESSIBLE = {".js", ".css", ".json", ".map", ".svg", ".txt", ".html"}
LARGE = 2_000_000  # above this, brotli quality 9 (about 1 s for 5 MB) instead of 11
ENCODINGS = ("br", "gzip")  # preferred first


def cache_dir(env: Mapping[str, str]) -> Path:
    """STATIC_CACHE_DIR, or .cache/static in the checkout."""
    return Path(env.get("STATIC_CACHE_DIR") or ROOT / ".cache" / "static")


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(data, quality=11 if len(data) <= LARGE else 9)
    return gzip.compress(data, compresslevel=9, mtime=0)


def accepted(header: str) -> list[str]:
    """The codings of an Accept-Encoding header that we have, in our order of preference
    (``q=0`` refuses one)."""
    offered: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        offered[name.strip().lower()] = quality
    star = offered.get("*", 0.0)
    return [e for e in ENCODINGS if offered.get(e, star) > 0]


class StaticFiles:
    """Each file's compressed copies, made once per content (by hash) into ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._digests: dict[tuple[str, int, int], str] = {}  # (path, mtime_ns, size) → hash
        self._broken = False

    def digest(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        found = self._digests.get(key)
        if found is None:
            found = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
            self._digests[key] = found
        return found

    def copy(self, path: Path, digest: str, encoding: str) -> Path | None:
        """The file compressed with ``encoding``, made now if it is not there yet; None if the
        directory cannot be written (then the file goes out as it is)."""
        target = self.directory / f"{digest}.{'gz' if encoding == 'gzip' else encoding}"
        if target.exists():
            return target
        with self._lock:  # one compression per file in this process at a time
            if target.exists():
                return target
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                data = _compress(path.read_bytes(), encoding)
                fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".part-")
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)  # atomic: another worker may write the same file
            except OSError as exc:
                if not self._broken:
                    log.warning("static files go out uncompressed: %s", type(exc).__name__)
                self._broken = True
                return None
        return target

    def response(self, path: Path, versioned: bool) -> Response:
        """``path`` for this request: its best encoding, its caching, 304 when unchanged."""
        digest = self.digest(path)
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".map":
            mimetype = "application/json"
        body, encoding = path, ""
        compressible = path.suffix in COMPRESSIBLE
        if compressible:
            for candidate in accepted(request.headers.get("Accept-Encoding", "")):
                copy = self.copy(path, digest, candidate)
                if copy is not None:
                    body, encoding = copy, candidate
                    break
        etag = f'"{digest}{"-" + encoding if encoding else ""}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = Response(status=304)
        else:
            response = send_file(body, mimetype=mimetype, conditional=False, etag=False)
            # The ETag names the version; the copy's own name and date are nobody's business.
            del response.headers["Content-Disposition"]
            response.headers.pop("Last-Modified", None)
            if encoding:
                response.headers["Content-Encoding"] = encoding
        response.headers["ETag"] = etag
        if compressible:
            response.headers["Vary"] = "Accept-Encoding"
        response.headers["Cache-Control"] = (
            f"public, max-age={YEAR}, immutable" if versioned else "no-cache"
        )
        response.precompressed = True  # type: ignore[attr-defined]  # not compressed again
        return response


def _asset(folder: Path, filename: str) -> Path:
    joined = safe_join(str(folder), filename)
    if joined is None or not os.path.isfile(joined):
        abort(404)
    return Path(joined)


def _component(app: Dash, package: str, path_in_package: str) -> Path:
    """A file Dash registered for the page (only those: anything else is a 404)."""
    registered = app.registered_paths.get(package, set())
    module = sys.modules.get(package)
    if path_in_package not in registered or module is None or module.__file__ is None:
        abort(404)
    path = Path(module.__file__).parent / path_in_package
    if not path.is_file():
        abort(404)
    return path


def serve_static(app: Dash, files: StaticFiles) -> None:
    """Route /assets/ and /_dash-component-suites/ through ``files``."""
    server: Flask = app.server
    folder = Path(app.config.assets_folder)

    def asset(filename: str) -> Response:
        path = _asset(folder, filename)
        # Dash writes the file's modification time as repr(float) (dash.py, "?m=").
        versioned = request.args.get("m") == repr(os.path.getmtime(path))
        return files.response(path, versioned)

    def component(package_name: str, fingerprinted_path: str) -> Response:
        path_in_package, fingerprinted = check_fingerprint(fingerprinted_path)
        return files.response(_component(app, package_name, path_in_package), fingerprinted)

    routes = {rule.rule: rule.endpoint for rule in server.url_map.iter_rules()}
    prefix = app.config.requests_pathname_prefix
    server.view_functions[routes[f"{prefix}assets/<path:filename>"]] = asset
    suites = f"{prefix}_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"
    server.view_functions[routes[suites]] = component


def compressible_files(app: Dash) -> Iterator[Path]:
    """Every text file the page can ask for: the assets and Dash's registered files."""
    app._setup_server()  # registers the component files, as the first request would
    folder = Path(app.config.assets_folder)
    yield from (p for p in sorted(folder.rglob("*")) if p.suffix in COMPRESSIBLE)
    for package, paths in sorted(app.registered_paths.items()):
        module = sys.modules.get(package)
        if module is not None and module.__file__ is not None:
            base = Path(module.__file__).parent
            yield from (base / p for p in sorted(paths) if (base / p).suffix in COMPRESSIBLE)


def precompress(
    app: Dash, files: StaticFiles | None = None, say: Callable[[str], None] = print
) -> None:
    """Compress every file ahead (``make serve`` runs this before gunicorn starts)."""
    files = files or StaticFiles(cache_dir(os.environ))
    for path in compressible_files(app):
        if path.is_file():
            digest = files.digest(path)
            for encoding in ENCODINGS:
                files.copy(path, digest, encoding)
    say(f"static files compressed into {files.directory}")
