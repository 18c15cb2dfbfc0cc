"""A server-drawn picture of the opening race's map, in the opening page's HTML.

The page's own map needs Dash's scripts, React and Plotly (about 1 MB, seconds on a phone)
before it draws. Until then the opening page shows this picture in the map's colours: the
surface's colour grid (the same log grid the map draws) and the racers' start. It is built
once at start-up, inlined as an <img> (no extra request), laid over the page (absolutely
positioned: nothing moves when it goes) and removed by assets/picture.js once the map is
drawn. Only the opening page (no query) has it: any other race is a different picture.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import numpy as np

from layouts.ids import OPENING_PICTURE
from service.compact import decode

SIZE = 600  # the picture's own units (it is scaled to the space it has)


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def colours(z: np.ndarray, scale: list) -> np.ndarray:
    """(…, 3) uint8: ``z`` through the map's colour ``scale`` (the surface payload's, as the
    browser draws it), from its lowest to its highest."""
    low, high = float(np.nanmin(z)), float(np.nanmax(z))
    t = (z - low) / (high - low) if high > low else np.zeros_like(z)
    stops = np.array([s for s, _ in scale])
    rgb = np.stack([_rgb(c) for _, c in scale])
    out = np.stack([np.interp(t, stops, rgb[:, k]) for k in range(3)], axis=-1)
    return np.round(out).astype(np.uint8)


def png(pixels: np.ndarray) -> bytes:
    """A minimal RGB PNG of an (h, w, 3) uint8 array."""
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def opening_picture(surface: dict[str, Any], race: dict[str, Any]) -> str:
    """The <img> element (an SVG data URI) for the surface payload and race store given."""
    n = surface["grid"]
    z = decode(surface["z"]).astype(float).reshape(n, n)[::-1]  # the top row is the highest y
    (x0, x1), (y0, y1) = surface["view"]
    width = SIZE
    height = round(SIZE * (y1 - y0) / (x1 - x0))
    grid = base64.b64encode(png(colours(z, surface["colorscale"]))).decode("ascii")
    sx, sy = race["start"]
    cx, cy = (sx - x0) / (x1 - x0) * width, (y1 - sy) / (y1 - y0) * height
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">'
        f'<image width="{width}" height="{height}" preserveAspectRatio="none" '
        f'href="data:image/png;base64,{grid}"/>'
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="none" stroke="white" stroke-width="3"/>'
        "</svg>"
    )
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    return (
        f'<img id="{OPENING_PICTURE}" class="opening-picture" src="{uri}" width="{width}" '
        f'height="{height}" alt="The opening race\'s map: {surface["title"]}, before the '
        'page has loaded">'
    )


def show_on_opening_page(app: Any, surface: dict[str, Any], race: dict[str, Any]) -> None:
    """Put the picture in the index HTML of the opening page (``/`` without a query)."""
    from flask import has_request_context, request

    picture = opening_picture(surface, race)
    plain = app.interpolate_index
    entry = '<div id="react-entry-point">'

    def interpolate_index(**kwargs: Any) -> str:
        html = plain(**kwargs)
        if has_request_context() and not request.args and entry in html:
            html = html.replace(entry, picture + entry, 1)
        return html

    app.interpolate_index = interpolate_index
