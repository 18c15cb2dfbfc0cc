"""The JSON API: registries listed, races run. Same validator and memoized engine as the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from common.errors import ConfigError
from exports.pytorch import pytorch_snippet
from exports.tables import racer_csv
from lessons import LESSONS
from optimizers.config import RaceConfig
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import (
    MAX_BODY_BYTES,
    parse_json,
    validate_fan,
    validate_race,
    validate_starts,
    validate_sweep,
)
from service.best_rate import f_star_of, sweep_json
from service.races import RaceService
from service.share import check_text, decode_race, encode_race
from surfaces import SURFACES
from web.answers import Answers, json_bytes
from web.openapi import openapi_document
from web.qr import MAX_QUERY_CHARS, link_host, qr_svg, student_link

EXPORT_FORMATS = ("json", "csv", "pytorch")


def error(status: int, message: str, field: str = "") -> tuple[Response, int]:
    return jsonify({"error": message, "field": field}), status


def racer_index(value: Any, config: RaceConfig) -> int:
    """The ``racer`` query value: a racer's position in the race, from 0. ASCII digits only:
    ``str.isdigit`` alone also takes "²" (which ``int`` refuses) or "٣" (which it reads)."""
    count = len(config.racers)
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()) or len(value) > 3:
        raise ConfigError("racer", f"must be a racer's position, 0 to {count - 1}")
    index = int(value)
    if index >= count:
        raise ConfigError("racer", f"must be a racer's position, 0 to {count - 1}")
    return index


def attachment(response: Response, name: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def make_api(service: RaceService, hosts: frozenset[str], exports: Answers) -> Blueprint:
    """The API's routes; ``hosts`` are the deployment's public hosts (``public_hosts``)."""
    api = Blueprint("api", __name__, url_prefix="/api")
    # The listings never change while the process runs: serialised and compressed once each
    # (the lessons' listing is the largest), in their own cache so exports never evict them.
    listings = {
        "surfaces": lambda: [s.to_json() for s in SURFACES.values()],
        "optimizers": lambda: [s.to_json() for s in OPTIMIZERS.values()],
        "schedules": lambda: [s.to_json() for s in SCHEDULES.values()],
        "lessons": lambda: [lesson.to_json() for lesson in LESSONS.values()],
        "openapi.json": openapi_document,
    }
    fixed = Answers(1 << 62)  # a handful of fixed answers: bounded by what they are
    for name, make in listings.items():  # made before gunicorn forks, not per worker
        fixed.data(name, lambda make=make: json_bytes(make()))

    def listing(name: str) -> Response:
        return fixed.response(name, lambda: json_bytes(listings[name]()))

    @api.get("/surfaces")
    def surfaces() -> Any:
        return listing("surfaces")

    @api.get("/optimizers")
    def optimizers() -> Any:
        return listing("optimizers")

    @api.get("/schedules")
    def schedules() -> Any:
        return listing("schedules")

    @api.get("/lessons")
    def lessons() -> Any:
        """Every lesson: its beats (race, stop, view, caption and the caption's claims) and
        its predict-first question."""
        return listing("lessons")

    @api.get("/openapi.json")
    def openapi() -> Any:
        return listing("openapi.json")

    def answer(validate: Callable[[Any], Any], run: Callable[[Any], Any]) -> Any:
        """A POST body through the size check, the JSON parser and ``validate``, then run."""
        too_big = f"the body must be at most {MAX_BODY_BYTES} bytes"
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return error(413, too_big)
        body = request.get_data(cache=False)
        if len(body) > MAX_BODY_BYTES:
            return error(413, too_big)
        try:
            data = parse_json(body)
            check_text(data)
            checked = validate(data)
        except ConfigError as exc:
            return error(400, exc.message, exc.field)
        return jsonify(run(checked))

    @api.post("/race")
    def race() -> Any:
        return answer(validate_race, service.race_json)

    @api.post("/sweep")
    def sweep() -> Any:
        """Each racer over a log grid of rates, with its divergence edge and its best rate by
        the page's rule (service/best_rate.py ROBUST_RULE), and apart its lowest single run."""

        def judged(request: Any) -> dict[str, Any]:
            return sweep_json(service.sweep(request), f_star_of(request.race))

        return answer(validate_sweep, judged)

    @api.post("/fan")
    def fan() -> Any:
        """Each racer under many noise seeds: median, quartiles and every run's final loss."""
        return answer(validate_fan, service.fan)

    @api.post("/starts")
    def starts() -> Any:
        """One racer from a grid or cloud of starts, grouped by the basin each run ends in."""

        def without_paths(request: Any) -> dict[str, Any]:
            return {k: v for k, v in service.starts(request).items() if k != "paths"}

        return answer(validate_starts, without_paths)

    @api.get("/export")
    def export() -> Any:
        """A shared race (the page's ``race`` link value) as a download: the result JSON, a
        racer's trajectory as CSV, or a racer's setup as PyTorch code."""
        try:
            config = decode_race(request.args.get("race"))
            kind = request.args.get("format", "json")
            if kind not in EXPORT_FORMATS:
                raise ConfigError("format", f"must be one of {', '.join(EXPORT_FORMATS)}")
            # A link names one race: its export is the same bytes every time, kept as bytes
            # (and compressed once) rather than serialised again per request.
            link = encode_race(config)
            if kind == "json":
                response = exports.response(
                    ("json", link),
                    lambda: json_bytes(service.race_json(config)),
                )
                return attachment(response, "race.json")
            index = racer_index(request.args.get("racer"), config)
            if kind == "csv":
                response = exports.response(
                    ("csv", link, index),
                    lambda: racer_csv(service.racer_json(config, index)).encode(),
                    mimetype="text/csv",
                )
                return attachment(response, f"racer-{index + 1}.csv")
            try:
                code = pytorch_snippet(config, index)
            except ValueError as exc:
                raise ConfigError("racer", str(exc)) from None
            return Response(code, mimetype="text/x-python")
        except ConfigError as exc:
            return error(400, exc.message, exc.field)

    @api.get("/inspect")
    def inspect() -> Any:
        """One racer's state after every step (the page's step inspector)."""
        try:
            config = decode_race(request.args.get("race"))
            index = racer_index(request.args.get("racer"), config)
        except ConfigError as exc:
            return error(400, exc.message, exc.field)
        return jsonify(service.trace(config, index))

    @api.get("/qr")
    def qr() -> Any:
        """The students' link (the page's link with ``hide=controls``, on this server: the
        request's host if ``hosts`` names it) and its QR code as SVG. The query is the page's
        own query, checked key by key."""
        raw = request.query_string
        if len(raw) > MAX_QUERY_CHARS:
            return error(414, f"the query must be at most {MAX_QUERY_CHARS} characters")
        try:
            args = {key: request.args.getlist(key) for key in request.args}
            host = link_host(request.host, hosts)
            link = student_link(f"{request.scheme}://{host}{request.script_root}/", args, len(raw))
            return jsonify({"link": link, "svg": qr_svg(link)})
        except ConfigError as exc:
            return error(400, exc.message, exc.field)

    @api.route("/race", methods=["GET", "PUT", "PATCH", "DELETE"])
    @api.route("/sweep", methods=["GET", "PUT", "PATCH", "DELETE"])
    @api.route("/fan", methods=["GET", "PUT", "PATCH", "DELETE"])
    @api.route("/starts", methods=["GET", "PUT", "PATCH", "DELETE"])
    def race_other_methods() -> Any:
        return error(405, "use POST with a JSON body")

    @api.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def not_found(unknown: str) -> Any:
        # Without this, the page's catch-all route would answer with the app's HTML.
        return error(404, "no such API endpoint; see /api/openapi.json")

    return api
