"""A quick slider's drag preview: one racer's path at a new rate, around Dash's store.

While a quick-control rate slider is dragged the page wants a new path every ~60 ms. Through
Dash each value costs the browser 40–55 ms before the request leaves (the renderer updates its
store and every one of the page's ~390 connected components checks its props, several times a
callback), so redraws stalled at ~9 a second however fast the server answered. During a drag
the page instead posts here (assets/quick.js): the race as its share-link value, the racer's
position and the rate; the answer is that racer's result in the page's own compact form, drawn
straight onto the map's canvas. On release the slider commits through Dash as any rate change,
and finds this racer already computed: the preview runs the race of that racer alone, whose
cache entry is the one the page's race uses (a racer alone equals the same racer in a race).

Everything passes the one validator: the body's size and JSON (``parse_json``), the race
(``decode_race``), the new rate and the whole changed race (``validate_race``). The work is
charged to the client's budget by the service, and the route shares the page's callback rate
limit (web/hardening.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

from common.errors import ConfigError
from optimizers.validate import parse_json, validate_race
from service.races import RaceService
from service.share import MAX_SHARE_CHARS, decode_race

PREVIEW_PATH = "/_race-preview"
PREVIEW_ENDPOINT = "race_preview"
PREVIEW_KEYS = ("race", "racer", "lr")
# The share value, its racer and rate, and JSON's punctuation.
MAX_PREVIEW_BYTES = MAX_SHARE_CHARS + 200


def preview_config(data: Any) -> tuple[Any, int]:
    """(the race of the one previewed racer at its new rate, the racer's position), from the
    request's JSON; ConfigError naming the field otherwise."""
    if not isinstance(data, dict):
        raise ConfigError("", f"must be an object with {', '.join(PREVIEW_KEYS)}")
    unknown = sorted(set(data) - set(PREVIEW_KEYS))
    if unknown:
        raise ConfigError(unknown[0], f"is not allowed; the fields are {', '.join(PREVIEW_KEYS)}")
    config = decode_race(data.get("race"))
    position = data.get("racer")
    count = len(config.racers)
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < count:
        raise ConfigError("racer", f"must be a racer's position, 0 to {count - 1}")
    race = config.to_json()
    race["racers"] = [dict(race["racers"][position], lr=data.get("lr"))]
    try:
        alone = validate_race(race)
    except ConfigError as error:
        field = "lr" if error.field.endswith(".lr") else error.field
        raise ConfigError(field, error.message) from None
    return alone, position


def register_preview(server: Flask, service: RaceService) -> None:
    """Adds the preview route to ``server`` (its rate limit is set where the others are)."""

    def preview() -> Any:
        if (request.content_length or 0) > MAX_PREVIEW_BYTES:
            return jsonify(error=f"at most {MAX_PREVIEW_BYTES} bytes", field=""), 413
        try:
            config, position = preview_config(
                parse_json(request.get_data(cache=False), MAX_PREVIEW_BYTES)
            )
        except ConfigError as error:
            return jsonify(error=error.message, field=error.field), 400
        ((key, racer),) = service.racers(config)
        return jsonify(racer=position, key=key, result=racer)

    server.add_url_rule(PREVIEW_PATH, PREVIEW_ENDPOINT, preview, methods=["POST"])
