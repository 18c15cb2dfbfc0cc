"""The browser session: a signed cookie handed out with the page, so that thirty students
behind one school address are thirty clients, not one (issue 24; service/clients.py says who
a request is from).

``or_session=<id>.<sig>``: ``id`` is 16 random bytes (urlsafe base64), ``sig`` the HMAC-SHA256
of the id under the deployment's secret. It says nothing about anyone: no login, no personal
data, and the server keeps nothing per session but the limits' counters. A value that is
not exactly one the server signed (altered, forged, malformed, from another deployment's
secret) is no session: the request is counted by its address, never refused for it.

The secret is ``SESSION_SECRET`` (at least 32 characters), else random bytes made when the
app is built; gunicorn builds the app once before forking (``preload_app``), so a host's
workers share it, and a restart only means browsers are handed new cookies. Several hosts
behind one balancer must share one ``SESSION_SECRET``.

The cookie is issued with the index page only (a GET answered 200 with HTML), to a request
without a valid one: ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (not sent on
cross-site subrequests, so another site cannot spend a visitor's allowance), ``Path=/``,
``Secure`` when the request came over TLS (``request.is_secure``, which honours
X-Forwarded-Proto from TRUSTED_PROXIES). It lasts ``MAX_AGE``, a week: a class keeps its
cookies from one lesson to the next in that week instead of asking for thirty again.

Each address is handed at most ``ISSUES_PER_CLASS`` × ``CLASS_SESSIONS`` new sessions per
``ISSUE_WINDOW`` (counted in the host's SQLite file, service/hoststore.py, which every worker
shares): a script that fetches the page in a loop cannot mint an identity per request. The
count is generous on purpose: what all sessions of one address may do together is bounded by
the limiter's and the work budget's classroom ceiling (web/hardening.py, service/budget.py),
not by this count, while a school that ran out of new sessions served its next class blank
pages (a try-out: two classes, private windows and reloads reached one class's 40 within
minutes, and browsers without a cookie share one client's allowance at nginx, static files
included). Past it the page still loads, without a cookie, and that browser is counted by
its address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from flask import Flask, Response, g, request
from limits import RateLimitItemPerMinute
from limits.strategies import FixedWindowRateLimiter

from service.clients import SESSION_ATTRIBUTE, class_sessions, current_client
from service.hoststore import HostStore, SqliteStorage

COOKIE = "or_session"
MAX_AGE = 7 * 24 * 3600  # seconds: a week of lessons
ISSUE_WINDOW = 10  # minutes in which one address is handed at most ...
ISSUES_PER_CLASS = 10  # ... this many times CLASS_SESSIONS new sessions
MIN_SECRET = 32  # characters of SESSION_SECRET
ID_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


ID_LENGTH = len(_b64(bytes(ID_BYTES)))
VALUE_LENGTH = ID_LENGTH + 1 + len(_b64(bytes(hashlib.sha256().digest_size)))


def session_secret(env: Mapping[str, str]) -> bytes:
    """SESSION_SECRET's bytes, else a new random secret (this process and its forks')."""
    raw = env.get("SESSION_SECRET", "")
    if not raw:
        return secrets.token_bytes(32)
    if len(raw) < MIN_SECRET:
        raise ValueError(f"SESSION_SECRET must be at least {MIN_SECRET} characters")
    return raw.encode()


class SessionCookies:
    """Makes and checks ``<id>.<sig>`` values under one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, session: str) -> str:
        return _b64(hmac.new(self._secret, session.encode("ascii"), hashlib.sha256).digest())

    def new(self) -> str:
        session = _b64(secrets.token_bytes(ID_BYTES))
        return f"{session}.{self._sign(session)}"

    def verify(self, value: str | None) -> str | None:
        """The session id ``value`` carries if this secret signed it, else None (whatever
        ``value`` holds: no exception)."""
        if not value or len(value) != VALUE_LENGTH or not value.isascii():
            return None
        session, dot, sig = value.partition(".")
        if not dot or len(session) != ID_LENGTH:
            return None
        if not hmac.compare_digest(sig.encode("ascii"), self._sign(session).encode("ascii")):
            return None
        return session


def register_sessions(server: Flask, env: Mapping[str, str], host: HostStore) -> None:
    """Check each request's cookie before anything else of the request runs (the limiter
    reads the session), and hand the index page a new one where it had none."""
    cookies = SessionCookies(session_secret(env))
    issued = FixedWindowRateLimiter(SqliteStorage(f"sqlite://{host.path}"))
    per_address = RateLimitItemPerMinute(ISSUES_PER_CLASS * class_sessions(env), ISSUE_WINDOW)

    def verify() -> None:
        session = cookies.verify(request.cookies.get(COOKIE))
        if session is not None:
            setattr(g, SESSION_ATTRIBUTE, session)

    # First of the app's before-request functions, whatever was registered before this.
    server.before_request_funcs.setdefault(None, []).insert(0, verify)

    @server.after_request
    def issue(response: Response) -> Response:
        client = current_client()
        if (
            client is None
            or client.session is not None
            or request.method != "GET"
            or response.status_code != 200
            or response.mimetype != "text/html"
        ):
            return response
        if issued.hit(per_address, "sessions", client.address):
            response.set_cookie(
                COOKIE,
                cookies.new(),
                max_age=MAX_AGE,
                path="/",
                secure=request.is_secure,
                httponly=True,
                samesite="Lax",
            )
            # A shared cache must not hand this response, and so this cookie, to anyone else.
            response.cache_control.private = True
        return response
