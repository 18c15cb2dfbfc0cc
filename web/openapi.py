"""The OpenAPI 3 document of the JSON API, generated from the registries and the validator."""

from __future__ import annotations

from typing import Any

from common.params import Param
from lessons import KINDS, LESSONS
from lessons.beats import LOSS_AXES, MEASURES, SPEEDS, VIEWS
from optimizers.base import LR
from optimizers.config import CRITERIA
from optimizers.race import RACER_RESULT_SCHEMA
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.starts import DIVERGED, MOVING
from optimizers.trace import TRACE_SCHEMA
from optimizers.validate import (
    CLIP,
    CRITERION,
    FAN_RUNS,
    GRID_COUNT,
    GRID_HIGH,
    GRID_LOW,
    MAX_LABEL,
    MAX_RACERS,
    MAX_RUN_STEPS,
    NOISE_SEED,
    NOISE_STD,
    SAM_ADAPTIVE,
    SAM_RHO,
    STARTS_COUNT,
    STARTS_LAYOUT,
    STARTS_RACER,
    STARTS_SEED,
    STEPS,
    TOL,
    WORK_BUDGET,
)
from service.best_rate import LOWEST, ROBUST_RULE
from service.curvature import CURVATURE_SCHEMA
from service.share import MAX_SHARE_CHARS
from surfaces import SURFACES
from web.qr import MAX_QUERY_CHARS


def param_schema(p: Param) -> dict[str, Any]:
    """JSON Schema (OpenAPI 3.0 dialect) of one registry parameter."""
    if p.kind == "bool":
        out: dict[str, Any] = {"type": "boolean"}
    elif p.kind == "choice":
        out = {"type": "string", "enum": list(p.choices)}
    elif p.kind == "pair":
        item = param_schema(
            Param(p.name, 0.0, low=p.low, high=p.high, low_open=p.low_open, high_open=p.high_open)
        )
        out = {"type": "array", "items": item, "minItems": 2, "maxItems": 2}
    else:
        out = {"type": "integer" if p.kind == "int" else "number"}
        if p.low is not None:
            out["minimum"] = p.low
            if p.low_open:
                out["exclusiveMinimum"] = True
        if p.high is not None:
            out["maximum"] = p.high
            if p.high_open:
                out["exclusiveMaximum"] = True
    if p.nullable:
        out["nullable"] = True
    if p.help:
        out["description"] = p.help
    return out


def _named(registry: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "enum": list(registry), "description": what},
            "params": {
                "type": "object",
                "description": f"the {what}'s parameters by name (see its listing)",
            },
        },
    }


def _numbers() -> dict[str, Any]:
    return {"type": "array", "items": {"type": "number"}}


ERROR = {
    "type": "object",
    "required": ["error", "field"],
    "properties": {
        "error": {"type": "string", "description": "what is wrong, for a person"},
        "field": {"type": "string", "description": "the JSON path of the field, or empty"},
    },
}

CLAIM = {
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"type": "string", "enum": list(KINDS)}},
    "description": "a statement of the caption, checkable on the race (lessons/claims.py)",
}
BEAT = {
    "type": "object",
    "required": ["caption", "race", "step", "speed", "view", "claims"],
    "properties": {
        "caption": {"type": "string"},
        "race": {"type": "object", "nullable": True, "description": "null: the previous beat's"},
        "step": {"type": "integer", "nullable": True, "description": "null: the race's end"},
        "play_from": {"type": "integer", "nullable": True},
        "speed": {"type": "number", "enum": list(SPEEDS)},
        "zoom": {"type": "array", "nullable": True, "items": {"type": "array"}},
        "view": {"type": "string", "nullable": True, "enum": [v for v in VIEWS if v]},
        "inspect": {"type": "integer", "nullable": True},
        "highlight": {"type": "array", "items": {"type": "integer"}},
        "hidden": {"type": "array", "items": {"type": "integer"}},
        "measure": {"type": "string", "nullable": True, "enum": [m for m in MEASURES if m]},
        "loss_axis": {"type": "string", "enum": list(LOSS_AXES)},
        "marks": {"type": "array", "items": {"type": "array"}},
        "claims": {"type": "array", "minItems": 1, "items": CLAIM},
        "reads": {
            "type": "array",
            "items": {"type": "string"},
            "description": "what the page keeps in view for the claims (derived from them: "
            '"loss_chart": the loss chart stays beside the map in Present)',
        },
    },
}
LESSON_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name", "title", "beats", "question"],
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "beats": {"type": "array", "minItems": 1, "items": BEAT},
            "question": {
                "type": "object",
                "nullable": True,
                "required": ["prompt", "answer", "beat", "claim"],
                "properties": {
                    "prompt": {"type": "string"},
                    "answer": {"type": "integer", "description": "the right racer's index"},
                    "beat": {"type": "integer", "description": "asked before this beat"},
                    "claim": CLAIM,
                },
            },
        },
    },
}

LISTING = {"type": "array", "items": {"type": "object", "required": ["name", "title", "params"]}}


def openapi_document() -> dict[str, Any]:
    racer = {
        "type": "object",
        "required": ["optimizer", "lr"],
        "additionalProperties": False,
        "properties": {
            "optimizer": {"type": "string", "enum": list(OPTIMIZERS)},
            "lr": param_schema(LR),
            "params": {"type": "object", "description": "hyper-parameters by torch's names"},
            "schedule": _named(SCHEDULES, "schedule"),
            "clip_norm": param_schema(CLIP),
            "sam_rho": param_schema(SAM_RHO),
            "sam_adaptive": param_schema(SAM_ADAPTIVE),
            "label": {"type": "string", "maxLength": MAX_LABEL, "nullable": True},
        },
    }
    race = {
        "type": "object",
        "required": ["surface", "racers"],
        "additionalProperties": False,
        "properties": {
            "surface": _named(SURFACES, "surface"),
            "start": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "nullable": True,
            },
            "steps": param_schema(STEPS),
            "tol": param_schema(TOL),
            "noise": {
                "type": "object",
                "additionalProperties": False,
                "nullable": True,
                "properties": {"std": param_schema(NOISE_STD), "seed": param_schema(NOISE_SEED)},
            },
            "racers": {"type": "array", "minItems": 1, "maxItems": MAX_RACERS, "items": racer},
            "work_budget": param_schema(WORK_BUDGET),
        },
    }
    # The result's racer shape is defined once, beside RacerResult.to_json (optimizers/race.py).
    racer_result = RACER_RESULT_SCHEMA
    inspected = {
        **TRACE_SCHEMA,
        "required": [*TRACE_SCHEMA["required"], "curvature"],
        "properties": {**TRACE_SCHEMA["properties"], "curvature": CURVATURE_SCHEMA},
    }
    result = {
        "type": "object",
        "required": ["surface", "start", "steps", "racers"],
        "properties": {
            "surface": {"type": "object"},
            "start": {"type": "array", "items": {"type": "number"}},
            "steps": {"type": "integer"},
            "racers": {"type": "array", "items": racer_result},
        },
    }

    def answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    errors = {
        "400": answer("invalid race: the field and what is wrong", ERROR),
        "413": answer("body too large", ERROR),
        "429": answer("too many requests from this client", ERROR),
    }

    def batch(
        summary: str,
        options: dict[str, Any],
        description: str,
        returns: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A POST that runs a race many times: its body is ``race`` plus its options."""
        body = {
            "type": "object",
            "required": ["race"],
            "additionalProperties": False,
            "properties": {"race": race, **options},
        }
        return {
            "post": {
                "summary": summary,
                "description": f"{description} One request runs at most {MAX_RUN_STEPS:,} "
                "run-steps (runs × steps).",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": body}},
                },
                "responses": {
                    "200": answer("the result", returns or {"type": "object"}),
                    **errors,
                },
            }
        }

    grid = {
        "type": "object",
        "additionalProperties": False,
        "properties": {p.name: param_schema(p) for p in (GRID_LOW, GRID_HIGH, GRID_COUNT)},
    }
    point = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    starts_result = {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "optimizer": {"type": "string"},
            "layout": {"type": "string", "enum": list(STARTS_LAYOUT.choices)},
            "starts": {"type": "array", "items": point},
            "finals": {
                "type": "array",
                "items": {**point, "nullable": True},
                "description": "each run's end point (null where it diverged)",
            },
            "basin": {
                "type": "array",
                "items": {"type": "integer", "minimum": MOVING},
                "description": f"each run's basin: its index in basins, {DIVERGED} diverged, "
                f"{MOVING} still moving at the end",
            },
            "basins": {
                "type": "array",
                "description": "where runs came to rest, lowest loss first",
                "items": {
                    "type": "object",
                    "properties": {
                        "point": point,
                        "loss": {"type": "number"},
                        "count": {"type": "integer"},
                        "listed": {
                            "type": "boolean",
                            "description": "a point the surface lists (else a minimum found)",
                        },
                        "kind": {
                            "type": "string",
                            "enum": ["minimum", "maximum", "saddle"],
                            "description": "what the point is: a run at rest on a listed "
                            "maximum or saddle (plain Newton goes there) is in its basin",
                        },
                    },
                },
            },
            "diverged": {"type": "integer", "description": "runs that diverged"},
            "moving": {"type": "integer", "description": "runs not at rest by the last step"},
        },
    }
    outcome = {
        "type": "object",
        "required": ["lr", "final_loss", "steps_to_tol", "diverged_at"],
        "additionalProperties": False,
        "properties": {
            "lr": {"type": "number", "description": "the swept value (see parameter)"},
            "final_loss": {"type": "number", "nullable": True, "description": "null: diverged"},
            "steps_to_tol": {"type": "integer", "nullable": True},
            "diverged_at": {"type": "integer", "nullable": True},
        },
    }
    nullable_integers = {"type": "array", "items": {"type": "integer", "nullable": True}}
    sweep_row = {
        "label": {"type": "string"},
        "optimizer": {"type": "string"},
        "parameter": {"type": "string", "description": "what is swept: lr, or e.g. damping"},
        "lr": {"type": "number", "description": "the racer's own value"},
        "current": {**outcome, "description": "the run at the racer's own value"},
        "final_loss": {
            "type": "array",
            "items": {"type": "number", "nullable": True},
            "description": "at each grid rate (null: diverged)",
        },
        "steps_to_tol": nullable_integers,
        "diverged_at": nullable_integers,
        "best": {
            **outcome,
            "nullable": True,
            "description": f"the best rate (the page's ★ and Auto-tune's): {ROBUST_RULE}; "
            "null when every rate diverges",
        },
        "lowest": {**outcome, "nullable": True, "description": LOWEST},
        "dip": {
            **outcome,
            "required": [*outcome["required"], "neighbour"],
            "properties": {**outcome["properties"], "neighbour": outcome},
            "nullable": True,
            "description": "the lowest run when it is not the best rate (an isolated dip), "
            "with the neighbour that sinks it; null otherwise",
        },
        "edge_lr": {
            "type": "number",
            "nullable": True,
            "description": "the smallest grid rate from which every larger one diverges",
        },
    }
    sweep_racer = {
        "type": "object",
        "additionalProperties": False,
        "required": list(sweep_row),
        "properties": sweep_row,
    }
    sweep_result = {
        "type": "object",
        "additionalProperties": False,
        "required": ["criterion", "criterion_text", "steps", "grid", "rates", "racers", "rule"],
        "properties": {
            "criterion": {"type": "string", "enum": list(CRITERIA)},
            "criterion_text": {"type": "string"},
            "steps": {"type": "integer"},
            "grid": {"type": "object"},
            "rates": _numbers(),
            "racers": {"type": "array", "items": sweep_racer},
            "rule": {"type": "string", "description": "how best is chosen, in words"},
        },
    }
    batches = {
        "/api/sweep": batch(
            "each racer over a log grid of learning rates: final loss, steps to tolerance, "
            "divergence edge, best rate and lowest run",
            {"grid": grid, "criterion": param_schema(CRITERION)},
            "Each racer's best is the page's best rate (its sweep chart's ★, the rate Auto-tune "
            f"sets): {ROBUST_RULE}. Results are compared as f − f* (the final loss where the "
            "surface has no f*) to 3 significant digits, by the criterion (then the other "
            "one); on a tie the racer's own rate wins, then the better own result, then the "
            "smaller rate. The racer's own rate is a candidate too (judged with its nearest "
            "grid rates). lowest is the single lowest run, which may be an isolated dip (then "
            "also given as dip, with the neighbour that sinks it).",
            sweep_result,
        ),
        "/api/fan": batch(
            "each racer under many noise seeds (seed, seed+1, …): median and quartiles",
            {"runs": param_schema(FAN_RUNS)},
            "The race's noise σ must be above 0.",
        ),
        "/api/starts": batch(
            "one racer from a grid or cloud of starts, grouped by the basin each run ends in",
            {
                p.name: param_schema(p)
                for p in (STARTS_RACER, STARTS_LAYOUT, STARTS_COUNT, STARTS_SEED)
            },
            "A grid uses the largest square number of starts not above count. A basin is "
            "claimed only where runs came to rest: at a listed minimum for the last tenth of "
            "the race, or elsewhere with the local quadratic model's minimum within 1e-4 of "
            "the view's span and a last step as short. Runs still moving at the end "
            f"(basin {MOVING}) and diverged runs (basin {DIVERGED}) are in no basin.",
            starts_result,
        ),
    }

    def listing(what: str) -> dict[str, Any]:
        return {
            "get": {
                "summary": f"every {what} with its parameters, defaults, bounds and help",
                "responses": {"200": answer(f"the {what} registry", LISTING), "429": errors["429"]},
            }
        }

    def query(name: str, schema: dict[str, Any], description: str, required: bool) -> dict:
        return {
            "name": name,
            "in": "query",
            "required": required,
            "schema": schema,
            "description": description,
        }

    shared = query(
        "race",
        {"type": "string", "minLength": 1, "maxLength": MAX_SHARE_CHARS},
        "a race as in the page's share links: compact race JSON in URL-safe base64",
        True,
    )
    position = query(
        "racer",
        {"type": "integer", "minimum": 0, "maximum": MAX_RACERS - 1},
        "the racer's position in the race, from 0",
        False,
    )
    kind = query(
        "format", {"type": "string", "enum": ["json", "csv", "pytorch"]}, "what to export", False
    )
    qr_parameters = [
        query(
            "race",
            {"type": "string", "maxLength": MAX_SHARE_CHARS},
            "the page's race (its share value)",
            False,
        ),
        query("lesson", {"type": "string", "enum": list(LESSONS)}, "the page's lesson", False),
        query("step", {"type": "string", "pattern": r"^\d{1,5}$"}, "the playback step", False),
        query("x", {"type": "string"}, "the map's x range, low,high", False),
        query("y", {"type": "string"}, "the map's y range, low,high", False),
        query("view", {"type": "string", "enum": ["2d", "3d"]}, "the map's view", False),
        query("analysis", {"type": "string", "enum": ["sweep", "starts"]}, "open view", False),
        query("tuned", {"type": "string", "enum": list(CRITERIA)}, "auto-tune claim", False),
        query("inspect", {"type": "string", "pattern": r"^\d{1,3}$"}, "racer inspected", False),
        query("present", {"type": "string", "enum": ["1"]}, "presentation (dropped)", False),
        query("hide", {"type": "string"}, "groups hidden, comma-separated", False),
    ]
    read_errors = {
        "400": answer("invalid link, format or racer: the field and what is wrong", ERROR),
        "429": errors["429"],
    }
    downloads = {
        "application/json": {"schema": result},
        "text/csv": {"schema": {"type": "string"}},
        "text/x-python": {"schema": {"type": "string"}},
    }

    return {
        "openapi": "3.0.3",
        "info": {"title": "Optimizer Race API", "version": "1"},
        "paths": {
            "/api/surfaces": listing("surface"),
            "/api/optimizers": listing("optimizer"),
            "/api/schedules": listing("schedule"),
            "/api/lessons": {
                "get": {
                    "summary": "every lesson: its beats, captions, the captions' claims and "
                    "its predict-first question",
                    "responses": {
                        "200": answer("the lessons, in the page's order", LESSON_LIST),
                        "429": errors["429"],
                    },
                }
            },
            "/api/race": {
                "post": {
                    "summary": "run a race (race-config.md) and return every racer's history",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": race}},
                    },
                    "responses": {"200": answer("the race result", result), **errors},
                }
            },
            **batches,
            "/api/export": {
                "get": {
                    "summary": "a shared race's result JSON, a racer's CSV or its PyTorch code",
                    "parameters": [shared, kind, position],
                    "responses": {
                        "200": {"description": "the export", "content": downloads},
                        **read_errors,
                    },
                }
            },
            "/api/qr": {
                "get": {
                    "summary": "the students' link (this page's link with hide=controls) and "
                    "its QR code as SVG",
                    "description": "The query is the page's own query: only its link keys, "
                    "each as the page writes it. The link is on the request's host and port, and "
                    "only for a host the deployment names (PUBLIC_HOSTS; unset, loopback only: "
                    "any other is a 400 naming host); present "
                    f"is dropped and controls added to hide. At most {MAX_QUERY_CHARS:,} "
                    "characters of query.",
                    "parameters": qr_parameters,
                    "responses": {
                        "200": answer(
                            "the link and its QR code",
                            {
                                "type": "object",
                                "required": ["link", "svg"],
                                "properties": {
                                    "link": {"type": "string"},
                                    "svg": {"type": "string", "description": "an SVG document"},
                                },
                            },
                        ),
                        "400": answer("a key that is not the page's, a bad value or host", ERROR),
                        "414": answer("query too long", ERROR),
                        "429": errors["429"],
                    },
                }
            },
            "/api/inspect": {
                "get": {
                    "summary": "a racer's optimizer state after every step (step inspector)",
                    "parameters": [shared, {**position, "required": True}],
                    "responses": {
                        "200": answer("the racer's trace", inspected),
                        **read_errors,
                    },
                }
            },
        },
    }
