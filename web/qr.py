"""The students' link as a QR code: the page's own link with ``hide=controls``, drawn by segno.

The route that serves it is public, so its input is the page's query only, checked key by key
in the validator's style (a ``ConfigError`` naming the field): only the keys the page's links
use (assets/tools.js writes them), each value checked as the page reads it, the whole query
bounded. The link is built from the checked values on the request's own host (its port kept),
and only when that host is one the deployment names (``PUBLIC_HOSTS``; without it, loopback
only): a forged Host header cannot make the code point anywhere else (no open redirect), and
no outside service sees the link.
"""

from __future__ import annotations

import io
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

import segno

from common.errors import ConfigError
from layouts.controls import MAX_PAGE_RACERS
from lessons import LESSONS
from optimizers.config import CRITERIA
from service.lru import ByteLRU
from service.share import MAX_SHARE_CHARS, decode_race, encode_race

# The groups a link may hide (assets/tools.js HIDEABLE); students get the controls hidden.
HIDEABLE = (
    "header",
    "lessons",
    "caption",
    "toolbar",
    "charts",
    "playback",
    "settings",
    "racers",
    "controls",
    "analysis",
)
STUDENT_HIDE = "controls"
# A share value plus every other key with room to spare; far beyond it is not a page's link.
MAX_QUERY_CHARS = MAX_SHARE_CHARS + 1000
# A QR code holds at most 2,331 bytes at error level M; a denser code than about version 25
# is hard to scan across a room, so the dialog says to use the link text then.
ERROR_LEVEL = "m"


def _race(value: str) -> str:
    try:
        return encode_race(decode_race(value))  # one spelling per race, as the page writes it
    except ConfigError as error:  # named as the page's link key, the race's own field kept
        raise ConfigError("race", error.message if error.field == "race" else str(error)) from None


def _lesson(value: str) -> str:
    if value not in LESSONS:
        raise ConfigError("lesson", "must be one of the lessons' names")
    return value


def _pattern(name: str, pattern: str, what: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ConfigError(name, f"must be {what}")
        return value

    return check


def _range(name: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        parts = value.split(",")
        if len(value) > 64 or len(parts) != 2:
            raise ConfigError(name, "must be two numbers, low,high")
        try:
            low, high = (float(p) for p in parts)
        except ValueError:
            raise ConfigError(name, "must be two numbers, low,high") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ConfigError(name, "must be two finite numbers with low < high")
        return value

    return check


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}")
        return value

    return check


def _hide(value: str) -> str:
    names = [n for n in value.split(",") if n] if len(value) <= 200 else [""]
    unknown = [n for n in names if n not in HIDEABLE]
    if unknown:
        raise ConfigError("hide", f"names groups to hide, one of {', '.join(HIDEABLE)}")
    return ",".join(dict.fromkeys(names))


# The page's link keys in the order the page writes them, each with its check.
PAGE_KEYS: dict[str, Callable[[str], str]] = {
    "lesson": _lesson,
    "beat": _pattern("beat", r"[0-9]{1,2}", "a lesson's beat number (up to 2 digits)"),
    "race": _race,
    # Each racer's card index, so its colour (assets/tools.js, callbacks/entry.py slots_of).
    "slots": _pattern(
        "slots",
        rf"[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{0,{MAX_PAGE_RACERS - 1}}}",
        "card indices such as 1.3",
    ),
    "step": _pattern("step", r"[0-9]{1,5}", "a step number (up to 5 digits)"),
    "x": _range("x"),
    "y": _range("y"),
    "view": _choice("view", ("2d", "3d")),
    "analysis": _choice("analysis", ("sweep", "starts")),
    "tuned": _choice("tuned", tuple(CRITERIA)),
    "inspect": _pattern("inspect", r"[0-9]{1,3}", "a racer's index (up to 3 digits)"),
    "present": _choice("present", ("1",)),
    "hide": _hide,
}


def student_query(args: Mapping[str, list[str]]) -> dict[str, str]:
    """The students' query from the page's (each key to all its values, as a request has
    them): every key checked, ``present`` dropped (a phone is not the projector), and
    ``controls`` added to ``hide``."""
    out: dict[str, str] = {}
    for key, values in args.items():
        if key not in PAGE_KEYS:
            raise ConfigError(key[:40], "is not a key of the page's links")
        if len(values) != 1:
            raise ConfigError(key, "must be given once")
    for key, check in PAGE_KEYS.items():
        if key in args:
            out[key] = check(args[key][0])
    out.pop("present", None)
    hidden = [n for n in out.get("hide", "").split(",") if n]
    out["hide"] = ",".join(dict.fromkeys([*hidden, STUDENT_HIDE]))
    return out


def public_hosts(env: Mapping[str, str]) -> frozenset[str]:
    """PUBLIC_HOSTS: the ``host[:port]`` names the deployment answers to, comma-separated, as a
    browser's address bar shows them (a port only when it is not the scheme's default);
    empty when unset."""
    return frozenset(n.strip().lower() for n in env.get("PUBLIC_HOSTS", "").split(",") if n.strip())


def _loopback(host: str) -> bool:
    """``host`` (``name[:port]``, ``[v6][:port]``) names this machine: localhost or a loopback
    address."""
    name = host[1:].partition("]")[0] if host.startswith("[") else host.rpartition(":")[0] or host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def link_host(host: str, allowed: frozenset[str]) -> str:
    """The request's ``host`` (port included) if the students' link may be built on it: one of
    ``allowed`` (PUBLIC_HOSTS) or, with none named, a loopback host, as for ``make run``. The
    Host header is the client's writing; a link built on any of them would let a page on
    another site show a code of this one that points elsewhere."""
    host = host.lower()
    if allowed:
        if host not in allowed:
            raise ConfigError(
                "host", f"must be one of this site's hosts: {', '.join(sorted(allowed))}"
            )
    elif not _loopback(host):
        raise ConfigError(
            "host",
            "is not one of this site's hosts: the server's PUBLIC_HOSTS setting names them"
            " (unset, only localhost and loopback addresses)",
        )
    return host


def student_link(root: str, args: Mapping[str, list[str]], query_chars: int) -> str:
    """The students' link on this server (``root``: its own root URL, e.g.
    ``https://host/``) for the page's query ``args`` (``query_chars`` long)."""
    if query_chars > MAX_QUERY_CHARS:
        raise ConfigError("", f"the query must be at most {MAX_QUERY_CHARS} characters")
    return root + "?" + urlencode(student_query(args))


# segno takes ~80 ms a code, so codes are kept per link; a dense code's SVG is tens of KB,
# so the bound is in bytes (service/lru.py), not in entries.
CODES = ByteLRU(4 * 1024 * 1024)


def qr_svg(link: str) -> str:
    """``link`` as a QR code, a standalone SVG document: black modules on white with the
    standard quiet zone, sized by its viewBox only, so the page scales it to the room."""
    kept = CODES.get(link)
    if kept is None:
        kept = _draw(link)
        CODES.put(link, kept)
    return str(kept)


def _draw(link: str) -> str:
    try:
        code = segno.make_qr(link, error=ERROR_LEVEL)
    except segno.DataOverflowError:
        raise ConfigError(
            "race", f"the link is {len(link)} characters, too long for a QR code"
        ) from None
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        xmldecl=False,
        svgns=True,
        omitsize=True,
        svgclass="qr-code",
        title="QR code of the students' link",
        nl=False,
    )
    return out.getvalue().decode("utf-8")
