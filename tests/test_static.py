"""Static files and error pages (issue 15, item 6).

Versioned URLs (the ones the page itself names) are cached for a year as immutable; each text
file goes out as brotli or gzip made once per file version, never compressed again per
request; a bad component path is a 404 with nothing in the log; no error page from the app or
from gunicorn names a version or carries a traceback.
"""

from __future__ import annotations

import gzip
import logging
import re
import socket
import subprocess
import sys
from importlib.metadata import version

import brotli
import pytest

from app import create_app
from tests.live import free_port, start_gunicorn

YEAR = "max-age=31536000"
LEAKS = ("Traceback", 'File "', "site-packages", "/work/")
VERSIONS = (
    "gunicorn/",
    "Werkzeug/",
    "Python/",
    sys.version.split()[0],
    *(version(name) for name in ("gunicorn", "werkzeug", "flask", "dash")),
)


@pytest.fixture(scope="module")
def client():
    return create_app({}).server.test_client()


@pytest.fixture(scope="module")
def page_files(client):
    """Every script and stylesheet URL of the index page."""
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites)/[^"]+)"', html)
    assert any("/assets/" in u for u in urls) and any("component-suites" in u for u in urls)
    return urls


def body(answer) -> bytes:
    data = answer.get_data()
    encoding = answer.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "gzip":
        return gzip.decompress(data)
    assert encoding is None
    return data


def test_the_page_names_only_versioned_files_cached_for_a_year(client, page_files):
    for url in page_files:
        answer = client.get(url)
        assert answer.status_code == 200, url
        cache = answer.headers["Cache-Control"]
        assert YEAR in cache and "immutable" in cache and "public" in cache, (url, cache)


@pytest.mark.parametrize(
    "accept, expected",
    [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), ("", None)],
)
def test_text_files_go_out_in_the_best_encoding_the_client_takes(
    client, page_files, accept, expected
):
    for url in page_files:
        if not url.split("?")[0].endswith((".js", ".css")):
            continue
        plain = client.get(url, headers={"Accept-Encoding": ""})
        answer = client.get(url, headers={"Accept-Encoding": accept})
        assert answer.headers.get("Content-Encoding") == expected, url
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert body(answer) == plain.get_data(), url  # the same file, whichever coding


def test_an_unversioned_or_stale_url_is_revalidated(client, page_files):
    asset = next(
        u for u in page_files if u.startswith("/assets/") and u.endswith(tuple("0123456789"))
    )
    for url in (asset.split("?")[0], asset.split("?")[0] + "?m=1.5"):
        answer = client.get(url, headers={"Accept-Encoding": "br"})
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-cache"
        again = client.get(
            url, headers={"Accept-Encoding": "br", "If-None-Match": answer.headers["ETag"]}
        )
        assert again.status_code == 304 and not again.get_data()
        other = client.get(
            url, headers={"Accept-Encoding": "gzip", "If-None-Match": answer.headers["ETag"]}
        )
        assert other.status_code == 200  # a different coding is a different entity


def test_each_file_is_compressed_once_per_version(tmp_path, monkeypatch):
    server = create_app({"STATIC_CACHE_DIR": str(tmp_path)}).server
    client = server.test_client()
    calls = []
    real_br, real_gz = brotli.compress, gzip.compress
    monkeypatch.setattr(brotli, "compress", lambda *a, **k: calls.append("br") or real_br(*a, **k))
    monkeypatch.setattr(gzip, "compress", lambda *a, **k: calls.append("gz") or real_gz(*a, **k))
    url = "/assets/style.css"
    for _ in range(5):
        for accept in ("br", "gzip"):
            answer = client.get(url, headers={"Accept-Encoding": accept})
            assert answer.status_code == 200 and answer.headers["Content-Encoding"] in (
                "br",
                "gzip",
            )
    assert sorted(calls) == ["br", "gz"]  # once each, for all ten requests
    assert len(list(tmp_path.iterdir())) == 2
    # A page response is still compressed by flask-compress (it is made per request anyway).
    assert (
        client.get("/", headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"
    )


BAD_COMPONENT_PATHS = [
    "/_dash-component-suites/nonexistent/foo.js",
    "/_dash-component-suites/dash/nothere.js",
    "/_dash-component-suites/dash/deps/nothere@1.v4_4_1m1.0.js",
    "/_dash-component-suites/dash/../../../etc/passwd",
    "/_dash-component-suites/dash/..%2f..%2fapp.py",
    "/_dash-component-suites/os/os.py",
    "/_dash-component-suites/dash/__init__.py",
    "/assets/../app.py",
    "/assets/nothere.js",
]


@pytest.mark.parametrize("path", BAD_COMPONENT_PATHS)
def test_a_bad_static_path_is_a_quiet_404(client, caplog, path):
    with caplog.at_level(logging.DEBUG):
        answer = client.get(path)
    assert answer.status_code == 404
    text = answer.get_data(as_text=True)
    assert not any(leak in text for leak in LEAKS + VERSIONS), text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


def http(line: str, *headers: str, body: bytes = b"") -> bytes:
    """One HTTP/1.1 request, closing the connection after it."""
    head = [f"{line} HTTP/1.1", "Host: x", "Connection: close", *headers]
    if body:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def raw(port: int, request: bytes) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode("latin1")


def test_no_error_page_from_any_layer_names_a_version_or_a_traceback():
    port = free_port()
    proc = start_gunicorn(port, {"WORKERS": "1", "ACCESS_LOG": ""}, output=subprocess.PIPE)
    try:
        requests = {
            # gunicorn's own error pages (its parser refuses these before the app sees them)
            "400": b"GARBAGE\r\n\r\n",
            "400 version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
            "414": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            "431": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
            "fields": b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 120 + b"\r\n",
            # the app's
            "404": http("GET /_dash-component-suites/dash/nothere.js"),
            "405": http("DELETE /api/race"),
            "413": http("POST /api/race", "Content-Length: 99999999"),
            "400 api": http("POST /api/race", "Content-Type: application/json", body=b"{"),
        }
        for name, request in requests.items():
            answer = raw(port, request)
            status = answer.split("\r\n", 1)[0]
            assert re.match(r"HTTP/1\.[01] [45]\d\d ", status), (name, status)
            for leak in LEAKS + VERSIONS:
                assert leak not in answer, (name, leak, answer[:600])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log = proc.stdout.read().decode()
    assert "Traceback" not in log, log[-2000:]
