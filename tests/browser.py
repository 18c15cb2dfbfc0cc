"""A live app and Debian's Chromium for the browser tests and the browser bench."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
# No internet here: without these, Chromium's background connections fail noisily.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
READY = "() => window.optimizerRace && window.optimizerRace.heads.length > 0"


@contextlib.contextmanager
def serve(wsgi_app: Any) -> Iterator[str]:
    """Serve ``wsgi_app`` on a free loopback port in a thread; yields its URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def control(kind: str, index: int) -> str:
    """CSS selector of a pattern-matching control (Dash writes the id as sorted JSON)."""
    return f'[id=\'{{"index":{index},"type":"{kind}"}}\']'
