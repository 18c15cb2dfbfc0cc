"""nginx in front of gunicorn (deploy/nginx.conf, as `make serve` starts it) on loopback
(issue 24, findings 2, 4 and 5).

Slow request bodies by the thousand hold nothing a bystander needs (4,200 from 70 addresses
once reset 14-22% of other clients' requests); every route that reaches gunicorn has a
per-address rate, counted against one client's allowance without a session cookie and against
a classroom's (CLASS_SESSIONS times it) with one; a real page load through the stack stays
within them; and nginx's client keys (an IPv6 address grouped by its /64, the cookie's shape)
are what the app would say.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import random
import re
import resource
import select
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_executable
from tests.live import ROOT, free_port, open_tab, until
from tests.test_production_stack import Stack, children
from web.session import COOKIE, SessionCookies

CONF = ROOT / "deploy" / "nginx.conf"
NGINX_REFUSAL = b"too many requests from this address; slow down and retry shortly\n"
RACE = json.dumps(
    {"surface": {"name": "himmelblau"}, "racers": [{"optimizer": "adam", "lr": 0.1}]}
).encode()
# Any value of a real cookie's shape passes nginx's classroom zones (it cannot check the
# signature; the app does).
SHAPED = SessionCookies(b"not this deployment's secret").new()
# The app's own limits out of the way: only nginx's are tested here.
APP_UNLIMITED = {"API_RATE_LIMIT": "1000000 per minute", "RATE_LIMIT": "1000000 per minute"}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """make serve's nginx limits (CLASS_SESSIONS 40) with the app's limits raised."""
    running = Stack(APP_UNLIMITED)
    yield running
    if running.proc.poll() is None:
        log = running.stop()
        assert "Traceback" not in log and "worker_connections" not in log, log[-2000:]


# Slow bodies.

ADDRESSES, PER_ADDRESS = 70, 60  # 127.0.1.1 to 127.0.1.70
ATTACKERS = "127.0.1.0/24"
TRICKLE_EVERY = 2.0  # seconds between two bytes of each slow body (client_body_timeout: 5 s)


def raise_file_limit(needed: int) -> None:
    """This process's open-file limit raised to its hard limit; a clear failure if even that
    is below ``needed`` (the slow clients are sockets of this process)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.fail(f"the open-file hard limit is {hard}; this test needs {needed} (ulimit -Hn)")
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else needed, hard)
    )


def slow_body(port: int, source: str) -> socket.socket:
    """A race request from ``source`` whose headers are sent whole (a cookie of the real one's
    shape: the classroom zones, the most nginx admits from one address) and whose 60,000-byte
    body has sent its first byte."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    sock.sendall(
        b"POST /api/race HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Cookie: {COOKIE}={SHAPED}\r\n".encode()
        + b"Content-Length: 60000\r\n\r\n{"
    )
    return sock


def trickle(socks: list[socket.socket], stop: threading.Event, failed: list[OSError]) -> None:
    """One more byte of every body each TRICKLE_EVERY seconds until ``stop``: the attack's
    cadence, under nginx's body timeout, so that nginx keeps every one of them open."""
    while not stop.wait(TRICKLE_EVERY):
        for sock in socks:
            try:
                sock.send(b" ")
            except OSError as exc:
                failed.append(exc)


def answered(socks: list[socket.socket]) -> int:
    """How many of ``socks`` have something to read (an answer, a close or a reset)."""
    poller = select.poll()
    for sock in socks:
        poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return len(poller.poll(0))


def held(pid: int, port: int, network: str) -> int:
    """How many connections to ``port`` from ``network`` the process ``pid`` holds open
    (accepted: in /proc/net/tcp with one of its sockets' inodes)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except FileNotFoundError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    addresses = ipaddress.ip_network(network)
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        peer = ipaddress.IPv4Address(bytes.fromhex(remote.split(":")[0])[::-1])
        if int(local.split(":")[1], 16) == port and inode in inodes and peer in addresses:
            count += 1
    return count


def bystander(port: int, path: str, body: bytes | None = None) -> int:
    """The status of one request from 127.0.0.2 on a new connection (an exception if it was
    reset or cut off)."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0)
    )
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request("POST" if body else "GET", path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


def test_4200_slow_bodies_from_70_addresses_leave_a_bystander_served(stack):
    attackers = ADDRESSES * PER_ADDRESS
    raise_file_limit(attackers + 1000)
    assert bystander(stack.port, "/api/race", RACE) == 200  # cached from now on
    (worker,) = children(stack.nginx)
    socks: list[socket.socket] = []
    stop, failed = threading.Event(), []
    dripper = threading.Thread(target=trickle, args=(socks, stop, failed))
    try:
        for i in range(attackers):
            socks.append(slow_body(stack.port, f"127.0.1.{i % ADDRESSES + 1}"))
        dripper.start()
        files = next(
            line
            for line in Path(f"/proc/{worker}/limits").read_text().splitlines()
            if line.startswith("Max open files")
        )
        until(
            lambda: held(worker, stack.port, ATTACKERS) == attackers,
            30,
            f"nginx's worker holding {attackers} slow bodies (its limit: {files})",
        )
        statuses = Counter()
        for _ in range(17):
            statuses[("/healthz", bystander(stack.port, "/healthz"))] += 1
            statuses[("/", bystander(stack.port, "/"))] += 1
            statuses[("race", bystander(stack.port, "/api/race", RACE))] += 1
        assert statuses == {("/healthz", 200): 17, ("/", 200): 17, ("race", 200): 17}, statuses
        # The attack was whole throughout: every slow body still open, none answered.
        assert held(worker, stack.port, ATTACKERS) == attackers
        assert answered(socks) == 0 and not failed, (answered(socks), failed[:3])
    finally:
        stop.set()
        if dripper.is_alive():
            dripper.join()
        for sock in socks:
            sock.close()
    until(lambda: held(worker, stack.port, ATTACKERS) == 0, 30, "nginx letting them go")
    assert bystander(stack.port, "/healthz") == 200


# Rates per route and per kind of client.

# (method, path, body) of one route of each of nginx.conf's locations, with its zone's
# (rate per second, burst) for one client. The index page's burst is a class arriving at
# once: its first requests carry no cookie (the index page hands it out).
ROUTES = {
    "static": ("GET", "/assets/style.css", None, 20, 100),
    "healthz": ("GET", "/healthz", None, 20, 100),
    "index page": ("GET", "/", None, 2, 40),
    "api listing": ("GET", "/api/lessons", None, 5, 20),
    "computing route": ("POST", "/api/race", RACE, 10, 40),
    "layout": ("GET", "/_dash-layout", None, 10, 40),
    "drag preview": ("POST", "/_race-preview", b"{}", 20, 40),
}
CLASS_SESSIONS = 3  # a small classroom, so that its ceiling is reached quickly


@pytest.fixture(scope="module")
def small_class() -> Iterator[Stack]:
    running = Stack(dict(APP_UNLIMITED, CLASS_SESSIONS=str(CLASS_SESSIONS)))
    yield running
    if running.proc.poll() is None:
        running.stop()


def until_nginx_refuses(
    port: int, source: str, method: str, path: str, body: bytes | None, cookie: str | None
) -> tuple[int, float]:
    """Requests from ``source`` as fast as they are answered, until nginx refuses one (429,
    Retry-After, its own text): (how many it admitted before, seconds taken)."""
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    if body:
        headers["Content-Type"] = "application/json"
    started, admitted = time.monotonic(), 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        while admitted < 10_000:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            if answer.status == 429 and data == NGINX_REFUSAL:
                assert answer.getheader("Retry-After", "").isdigit()
                return admitted, time.monotonic() - started
            admitted += 1
            if answer.will_close:
                conn.close()
                conn = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=30, source_address=(source, 0)
                )
    finally:
        conn.close()
    raise AssertionError(f"nginx admitted 10,000 requests to {path} from {source}")


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_refuses_one_address_past_its_rate_and_a_class_past_its_ceiling(
    small_class, route
):
    method, path, body, rate, burst = ROUTES[route]
    source = f"127.0.0.{10 + list(ROUTES).index(route)}"
    # Without a session cookie: one client's burst, then its rate.
    admitted, seconds = until_nginx_refuses(small_class.port, source, method, path, body, None)
    assert burst <= admitted <= burst + 1 + rate * seconds, (admitted, seconds)
    # The same address with a cookie: the classroom's ceiling, CLASS_SESSIONS times as much.
    admitted, seconds = until_nginx_refuses(small_class.port, source, method, path, body, SHAPED)
    ceiling = CLASS_SESSIONS * burst
    assert ceiling <= admitted <= ceiling + 1 + CLASS_SESSIONS * rate * seconds, (admitted, seconds)


def test_every_location_that_reaches_gunicorn_has_a_rate_for_both_kinds_of_client():
    text = CONF.read_text()
    blocks = re.findall(r"\n        location ([^{]+)\{(.*?)\n        \}", text, re.S)
    proxied = [(where.strip(), block) for where, block in blocks if "proxy_pass" in block]
    assert len(proxied) == 5, [where for where, _ in proxied]
    assert any(where == "/" for where, _ in proxied)  # the catch-all: no path goes unlimited
    for where, block in proxied:
        zones = re.findall(r"limit_req zone=(\w+)", block)
        assert len(zones) == 2 and zones[1] == zones[0] + "_class", (where, zones)


def test_bodies_go_only_where_the_app_takes_them(stack):
    for path in ("/", "/assets/style.css", "/healthz"):
        with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{{".encode()
            )
            head = sock.recv(4096)  # answered before the body is read
        assert head.startswith(b"HTTP/1.1 405") and b"Allow: GET, HEAD" in head, head


# A real page load, in headless Chromium, through the stack.


def test_a_page_load_through_the_stack_draws_its_race_with_no_429(stack, browser, tmp_path):
    har = tmp_path / "load.har"
    context, tab = open_tab(browser, stack.base + "/", record_har_path=str(har))
    assert not tab.problems, tab.problems
    context.close()  # writes the HAR
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = Counter(e["response"]["status"] for e in entries)
    assert 429 not in statuses and statuses[200] >= 30, statuses
    # After the index page every request carried the session cookie (the classroom zones),
    # and even without it a page load is within one client's bursts.
    paths = [urlsplit(e["request"]["url"]).path for e in entries]
    assert paths[0] == "/"
    for entry in entries[1:]:
        names = [c["name"] for c in entry["request"]["cookies"]]
        assert COOKIE in names, entry["request"]["url"]
    static = [p for p in paths if re.match(r"/(assets|_dash-component-suites)/", p)]
    computing = [p for p in paths if p in ("/_dash-layout", "/_dash-update-component")]
    assert len(static) <= ROUTES["static"][4], len(static)
    assert len(computing) <= ROUTES["computing route"][4], len(computing)


# Who a client is, as nginx keys it.


@pytest.fixture(scope="module")
def keys() -> Iterator[int]:
    """A bare nginx with deploy/nginx.conf's client maps, answering "client|lone|class" for
    the address in X-Real-IP (as if it had come from there) and the request's cookie."""
    require_executable("/usr/sbin/nginx")
    maps = re.findall(r"\n    map \$\S+ \$\w+ \{.*?\n    \}", CONF.read_text(), re.S)
    assert len(maps) == 4
    port = free_port()
    with tempfile.TemporaryDirectory() as runtime:
        conf = Path(runtime) / "nginx.conf"
        temp = "".join(
            f"{kind}_temp_path {runtime}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf.write_text(
            f"worker_processes 1; daemon off; pid {runtime}/nginx.pid; error_log stderr warn;\n"
            "events { worker_connections 64; }\n"
            f"http {{ access_log off; {temp} {''.join(maps)}\n"
            f"server {{ listen 127.0.0.1:{port}; set_real_ip_from 127.0.0.1;"
            " real_ip_header X-Real-IP; default_type text/plain;"
            ' location / { return 200 "$client_addr|$lone_addr|$class_addr"; } } }\n'
        )
        proc = subprocess.Popen(["/usr/sbin/nginx", "-p", runtime, "-c", str(conf)])
        try:
            until(lambda: _listening(port), 10, "the bare nginx listening")
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def key_of(port: int, address: str, cookie: str | None = None) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"X-Real-IP": address}
        if cookie is not None:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        conn.request("GET", "/", headers=headers)
        return conn.getresponse().read().decode().split("|")
    finally:
        conn.close()


def slash64(address: str) -> str:
    """What the app calls the client (service/clients.py): the first four groups of an IPv6
    address, an IPv4 one (mapped into IPv6 or not) as it is."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return ":".join(f"{int(group, 16):x}" for group in ip.exploded.split(":")[:4])


def test_an_ipv6_client_is_its_64_wherever_the_zeros_are(keys):
    rng = random.Random(24)
    addresses = ["203.0.113.7", "::ffff:203.0.113.7", "::1", "::", "::203.0.113.7"]
    for zeros in range(256):  # every pattern of zero and non-zero groups
        groups = [0 if zeros >> i & 1 else rng.randrange(1, 1 << 16) for i in range(8)]
        addresses.append(
            str(ipaddress.IPv6Address(sum(g << 16 * (7 - i) for i, g in enumerate(groups))))
        )
    wrong = {}
    for address in addresses:
        expected = "0:0:0:0" if address == "::203.0.113.7" else slash64(address)
        if key_of(keys, address)[0] != expected:
            wrong[address] = (key_of(keys, address)[0], expected)
    assert not wrong, wrong


def test_only_a_cookie_of_the_sessions_shape_counts_in_the_classroom_zones(keys):
    address = "2001:db8:1:2:3:4:5:6"
    assert key_of(keys, address, SessionCookies(os.urandom(32)).new()) == [
        "2001:db8:1:2",
        "",
        "2001:db8:1:2",
    ]
    for other in (None, "", "1", SHAPED + "x", SHAPED.replace(".", "!"), "a" * 66):
        assert key_of(keys, address, other) == ["2001:db8:1:2", "2001:db8:1:2", ""], other
