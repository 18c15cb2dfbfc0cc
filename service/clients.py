"""Who a request comes from: a browser session if it has one, and always its network address.

A school puts a whole class behind one address, so a limit per address treats thirty students
as one client (issue 24, finding 4). The page therefore hands each browser a signed session
cookie (web/session.py) and the limits count per session, under a per-address ceiling set for
a full classroom; a client without a valid cookie (the API, a script, a forged cookie) is
counted by its address, as before.

The address is the request's ``remote_addr`` after ProxyFix (web/proxy.py). An IPv6 client is
grouped by its /64: one household or one phone gets a whole /64 and picks any address in it,
so counting each /128 apart would give it billions of budgets. An IPv4-mapped IPv6 address
(``::ffff:192.0.2.1``, from a dual-stack socket) is the IPv4 address it maps.

The services sit below the web layer (tests/test_layers.py), so web/session.py verifies the
cookie and leaves the session id on ``flask.g`` under ``SESSION_ATTRIBUTE``; it is read here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from flask import g, has_request_context, request

# The attribute of ``flask.g`` holding the request's verified session id (set by
# web/session.py before anything else of the request runs; absent: no valid session).
SESSION_ATTRIBUTE = "or_session"
IPV6_GROUP = 64  # prefix length one IPv6 client is counted by
DEFAULT_CLASS_SESSIONS = 40


@dataclass(frozen=True)
class Client:
    """The request's verified session id (None without a valid cookie) and its address
    (IPv4 as is, IPv6 as its /64 network, e.g. ``2001:db8:1:2::/64``)."""

    session: str | None
    address: str

    @property
    def key(self) -> str:
        """Whose own allowance a request draws on: its session's, or without one its
        address's (``s:…`` and ``a:…`` never collide)."""
        return "s:" + self.session if self.session else self.address_key

    @property
    def address_key(self) -> str:
        """The address's key: a cookieless client's own allowance, and for clients with a
        session the classroom ceiling all sessions behind the address share."""
        return "a:" + self.address


def class_sessions(env: Mapping[str, str]) -> int:
    """CLASS_SESSIONS: how many sessions' worth one address may use together (the classroom
    ceiling of the limiter, web/hardening.py, and of the work budget, service/budget.py) and
    be handed per ten minutes (web/session.py); a whole number >= 1, 40 when unset."""
    raw = env.get("CLASS_SESSIONS", "").strip() or str(DEFAULT_CLASS_SESSIONS)
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"CLASS_SESSIONS must be a whole number >= 1, got {raw!r}")
    return int(raw)


def client_address(raw: str) -> str:
    """The address a client is counted by: IPv4 as is, IPv6 grouped to its /64, an
    IPv4-mapped IPv6 address as its IPv4; anything unparseable (a unix socket's empty
    address) as it came."""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # Built from the integer: a zone index ("fe80::1%eth0") is no part of the network.
        return str(ipaddress.IPv6Network((int(address), IPV6_GROUP), strict=False))
    return str(address)


def current_client() -> Client | None:
    """The client of the request being answered, or None outside a request (the opening
    page built at start-up is nobody's)."""
    if not has_request_context():
        return None
    return Client(
        session=getattr(g, SESSION_ATTRIBUTE, None),
        address=client_address(request.remote_addr or ""),
    )
