"""What a public server needs around the app: limits, compression, headers, quiet errors.

Each piece is an existing engine configured here (flask-compress, flask-limiter with its
counters in the shared Redis or, without it, in the host's SQLite file that every worker
shares, Flask's body limit), not code of ours. The work budget (service/budget.py) refuses
from inside the engine's service; its refusal is answered here like flask-limiter's: 429 with
Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dash import Dash
from flask import Blueprint, Flask, Response, jsonify, request
from flask_compress import Compress
from flask_limiter import Limiter, RouteLimit
from limits import parse_many
from werkzeug.exceptions import HTTPException

from optimizers import readiness
from service.budget import OverBudget
from service.clients import class_sessions, current_client
from service.hoststore import HostStore
from service.races import RaceService
from service.store import redis_options, redis_url
from web.callback_guard import guard_callbacks
from web.metering import meter
from web.preview import PREVIEW_ENDPOINT
from web.proxy import trust_proxies, trusted_proxies
from web.session import register_sessions
from web.static import StaticFiles, cache_dir, serve_static

log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 1024 * 1024  # the page's callbacks send a few KB; the API's limit is lower


def settings(env: Mapping[str, str]) -> dict[str, str]:
    """Serving settings from the environment (documented in the README)."""
    return {
        "rate_limit": env.get("RATE_LIMIT", "600 per minute"),
        "api_rate_limit": env.get("API_RATE_LIMIT", "120 per minute"),
        "frame_ancestors": env.get("FRAME_ANCESTORS", "'self'"),
        "redis": redis_url(env),
    }


def content_security_policy(app: Dash, frame_ancestors: str) -> str:
    scripts = " ".join(app.csp_hashes())  # each already quoted, e.g. 'sha256-…'
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}",
            # Plotly and Dash's components set inline styles; no inline script runs.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def by_client() -> str:
    """flask-limiter's key: the request's session, or without one its address (an IPv6
    address's /64; service/clients.py)."""
    client = current_client()
    return client.key if client is not None else ""


def by_address() -> str:
    """The classroom ceiling's key: the address every session behind it shares."""
    client = current_client()
    return client.address_key if client is not None else ""


def without_session() -> bool:
    """Exempt from the classroom ceiling: a client without a session is already limited by
    its address, at one client's allowance."""
    client = current_client()
    return client is None or client.session is None


def classroom(limit: str, sessions: int) -> str:
    """A flask-limiter limit string for ``sessions`` clients: each of its amounts times
    ``sessions`` ("600 per minute", 40: "24000 per 1 minute")."""
    return "; ".join(
        f"{item.amount * sessions} per {item.multiples} {item.GRANULARITY.name}"
        for item in parse_many(limit)
    )


def per_client(
    limiter: Limiter, limit: str, sessions: int, scope: str | None = None
) -> list[RouteLimit]:
    """``limit`` for each client (a browser session, or a client without one by its
    address), and for clients with a session a classroom ceiling on their address of
    ``sessions`` times it, so that a class behind one school address is not refused as one
    client while one address still cannot take more than a class's share. With ``scope``
    one count across every route decorated (flask-limiter's shared limit), else one per
    route. Each returned limit decorates a view function or a blueprint."""
    ceiling = classroom(limit, sessions)
    if scope is None:
        return [
            limiter.limit(limit),
            limiter.limit(ceiling, scope="class", key_func=by_address, exempt_when=without_session),
        ]
    return [
        limiter.shared_limit(limit, scope=scope),
        limiter.shared_limit(
            ceiling, scope=f"{scope}:class", key_func=by_address, exempt_when=without_session
        ),
    ]


def _error_response(status: int, message: str) -> Response:
    if request.path.startswith("/api/"):
        response = jsonify({"error": message, "field": ""})
        response.status_code = status
        return response
    return Response(message + "\n", status=status, mimetype="text/plain")


def harden(
    app: Dash, service: RaceService, env: Mapping[str, str], api: Blueprint, host: HostStore
) -> None:
    """Limits, compression, headers and quiet errors around the app; registers the ``api``
    blueprint under its own rate limit. Without Redis the limiter counts in ``host``."""
    server: Flask = app.server
    conf = settings(env)
    trust_proxies(server, trusted_proxies(env))  # before the limiter reads addresses
    server.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "application/json",
            "text/javascript",
            "application/javascript",
        ],
        COMPRESS_MIN_SIZE=500,
        COMPRESS_REGISTER=False,  # registered below, skipping what web/static.py compressed
    )
    compress = Compress(server)

    @server.after_request
    def compressed(response: Response) -> Response:
        if getattr(response, "precompressed", False):
            return response
        return compress.after_request(response)

    serve_static(app, StaticFiles(cache_dir(env)))
    register_sessions(server, env, host)  # the limiter's key reads the session
    if service.budget is not None:
        meter(server, service.budget)  # each request's CPU time, charged to its client
    limiter = Limiter(
        by_client,
        app=server,
        storage_uri=conf["redis"] or f"sqlite://{host.path}",
        # Short timeouts, no retry on a timeout: a hung Redis costs the limiter one short
        # wait, after which it counts in memory and checks Redis again with back-off.
        storage_options=redis_options(env) if conf["redis"] else {},
        in_memory_fallback_enabled=True,  # the store gone: count in memory, keep answering
        default_limits=[],
        headers_enabled=True,
    )
    sessions = class_sessions(env)
    guard_callbacks(app, _error_response)  # each callback request fits its callback's shape
    # The page's callbacks and its drag previews (web/preview.py) count against one limit.
    for page_limit in per_client(limiter, conf["rate_limit"], sessions, scope="page"):
        for endpoint in ("/_dash-update-component", PREVIEW_ENDPOINT):
            server.view_functions[endpoint] = page_limit(server.view_functions[endpoint])
    for api_limit in per_client(limiter, conf["api_rate_limit"], sessions):
        api_limit(api)
    server.register_blueprint(api)
    csp = content_security_policy(app, conf["frame_ancestors"])

    @server.after_request
    def headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Content-Security-Policy"] = csp
        return response

    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        messages = {
            413: f"request body too large (at most {MAX_REQUEST_BYTES} bytes)",
            429: "too many requests; slow down and retry shortly",
        }
        if isinstance(exc, OverBudget):
            messages[429] = exc.description or messages[429]
        response = _error_response(exc.code or 500, messages.get(exc.code or 0, exc.name))
        for name, value in exc.get_headers():  # the budget's Retry-After, 405's Allow
            if name != "Content-Type":
                response.headers[name] = value
        return response

    @server.errorhandler(Exception)
    def crash(exc: Exception) -> Any:
        if request.path == "/_dash-update-component":
            # The page's own requests never fail here (its callbacks catch and report);
            # a request that trips Dash's parsing was malformed or forged.
            log.warning("malformed callback request refused (%s)", type(exc).__name__)
            return _error_response(400, "malformed callback request")
        log.exception("unhandled error on %s", request.path)
        return _error_response(500, "internal error")

    @server.get("/healthz")
    def health() -> Any:
        # "status" stays "ok" while the cache is down or stalled: the app still answers
        # (computing), and a balancer that pulled every host over a shared Redis would take
        # the whole site down; "cache" says what the cache is doing.
        return jsonify(
            status="ok",
            cache=service.cache_health(),
            engine_runs=service.engine_runs,
            warm_up=readiness.status(),
        )
