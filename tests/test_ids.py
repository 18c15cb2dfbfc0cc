"""Component ids are defined once (layouts/ids.py): the layouts, the callbacks, the browser
scripts and the index page all take them from there."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from layouts import ids
from layouts.ids import page_ids

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sorted(
    p
    for folder in ("layouts", "callbacks")
    for p in (ROOT / folder).glob("*.py")
    if p.name != "ids.py"
)
SCRIPTS = sorted((ROOT / "assets").glob("*.js"))
DASH_DEPENDENCIES = {"Input", "Output", "State"}


def literal_ids(tree: ast.AST) -> list[str]:
    """Ids written as string literals: ``id="…"``, ``Input("…", …)``, ``{"type": "…"}``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "id":
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.append(node.value.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in DASH_DEPENDENCIES:
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(first.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    found.append(value.value)
    return found


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: p.name)
def test_python_takes_every_id_from_the_ids_module(path):
    assert literal_ids(ast.parse(path.read_text())) == []


def test_the_scan_finds_a_literal_id():
    # The check above could fail: a literal id in each of its three forms is found.
    source = 'html.Div(id="x"); Input("y", "value"); z = {"type": "w", "index": 1}'
    assert sorted(literal_ids(ast.parse(source))) == ["w", "x", "y"]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_take_every_id_from_the_page(path):
    text = path.read_text()
    # A data-action's name may equal an id's (R.action("move-start", …)): it is not an id.
    text = re.sub(r"action\(\"[a-z-]+\"", "", text)
    # Ids of one plain word ("racers") are also ordinary words in the scripts: the hyphenated
    # rest must not be written out.
    written = [
        v
        for v in page_ids().values()
        if "-" in v and re.search(rf"[\"']#?{re.escape(v)}[\"' ]", text)
    ]
    assert written == []


def test_ids_are_distinct_and_every_one_is_on_the_page():
    from app import create_app

    values = list(page_ids().values())
    assert len(values) == len(set(values))
    from tests.live import race_link

    # A race whose surface and schedule have parameters: every kind of control is there.
    race = {
        "surface": {"name": "quadratic"},
        "racers": [{"optimizer": "adam", "lr": 0.1, "schedule": {"name": "step"}}],
    }
    app = create_app({})
    with app.server.test_request_context(race_link(race)):
        layout = app.layout()
    found: set[str] = set()

    def walk(component) -> None:
        ident = getattr(component, "id", None)
        if isinstance(ident, str):
            found.add(ident)
        elif isinstance(ident, dict):
            found.add(ident.get("type"))
        children = getattr(component, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if hasattr(child, "to_plotly_json"):
                walk(child)

    walk(layout)
    # The rest are in the index page itself (the opening page's picture of its map, and a
    # lesson's beat on a lesson's page).
    client = app.server.test_client()
    index = client.get("/").get_data(as_text=True)
    index += client.get("/?lesson=ravine&beat=2").get_data(as_text=True)
    assert {v for v in set(values) - found if f'id="{v}"' not in index} == set()


def test_the_index_page_gives_the_browser_every_id():
    from app import create_app

    client = create_app({}).server.test_client()
    html = client.get("/").get_data(as_text=True)
    block = re.search(r'<script id="page-ids" type="application/json">(.*?)</script>', html)
    assert block is not None
    assert json.loads(block.group(1)) == page_ids()
    assert page_ids()["RACE_GRAPH"] == ids.RACE_GRAPH
