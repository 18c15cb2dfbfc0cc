"""Exports through the API: the race as JSON, a racer as CSV, and the inspector's trace."""

from __future__ import annotations

import copy
import csv
import io

import pytest

from app import create_app
from callbacks.form import OPENING_RACE
from optimizers.race import run_race
from optimizers.registry import OPTIMIZERS
from optimizers.trace import trace_racer
from optimizers.validate import validate_race
from service.curvature import CURVATURE, curvature
from service.share import encode_race
from tests.openapi_check import errors

CONFIG = validate_race(
    {**copy.deepcopy(OPENING_RACE), "steps": 200, "noise": {"std": 0.1, "seed": 7}}
)
LINK = encode_race(CONFIG)


@pytest.fixture(scope="module")
def client():
    return create_app({}).server.test_client()


def test_race_json_is_the_api_result(client):
    response = client.get(f"/api/export?race={LINK}&format=json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_json()
    assert body == run_race(CONFIG).to_json() | {"racers": body["racers"]}
    assert [r["path"] for r in body["racers"]] == [r.path.tolist() for r in run_race(CONFIG).racers]


@pytest.mark.parametrize("index", range(4))
def test_a_racers_csv_holds_its_trajectory_exactly(client, index):
    response = client.get(f"/api/export?race={LINK}&format=csv&racer={index}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="racer-{index + 1}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    result = run_race(CONFIG).racers[index]
    assert len(rows) == len(result.path)
    assert [[float(r["x"]), float(r["y"])] for r in rows] == result.path.tolist()
    assert [float(r["loss"]) for r in rows] == result.loss.tolist()
    assert [float(r["lr"]) for r in rows[:-1]] == result.lr.tolist() and rows[-1]["lr"] == ""


def test_the_trace_is_the_engines(client):
    response = client.get(f"/api/inspect?race={LINK}&racer=3")
    assert response.status_code == 200
    trace = trace_racer(CONFIG, 3)
    # The engine's record, plus the curvature view built from it (None: a first-order racer).
    assert response.get_json() == {**trace.to_json(), "curvature": curvature(CONFIG, 3, trace)}


def inspected(name: str) -> dict:
    """One racer of optimizer ``name`` for 40 steps (line searches on where it has one)."""
    lr = {"sgd": 1e-4, "momentum": 1e-4, "nesterov": 1e-4, "gauss_newton": 1.0}.get(name, 1e-3)
    params = {"line_search_fn": "strong_wolfe"} if name == "lbfgs" else {}
    racer = {"optimizer": name, "lr": lr, "params": params}
    return validate_race({"surface": {"name": "rosenbrock"}, "steps": 40, "racers": [racer]})


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizers_trace_is_what_the_api_document_says(client, name):
    """/api/inspect answers as /api/openapi.json describes it (its schema is the engine's
    TRACE_SCHEMA with the curvature view's: schemathesis alone rarely reaches a 200 here)."""
    document = client.get("/api/openapi.json").get_json()
    get = document["paths"]["/api/inspect"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    response = client.get(f"/api/inspect?race={encode_race(inspected(name))}&racer=0")
    assert response.status_code == 200
    body = response.get_json()
    assert errors(body, schema) == []
    assert (body["curvature"] is not None) == (name in CURVATURE)
    # The check can fail: a field the schema does not know is refused.
    assert errors({**body, "extra": 1}, schema) != []


def test_pytorch_code_comes_as_text(client):
    response = client.get(f"/api/export?race={LINK}&format=pytorch&racer=3")
    assert response.status_code == 200 and response.mimetype == "text/x-python"
    assert "torch.optim.Adam" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("race=%%%&format=json", "race"),
        ("format=json", "race"),
        (f"race={LINK}&format=xml", "format"),
        (f"race={LINK}&format=csv", "racer"),
        (f"race={LINK}&format=csv&racer=4", "racer"),
        (f"race={LINK}&format=csv&racer=-1", "racer"),
        (f"race={LINK}&format=csv&racer=1e2", "racer"),
    ],
)
def test_bad_exports_name_the_field(client, query, field):
    response = client.get(f"/api/export?{query}")
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_torch_less_settings_are_refused_with_the_reason(client):
    lion = validate_race(
        {**copy.deepcopy(OPENING_RACE), "racers": [{"optimizer": "lion", "lr": 1e-3}]}
    )
    response = client.get(f"/api/export?race={encode_race(lion)}&format=pytorch&racer=0")
    assert response.status_code == 400
    assert response.get_json()["field"] == "racer" and "Lion" in response.get_json()["error"]


@pytest.mark.parametrize("query", ["racer=0", "race=abc&racer=0", f"race={LINK}&racer=9"])
def test_bad_inspections_are_refused(client, query):
    response = client.get(f"/api/inspect?{query}")
    assert response.status_code == 400 and "field" in response.get_json()
