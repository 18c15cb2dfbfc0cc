"""While `make run`'s background warm-up compiles a racer's loop, the page says so in words
and races as soon as the loop is ready (callbacks/race.py; optimizers/warm.py)."""

from __future__ import annotations

import pytest

from tests.live import RACE, READY, control, race_link
from tests.test_browser_inputs import PHONE, choose_optimizer, labelled
from tests.warming import warming

PREPARING = "#race-preparing"


@pytest.fixture
def lion_compiling():
    """This process's readiness as a background warm-up leaves it while Lion's loop is being
    compiled by its worker (the warm-up itself: tests/test_warm.py); restored after."""
    with warming(["lion"]) as progress:
        yield progress


def test_the_page_names_the_optimizer_being_prepared_then_races_it(page, lion_compiling):
    assert page.locator(PREPARING).is_hidden()  # nothing is being prepared: no empty banner
    choose_optimizer(page, 0, "lion")
    message = page.locator(PREPARING)
    message.wait_for(state="visible")
    words = message.inner_text()
    assert words.startswith("Preparing Lion for its first race")
    assert message.get_attribute("role") == "status"
    assert "loop:lion" in lion_compiling.urgent  # the warm-up's queue puts it first
    # Still waiting: the race shown is the one before (card 0 is not Lion yet).
    assert not page.evaluate(f"{RACE}.racers[0].label.startsWith('Lion')")
    with lion_compiling.lock:
        lion_compiling.done.append("loop:lion")
        lion_compiling.lock.notify_all()
    labelled(page, 0, "Lion")  # the next poll races it
    message.wait_for(state="hidden")


def test_a_link_opened_while_its_loop_compiles_shows_the_page_saying_so(page, live, lion_compiling):
    """A share link whose racer's loop was not ready held its whole page (Dash's layout)
    until it was; the page now opens at once with the link's racers in their cards, says
    which it is preparing, and races them once the loop is ready."""
    link = race_link(
        {
            "surface": {"name": "rosenbrock"},
            "steps": 150,
            "racers": [{"optimizer": "lion", "lr": 0.00123}, {"optimizer": "adam", "lr": 0.02}],
        }
    )
    page.goto(live[0] + link)
    message = page.locator(PREPARING)
    message.wait_for(state="visible")
    assert message.inner_text().startswith("Preparing Lion for its first race")
    assert "loop:lion" in lion_compiling.urgent
    assert page.locator(control("racer-lr", 0)).input_value() == "0.00123"
    assert page.evaluate(f"{RACE}.race") is None  # no race yet: the map waits for it
    with lion_compiling.lock:
        lion_compiling.done.append("loop:lion")
        lion_compiling.lock.notify_all()
    page.wait_for_function(READY)
    message.wait_for(state="hidden")
    labels = page.evaluate(f"{RACE}.racers.map(r => r.label)")
    assert labels[0].startswith("Lion") and labels[1].startswith("Adam")


@pytest.mark.parametrize(
    "device", [PHONE, {"viewport": {"width": 1400, "height": 900}}], ids=["phone", "laptop"]
)
def test_the_words_are_in_view_beside_the_card_that_was_changed(
    browser, live, lion_compiling, device
):
    """The card a person changes is below the map, where the words were (on a phone a try-out
    found them ~4,100 px above the card; on a laptop off the screen): they stay at the bottom
    of the screen."""
    context = browser.new_context(**device)
    try:
        tab = context.new_page()
        tab.goto(live[0])
        tab.wait_for_function(READY)
        card = tab.locator(control("racer-optimizer", 3))
        card.scroll_into_view_if_needed()
        choose_optimizer(tab, 3, "lion")
        message = tab.locator(PREPARING)
        message.wait_for(state="visible")
        box, seen = message.bounding_box(), card.bounding_box()
        height = device["viewport"]["height"]
        assert 0 <= box["y"] and box["y"] + box["height"] <= height  # on the screen
        assert 0 <= seen["y"] <= height  # and the card still is
        with lion_compiling.lock:
            lion_compiling.done.append("loop:lion")
            lion_compiling.lock.notify_all()
        labelled(tab, 3, "Lion")
        message.wait_for(state="hidden")
    finally:
        context.close()
