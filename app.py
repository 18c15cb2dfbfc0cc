"""Optimizer Race: the Dash app. ``make run`` serves it at http://127.0.0.1:8050.

``create_app`` reads its configuration from the environment (or a mapping, for tests), so
gunicorn, the tests and ``python app.py`` all build the same app; ``server`` is the WSGI app.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dash import Dash
from flask import Response, has_request_context, make_response, request
from plotly.io.json import to_json_plotly
from werkzeug.exceptions import NotFound
from werkzeug.serving import WSGIRequestHandler

from callbacks.entry import EntryKey, beat_of, entry_key, entry_race
from callbacks.race import opening_update, preparing_words
from callbacks.wiring import register
from layouts.ids import page_ids
from layouts.page import beat_block, page
from lessons import LESSONS
from optimizers import readiness
from service.budget import make_budget
from service.hoststore import HostStore, host_store_path
from service.races import RaceService
from service.store import make_breaker, make_cache, megabytes
from web.answers import Answers
from web.api import make_api
from web.hardening import harden
from web.picture import show_on_opening_page
from web.preview import register_preview
from web.qr import public_hosts

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")


def page_args() -> dict[str, str]:
    """The page URL's query: Dash's renderer fetches the layout from /_dash-layout, without
    the page's query string, so it is read from the Referer (same origin; the referrer
    policy keeps the full URL for same-origin requests)."""
    if not has_request_context():
        return {}
    if request.args:
        return dict(request.args)
    query = urlsplit(request.referrer or "").query
    return {k: v[0] for k, v in parse_qs(query).items()}


def card_slots(key: EntryKey, race: dict[str, Any]) -> list[int]:
    """Each racer's card index (its colour, marker and line pattern): a link's ``slots``, else
    0, 1, 2, …. The one place that order is decided, for the page's cards and its stores."""
    return list(key.slots) or list(range(len(race["racers"])))


# The icon is inline: browsers fetch a linked favicon again whenever the page's address
# changes, and the address follows every change of the race (share links).
INDEX = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        <link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'
 viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='6' fill='%23D55E00'/%3E%3C/svg%3E">
        {%css%}
        <script id="page-ids" type="application/json">PAGE_IDS</script>
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


# The pages' JSON kept per worker (the heaviest page is ~3 MB; the opening page ~0.2 MB).
DEFAULT_PAGE_CACHE_MB = 16
# Exports kept as bytes per worker (a 12-racer × 5,000-step race's JSON is ~6 MB).
DEFAULT_EXPORT_CACHE_MB = 16


class RaceDash(Dash):
    """Dash whose index page carries the lesson beat its address names (layouts.page), and
    whose layout route answers with the page's JSON from a cache bounded in bytes
    (``layout_json``), not a layout built and serialised again per request."""

    layout_json: Any = None  # () -> Response of the page's JSON, set by create_app

    def serve_layout(self) -> Any:
        if self.layout_json is None:
            return super().serve_layout()
        response = self.layout_json()
        # The layout is the page of the link in the Referer (``page_args``) at one URL: no
        # shared cache may keep it (private), and a browser asks again for each page
        # (no-cache; no-store would add nothing, as there is no validator to revalidate with).
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Referer")
        return response

    def index(self, *args: Any, **kwargs: Any) -> Any:
        # The page varies with its own URL (a lesson's beat), which caches key on, but it is
        # also where a browser gets its session cookie: kept out of shared caches, and
        # revalidated rather than no-store, which would keep it out of the back/forward cache.
        response = make_response(super().index(*args, **kwargs))
        response.headers["Cache-Control"] = "private, no-cache"
        return response

    def serve_reload_hash(self) -> Any:
        # Hot reload is never on here (debug is off everywhere), but Dash registers its poll
        # route regardless, and it answers the registered package paths: not found instead.
        raise NotFound()

    def interpolate_index(self, **kwargs: Any) -> str:
        # Only the lesson and its beat: the race a link carries is not decoded for this.
        args = page_args()
        lesson = LESSONS.get(args.get("lesson", ""))
        if lesson is not None:
            kwargs["config"] += beat_block(lesson, max(beat_of(lesson.name, args.get("beat")), 0))
        if readiness.ACTIVE.is_set():  # make run's warm-up: a link's layout may wait for it
            kwargs["app_entry"] = kwargs["app_entry"].replace("Loading...", WARMING_UP, 1)
        return super().interpolate_index(**kwargs)


# What the page says until its layout arrives while the server's first warm-up runs.
WARMING_UP = (
    "Loading… This server started moments ago and is still compiling its racers (once per install)."
)


def unready(race: dict[str, Any]) -> list[str]:
    """The titles of ``race``'s optimizers (a page's validated race) whose loops ``make
    run``'s background warm-up has not made ready, put first in its queue; none in
    production (gunicorn's master warms everything before it serves)."""
    names = [racer["optimizer"] for racer in race["racers"]]  # validated (entry_race)
    titles = readiness.preparing(names)
    if titles:
        readiness.want(names)
    return titles


def create_app(env: Mapping[str, str] | None = None) -> Dash:
    env = os.environ if env is None else env
    app = RaceDash(
        __name__,
        title="Optimizer Race",
        # Phones lay the page out at their own width (the stylesheet's one-column layout).
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        update_title=None,
        serve_locally=True,
        # Load plotly.js with the page rather than after the first graph mounts.
        eager_loading=False,
        # With a layout function Dash would otherwise embed a whole "validation layout" (the
        # opening race included, ~190 KB) in every index page; the ids are tested instead.
        suppress_callback_exceptions=True,
        assets_folder=ASSETS,
        # The 3-D view's plotly bundle is served but not loaded with the page: the view
        # loads it when it first opens (assets/view3d.js).
        assets_ignore=r"plotly-gl3d",
        # The page's component ids (layouts/ids.py), read by the browser scripts: a data block,
        # never executed (so the Content-Security-Policy needs no hash for it).
        index_string=INDEX.replace("PAGE_IDS", json.dumps(page_ids()).replace("<", "\\u003c")),
    )
    # The host's limits file, made before gunicorn forks: every worker counts in it.
    host = HostStore(host_store_path(env))
    service = RaceService(make_cache(app.server, env), make_breaker(env), make_budget(env, host))

    def layout_for(key: EntryKey) -> Any:
        # The page's race (the opening race, a lesson or a shared race) is sent with the
        # layout: no round trip before it shows.
        race, lesson, note = entry_race(key)
        # A link's racers keep their card indices, and with them their colours (``slots``).
        slots = card_slots(key, race)
        waiting = unready(race)
        if waiting:
            # make run's warm-up has not compiled this race's loops yet: the page now, saying
            # so, and its race once they are ready (the race callback polls for it).
            stores: dict[str, Any] = {"race": None, "keys": {}, "surface": None}
            words = preparing_words(waiting)
            return page(
                race, stores, lesson=lesson, note=note, beat=key.beat, slots=slots, preparing=words
            )
        opening = opening_update(race, service, slots)
        stores = {"race": opening.store, "keys": opening.keys, "surface": opening.surface}
        return page(race, stores, lesson=lesson, note=note, beat=key.beat, slots=slots)

    # Each page's JSON is built once per key (not per raw URL) and kept, with its compressed
    # copies, within a bound in bytes: one per link, the pages of 2,000 links held a gigabyte
    # per worker, and a heavy link's 4 MB were gzipped again on every request.
    pages = Answers(megabytes(env, "PAGE_CACHE_MB", DEFAULT_PAGE_CACHE_MB))

    def layout_json(key: EntryKey) -> bytes:
        return to_json_plotly(layout_for(key)).encode()

    def layout_response() -> Response:
        key = entry_key(page_args())
        # A page still waiting for its race is not kept. Only while make run's warm-up runs:
        # otherwise a kept page is answered without reading its link again.
        if readiness.ACTIVE.is_set() and unready(entry_race(key)[0]):
            return Response(layout_json(key), mimetype="application/json")
        return pages.response(key, lambda: layout_json(key))

    app.layout = lambda: layout_for(entry_key(page_args()))
    app.layout_json = layout_response
    app.pages = pages  # type: ignore[attr-defined]  # read by the memory test and bench
    # The opening page at start-up (gunicorn preloads it into every worker).
    pages.data(EntryKey(), lambda: layout_json(EntryKey()))
    # Until its map is drawn, the opening page shows a picture of it (web/picture.py).
    race = entry_race(EntryKey())[0]
    opening = opening_update(race, service, card_slots(EntryKey(), race))
    show_on_opening_page(app, opening.surface, opening.store)
    register(app, service)
    register_preview(app.server, service)
    exports = Answers(megabytes(env, "EXPORT_CACHE_MB", DEFAULT_EXPORT_CACHE_MB))
    harden(app, service, env, make_api(service, public_hosts(env), exports), host)
    # Dash's first-request set-up checks a layout: done here, on the opening page, rather than
    # on whatever page the first request's query names (charged to its client) in each worker.
    with app.server.app_context():
        app._setup_server()
    return app


@functools.cache
def default_app() -> Dash:
    """The app built from the environment, once per process: what gunicorn serves
    (``app:server``) and ``python app.py`` runs."""
    return create_app()


def __getattr__(name: str) -> Any:
    """``app`` and ``server`` are built on first use (PEP 562), not when the module is
    imported: a process that imports ``create_app`` (every test module, each test worker)
    builds no app it does not use (1 to 4 s each, the opening race included)."""
    if name == "app":
        return default_app()
    if name == "server":
        return default_app().server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class QuietHandler(WSGIRequestHandler):
    """The development server without its version banner in the Server header."""

    server_version = "optimizer-race"
    sys_version = ""


if __name__ == "__main__":  # make run: the page is served while the other loops compile
    import threading

    from werkzeug.serving import run_simple

    from callbacks.form import OPENING_RACE
    from optimizers.registry import OPTIMIZERS
    from optimizers.warm import jobs, start
    from web.starting import Starting

    start()
    first = ", ".join(OPTIMIZERS[r["optimizer"]].card.title for r in OPENING_RACE["racers"])
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8050"))
    print(
        f"Open http://{host}:{port}/ : it says how far the start is until the opening race's "
        f"loops are ready ({first}), then shows the page; the other loops go on compiling in "
        "the background (/healthz: warm_up).",
        flush=True,
    )
    # The port answers at once (web/starting.py) while the app, its opening race included, is
    # built beside it.
    wanted = {f"loop:{r['optimizer']}" for r in OPENING_RACE["racers"]}
    starting = Starting(k for j in jobs() if j.key in wanted for k in (j.key, *j.needs))

    def build() -> None:
        starting.serve(default_app().server)
        print(f"The page is served at http://{host}:{port}/", flush=True)

    threading.Thread(target=build, name="build-app", daemon=True).start()
    run_simple(host, port, starting, threaded=True, request_handler=QuietHandler)
