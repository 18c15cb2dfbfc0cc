"""Browser sessions (issue 24, finding 4): the page hands each browser a signed cookie, the
limits count per session under a classroom ceiling per address, and a client without a valid
cookie is counted by its address exactly as before (web/session.py, service/clients.py,
web/hardening.py)."""

from __future__ import annotations

import pytest
from flask import Flask, g

from app import create_app
from service.clients import (
    SESSION_ATTRIBUTE,
    Client,
    class_sessions,
    client_address,
    current_client,
)
from web.session import (
    COOKIE,
    ISSUES_PER_CLASS,
    MAX_AGE,
    SessionCookies,
    session_secret,
)

SECRET = "s" * 40
LIMITS = {
    "SESSION_SECRET": SECRET,
    "RATE_LIMIT": "3 per minute",
    "API_RATE_LIMIT": "3 per minute",
    "CLASS_SESSIONS": "2",
}
UPDATE = "/_dash-update-component"
SIGNED = SessionCookies(SECRET.encode())


@pytest.fixture(scope="module")
def app():
    return create_app(LIMITS)


def issued(response) -> dict[str, str] | None:
    """The or_session cookie a response sets, as its attributes (lower-cased names; the
    value under "value"), or None."""
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            value, *attributes = rest.split("; ")
            parts = {"value": value}
            for attribute in attributes:
                key, _, val = attribute.partition("=")
                parts[key.lower()] = val
            return parts
    return None


def page(server: Flask, address: str, **options):
    return server.test_client(use_cookies=False).get(
        "/", environ_base={"REMOTE_ADDR": address}, **options
    )


def callback(server: Flask, address: str, session: str | None = None) -> int:
    """A (malformed) callback request's status: 400 while the page limit lets it through,
    429 once it is spent. ``session``: the cookie's value, if any."""
    headers = {"Cookie": f"{COOKIE}={session}"} if session is not None else {}
    answer = server.test_client(use_cookies=False).post(
        UPDATE, json={}, headers=headers, environ_base={"REMOTE_ADDR": address}
    )
    return answer.status_code


def test_the_page_hands_out_a_signed_httponly_samesite_cookie(app):
    answer = page(app.server, "10.1.0.1")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    cookie = issued(answer)
    assert cookie is not None
    assert SIGNED.verify(cookie["value"]) is not None  # signed with SESSION_SECRET
    assert cookie["path"] == "/" and cookie["samesite"] == "Lax" and "httponly" in cookie
    assert int(cookie["max-age"]) == MAX_AGE
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back
    assert "private" in answer.headers["Cache-Control"]  # no shared cache hands it on
    # Each browser gets its own.
    assert issued(page(app.server, "10.1.0.1"))["value"] != cookie["value"]


def test_the_cookie_is_secure_over_tls_and_behind_a_trusted_proxy_saying_so(app):
    assert "secure" in issued(page(app.server, "10.1.0.2", base_url="https://class.example"))
    proto = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.0.3"}
    # Not believed from the client itself ...
    assert "secure" not in issued(page(app.server, "10.1.0.3", headers=proto))
    # ... but from the proxy TRUSTED_PROXIES names.
    proxied = create_app({**LIMITS, "TRUSTED_PROXIES": "1"})
    assert "secure" in issued(page(proxied.server, "127.0.0.1", headers=proto))


def test_only_the_page_is_handed_a_cookie_and_only_without_a_valid_one(app):
    client = app.server.test_client(use_cookies=False)
    env = {"REMOTE_ADDR": "10.1.0.4"}
    assert issued(client.get("/_dash-layout", environ_base=env)) is None  # JSON
    assert issued(client.get("/api/schedules", environ_base=env)) is None
    assert issued(client.post(UPDATE, json={}, environ_base=env)) is None
    assert issued(client.get("/healthz", environ_base=env)) is None
    held = SIGNED.new()
    again = client.get("/", headers={"Cookie": f"{COOKIE}={held}"}, environ_base=env)
    assert again.status_code == 200 and issued(again) is None  # it keeps the one it has


def altered(value: str) -> list[str]:
    session, _, sig = value.partition(".")
    flip = {"A": "B"}.get(sig[0], "A")
    return [
        f"{session}.{flip}{sig[1:]}",  # another signature
        f"{'A' if session[0] != 'A' else 'B'}{session[1:]}.{sig}",  # another id, its old sig
        SessionCookies(b"another deployment's secret, 32+").new(),
        f"{session}.{sig}.",
        f"{session}{sig}",
        value + "=",
        value[:-1],
        f"{session}.{sig[:-1]}é",  # not ASCII (compare_digest would raise on it)
        "." * len(value),
        "",
        "x" * 5000,
        "\x00" * len(value),
    ]


def test_a_forged_or_altered_cookie_is_no_session():
    value = SIGNED.new()
    assert SIGNED.verify(value) == value.partition(".")[0]
    for bad in altered(value):
        assert SIGNED.verify(bad) is None, bad
    assert SIGNED.verify(None) is None


def test_a_forged_cookie_is_counted_by_its_address_and_handed_a_real_one():
    server = create_app(LIMITS).server
    forged = altered(SIGNED.new())[0]
    assert [callback(server, "10.2.0.1") for _ in range(3)] == [400] * 3
    assert callback(server, "10.2.0.1", forged) == 429  # the address's count, spent
    assert callback(server, "10.2.0.1", SIGNED.new()) == 400  # a real session is not
    answer = server.test_client(use_cookies=False).get(
        "/", headers={"Cookie": f"{COOKIE}={forged}"}, environ_base={"REMOTE_ADDR": "10.2.0.1"}
    )
    assert answer.status_code == 200 and SIGNED.verify(issued(answer)["value"])


def test_two_sessions_behind_one_address_are_limited_apart():
    server = create_app(LIMITS).server
    a, b = SIGNED.new(), SIGNED.new()
    assert [callback(server, "10.3.0.1", a) for _ in range(4)] == [400, 400, 400, 429]
    assert callback(server, "10.3.0.1", b) == 400  # a's spent limit is not b's
    # The address itself, without a cookie, still has its own count, untouched by both.
    assert [callback(server, "10.3.0.1") for _ in range(4)] == [400, 400, 400, 429]
    # The API too: per session.
    api = server.test_client(use_cookies=False)

    def schedules(session: str) -> int:
        return api.get(
            "/api/schedules",
            headers={"Cookie": f"{COOKIE}={session}"},
            environ_base={"REMOTE_ADDR": "10.3.0.1"},
        ).status_code

    assert [schedules(a) for _ in range(4)] == [200, 200, 200, 429]
    assert schedules(b) == 200


def test_the_sessions_of_one_address_share_a_classroom_ceiling():
    """CLASS_SESSIONS=2 with RATE_LIMIT=3/min: two sessions' worth (6) per address, however
    many sessions it holds; another address has its own ceiling."""
    server = create_app(LIMITS).server
    sessions = [SIGNED.new() for _ in range(3)]
    codes = [callback(server, "10.4.0.1", s) for s in sessions[:2] for _ in range(3)]
    assert codes == [400] * 6
    assert callback(server, "10.4.0.1", sessions[2]) == 429  # its own 3 unused: the ceiling
    assert callback(server, "10.4.0.2", sessions[2]) == 400  # elsewhere, another ceiling


def test_a_client_without_a_cookie_is_limited_by_its_address_as_before():
    server = create_app(LIMITS).server
    assert [callback(server, "10.5.0.1") for _ in range(4)] == [400, 400, 400, 429]
    assert callback(server, "10.5.0.2") == 400


def test_ipv6_clients_are_counted_by_their_64():
    assert client_address("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert client_address("fe80::1%eth0") == "fe80::/64"
    assert client_address("::ffff:192.0.2.7") == "192.0.2.7"  # a dual-stack socket's IPv4
    assert client_address("192.0.2.7") == "192.0.2.7"
    assert client_address("") == ""
    server = create_app(LIMITS).server
    codes = [callback(server, f"2001:db8:1:2::{i}") for i in range(1, 5)]
    assert codes == [400, 400, 400, 429]  # four addresses of one /64: one client
    assert callback(server, "2001:db8:1:3::1") == 400  # the next /64: another


def test_each_address_is_handed_at_most_ten_classes_of_new_sessions():
    server = create_app(LIMITS).server  # CLASS_SESSIONS=2
    most = ISSUES_PER_CLASS * 2
    answers = [page(server, "10.6.0.1") for _ in range(most + 1)]
    assert [a.status_code for a in answers] == [200] * (most + 1)  # the page always loads
    assert [issued(a) is not None for a in answers] == [True] * most + [False]
    assert issued(page(server, "10.6.0.2")) is not None  # another address is served


def test_the_client_is_its_session_else_its_address():
    server = create_app(LIMITS).server
    assert current_client() is None  # outside a request: nobody's
    with server.test_request_context("/", environ_base={"REMOTE_ADDR": "2001:db8::5"}):
        assert current_client() == Client(None, "2001:db8::/64")
        assert current_client().key == "a:2001:db8::/64"
        setattr(g, SESSION_ATTRIBUTE, "abc")
        assert current_client() == Client("abc", "2001:db8::/64")
        assert current_client().key == "s:abc"
        assert current_client().address_key == "a:2001:db8::/64"


def test_settings_are_checked():
    assert class_sessions({}) == 40 and class_sessions({"CLASS_SESSIONS": " 120 "}) == 120
    for bad in ("0", "-3", "forty", "1.5", "²"):
        with pytest.raises(ValueError, match="CLASS_SESSIONS"):
            class_sessions({"CLASS_SESSIONS": bad})
    assert session_secret({"SESSION_SECRET": SECRET}) == SECRET.encode()
    assert len(session_secret({})) == 32 and session_secret({}) != session_secret({})
    with pytest.raises(ValueError, match="SESSION_SECRET"):
        session_secret({"SESSION_SECRET": "short"})
