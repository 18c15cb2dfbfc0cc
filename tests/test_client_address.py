"""Whose limit a request is counted against (issue 15, item 2).

With no proxy trusted (the default), X-Forwarded-For is the client's own writing and changes
nothing; with TRUSTED_PROXIES=n, the address the nearest n proxies wrote is the client's, so
two clients behind one proxy are counted apart, and a client cannot forge its way out of its
budget by writing the header itself.
"""

from __future__ import annotations

import socket
import subprocess

import pytest

from app import create_app
from tests.live import free_port, start_gunicorn
from web.proxy import trusted_proxies

LIMIT = {"API_RATE_LIMIT": "3 per minute"}
PROXY = "127.0.0.1"


def ask(client, remote: str, forwarded: str | None = None, path: str = "/api/schedules"):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": remote})


def test_trusted_proxies_is_a_whole_number():
    assert trusted_proxies({}) == 0 and trusted_proxies({"TRUSTED_PROXIES": " 2 "}) == 2
    for bad in ("-1", "one", "1.5"):
        with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
            trusted_proxies({"TRUSTED_PROXIES": bad})


def test_with_no_proxy_trusted_a_forged_forwarded_for_changes_nothing():
    client = create_app(LIMIT).server.test_client()
    forged = ["1.1.1.1", "2.2.2.2, 3.3.3.3", "", "4.4.4.4"]
    codes = [ask(client, "10.0.0.1", f).status_code for f in forged]
    assert codes == [200, 200, 200, 429]  # one budget: the socket's address
    assert ask(client, "10.0.0.2", "10.0.0.1").status_code == 200  # nor borrows another's


def test_behind_one_trusted_proxy_two_clients_are_counted_apart():
    client = create_app(dict(LIMIT, TRUSTED_PROXIES="1")).server.test_client()
    # The proxy appends the address it saw; everything comes from the proxy's own address.
    assert [ask(client, PROXY, "10.0.0.1").status_code for _ in range(3)] == [200] * 3
    assert ask(client, PROXY, "10.0.0.1").status_code == 429
    assert ask(client, PROXY, "10.0.0.2").status_code == 200  # B has its own budget
    # A writes a header of its own; the proxy appends A's real address after it.
    assert ask(client, PROXY, "9.9.9.9, 10.0.0.1").status_code == 429


def test_a_trusted_proxy_also_gives_the_public_scheme_and_host():
    env = {"TRUSTED_PROXIES": "1", "PUBLIC_HOSTS": "class.example.org"}
    client = create_app(env).server.test_client()
    answer = client.get(
        "/api/qr",
        headers={
            "X-Forwarded-For": "10.0.0.1",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "class.example.org",
        },
    )
    assert answer.get_json()["link"] == "https://class.example.org/?hide=controls"
    untrusted = create_app({}).server.test_client()
    answer = untrusted.get("/api/qr", headers={"X-Forwarded-Host": "evil.example"})
    assert "evil.example" not in answer.get_json()["link"]


def status(port: int, forwarded: str) -> int:
    request = (
        f"GET /api/schedules HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"X-Forwarded-For: {forwarded}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        return int(sock.recv(4096).split(b" ", 2)[1])


def test_gunicorn_with_no_proxy_trusted_counts_the_socket_address():
    """gunicorn itself does not rewrite the client's address from the header either."""
    port = free_port()
    proc = start_gunicorn(port, dict(LIMIT, WORKERS="1"), output=subprocess.DEVNULL)
    try:
        codes = [status(port, f"10.9.0.{i}") for i in range(4)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert codes == [200, 200, 200, 429]
