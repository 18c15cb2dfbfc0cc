"""The JSON API: registries listed, races run. Same validator and memoized engine as the page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from callbacks.service import RaceService
from common.errors import ConfigError
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import MAX_BODY_BYTES, parse_race
from surfaces import SURFACES
from web.openapi import openapi_document


def error(status: int, message: str, field: str = "") -> tuple[Response, int]:
    return jsonify({"error": message, "field": field}), status


def make_api(service: RaceService) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api")
    listings = {
        "surfaces": [s.to_json() for s in SURFACES.values()],
        "optimizers": [s.to_json() for s in OPTIMIZERS.values()],
        "schedules": [s.to_json() for s in SCHEDULES.values()],
    }
    document = openapi_document()

    @api.get("/surfaces")
    def surfaces() -> Any:
        return jsonify(listings["surfaces"])

    @api.get("/optimizers")
    def optimizers() -> Any:
        return jsonify(listings["optimizers"])

    @api.get("/schedules")
    def schedules() -> Any:
        return jsonify(listings["schedules"])

    @api.get("/openapi.json")
    def openapi() -> Any:
        return jsonify(document)

    @api.post("/race")
    def race() -> Any:
        too_big = f"the body must be at most {MAX_BODY_BYTES} bytes"
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return error(413, too_big)
        body = request.get_data(cache=False)
        if len(body) > MAX_BODY_BYTES:
            return error(413, too_big)
        try:
            config = parse_race(body)
        except ConfigError as exc:
            return error(400, exc.message, exc.field)
        return jsonify(service.race_json(config))

    @api.route("/race", methods=["GET", "PUT", "PATCH", "DELETE"])
    def race_other_methods() -> Any:
        return error(405, "use POST with a race JSON body")

    @api.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def not_found(unknown: str) -> Any:
        # Without this, the page's catch-all route would answer with the app's HTML.
        return error(404, "no such API endpoint; see /api/openapi.json")

    return api
