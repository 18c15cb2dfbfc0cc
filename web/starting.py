"""``make run``'s server while the app is still being built: the port answers from the first
second, so a newcomer who opens the page, or a script that asks ``/healthz``, is told how far
the start is instead of being refused.

Building the app runs the opening race, which waits for its loops: on a fresh clone that is
the first compile (~20 s on two cores). Until then every path answers 503 with Retry-After:
``/healthz`` with the warm-up's progress (as the app's own ``/healthz`` gives it, under
``warm_up``), any other path with a short page that says what is happening and reloads
itself. Nothing of the request is read or echoed. Once the app is built every request goes
to it. gunicorn never uses this: its master warms everything before it serves.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from typing import Any

from optimizers import readiness

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RETRY_SECONDS = 2


def _page(progress: dict[str, Any], opening: tuple[int, int]) -> bytes:
    ready, needed = opening
    if progress["total"]:
        where = (
            f"{ready} of the opening race's {needed} parts ready; {progress['done']} of "
            f"{progress['total']} in all, the others compiled behind the page"
        )
    else:
        where = "starting up"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='{RETRY_SECONDS}'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Optimizer Race is starting</title></head>"
        "<body style='font: 20px/1.5 system-ui, sans-serif; max-width: 36em; margin: 2em auto;"
        " padding: 0 1em'><h1>Optimizer Race is starting</h1>"
        "<p role='status'>This server started moments ago and is compiling its racers, once "
        f"per install ({html.escape(where)}). This page opens by itself as soon as the opening "
        "race's racers are ready.</p></body></html>"
    ).encode()


class Starting:
    """A WSGI app that answers for the app until ``serve(app)`` is called, then is the app.
    ``opening``: the warm-up's jobs the opening race waits for (``optimizers.warm.jobs``), whose
    count the page gives (the page opens after them, not after all)."""

    def __init__(self, opening: Iterable[str] = ()) -> None:
        self.app: WSGI | None = None
        self.opening = frozenset(opening)  # the warm-up's jobs the opening race needs

    def serve(self, app: WSGI) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        app = self.app
        if app is not None:
            return app(environ, start_response)
        progress = readiness.status()
        if environ.get("PATH_INFO") == "/healthz":
            body = json.dumps({"status": "starting", "warm_up": progress}).encode()
            kind = "application/json"
        else:
            with readiness.PROGRESS.lock:
                ready = len(self.opening & set(readiness.PROGRESS.done))
            body, kind = _page(progress, (ready, len(self.opening))), "text/html; charset=utf-8"
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(RETRY_SECONDS)),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]
