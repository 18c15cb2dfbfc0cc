"""Whose request is this: the client's address behind a known number of reverse proxies.

Every per-client limit is keyed by the client's address. Behind a proxy the socket's peer is
the proxy, so every client would share one budget; but X-Forwarded-For is whatever the client
wrote, so believing it without a proxy in front would let anyone pick a fresh address per
request. TRUSTED_PROXIES says how many proxies stand in front (each appends the address it
saw): Werkzeug's ProxyFix then takes the address that many hops from the right, which only
those proxies wrote. With 0 (the default) the headers are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def trusted_proxies(env: Mapping[str, str]) -> int:
    """TRUSTED_PROXIES: a whole number >= 0 (0 when unset)."""
    raw = env.get("TRUSTED_PROXIES", "").strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"TRUSTED_PROXIES must be a whole number >= 0, got {raw!r}")
    return int(raw)


def trust_proxies(server: Flask, count: int) -> None:
    """Read the client's address, scheme and host from the ``count`` nearest proxies'
    X-Forwarded-For, -Proto and -Host (the students' link is built on the public host)."""
    if count > 0:
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=count, x_proto=count, x_host=count
        )
