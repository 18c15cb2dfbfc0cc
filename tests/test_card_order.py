"""Each racer's card index (its colour, marker and line pattern): a link's ``slots``, else the
default order 0, 1, 2, …, decided in one place (app.card_slots) for the page's cards, its race
store and the opening picture alike."""

from __future__ import annotations

import inspect

import pytest

from app import card_slots, create_app
from callbacks.entry import EntryKey
from callbacks.form import OPENING_RACE
from layouts import ids
from layouts.page import page
from optimizers.validate import validate_race
from service.share import encode_race
from tests.dash_requests import layout_components

TWO = {
    "surface": {"name": "rosenbrock"},
    "steps": 50,
    "racers": [{"optimizer": "adam", "lr": 0.01}, {"optimizer": "sgd", "lr": 1e-3}],
}


@pytest.fixture(scope="module")
def client():
    app = create_app({"RATE_LIMIT": "1000000 per minute", "API_RATE_LIMIT": "1000000 per minute"})
    return app.server.test_client()


def cards_and_store(client, query: str) -> tuple[list[int], list[str], int]:
    """The racer cards' indices, the race store's order and the next card index, as the page's
    layout (``/_dash-layout`` for the page at ``query``) sends them."""
    answer = client.get("/_dash-layout", headers={"Referer": f"http://localhost/{query}"})
    assert answer.status_code == 200
    found = layout_components(answer.get_json())
    cards = [i["index"] for i, _ in found if isinstance(i, dict) and i["type"] == ids.RACER_CARD]
    by_id = {i: p for i, p in found if isinstance(i, str)}
    return cards, by_id[ids.RACE_STORE]["data"]["order"], by_id[ids.NEXT_INDEX]["data"]


def test_the_default_order_is_one_function_of_the_key():
    assert card_slots(EntryKey(), TWO) == [0, 1]
    assert card_slots(EntryKey(race="x", slots=(1, 3)), TWO) == [1, 3]
    # The page takes its cards' indices from its caller: it has no default order of its own.
    assert inspect.signature(page).parameters["slots"].default is inspect.Parameter.empty


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", list(range(len(OPENING_RACE["racers"])))),  # the opening race
        ("?lesson=fair_comparison", [0, 1, 2]),
        (f"?race={encode_race(validate_race(TWO))}", [0, 1]),
        (f"?race={encode_race(validate_race(TWO))}&slots=1.3", [1, 3]),
        (f"?race={encode_race(validate_race(TWO))}&slots=5.5", [0, 1]),  # does not fit: default
    ],
)
def test_cards_and_race_store_share_the_links_order(client, query, expected):
    cards, order, next_index = cards_and_store(client, query)
    assert cards == expected
    assert order == [str(i) for i in expected]
    assert next_index == max(expected) + 1
