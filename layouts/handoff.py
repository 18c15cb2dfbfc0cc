"""Hand-off to students: a toolbar button and the dialog that shows the students' link.

The dialog shows the QR code the server draws (``GET /api/qr``, web/qr.py) for the page's
current link with the controls hidden, large enough to scan across a room, and the link
itself for those who type it. assets/handoff.js opens it and fills it in.
"""

from __future__ import annotations

from dash import html

from layouts import ids
from layouts.controls import dialog


def handoff_button() -> html.Button:
    return html.Button(
        "Students' link",
        id=ids.HANDOFF_BUTTON,
        title="a QR code of this page for students: the same race, without the racer settings",
        **{"data-action": "handoff", "aria-haspopup": "dialog"},
    )


def controls_note() -> html.P:
    """One line on the students' link (``hide=controls``): the controls are hidden here, and
    the full page, the same race with every control, is a tap away. Shown only where the
    controls are hidden (assets/phone.css); assets/handoff.js points the link at the page's
    current address without ``hide``."""
    return html.P(
        [
            "Racer settings hidden. ",
            html.A("Open the full page", href="/", className="full-page-link"),
        ],
        className="controls-note",
    )


def handoff_dialog() -> html.Dialog:
    return dialog(
        ids.HANDOFF_DIALOG,
        "handoff-dialog",
        ids.HANDOFF_TITLE,
        "Students' link",
        [
            # What the code opens: a copy of the page as it is now, not a live follow
            # (assets/handoff.js says "this beat" in a lesson).
            html.P(
                "Scan to open this race on a phone, without the racer settings "
                "(a copy: it does not follow this screen).",
                className="handoff-hint",
            ),
            # Served on a loopback address, no phone reaches the link: said, with what to do
            # (assets/handoff.js fills it in and shows it).
            html.P(className="handoff-local", role="note", hidden=True),
            html.Div(id=ids.HANDOFF_CODE, className="handoff-code"),
            html.P(html.A(id=ids.HANDOFF_LINK, href="#"), className="handoff-link"),
            html.P(id=ids.HANDOFF_STATUS, role="status", className="tool-status"),
        ],
        [
            html.Button("Copy link", **{"data-action": "copy-handoff"}),
            html.Button("Close", id=ids.CLOSE_HANDOFF, **{"data-action": "close-handoff"}),
        ],
    )
