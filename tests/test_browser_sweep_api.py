"""The API's sweep names the rate the page shows as best (issue 25, session 13, H3 a): read
off the page's sweep table at laptop size and from /api/sweep, asked by that page."""

from __future__ import annotations

import os

import pytest

from callbacks.form import OPENING_RACE
from tests.live import RACE, race_link

LAPTOP = {"width": 1400, "height": 900}
SHOTS = "/tmp/shots/h3"


def test_the_api_sweeps_best_is_the_best_rate_the_page_shows(tabs):
    tab = tabs(race_link(OPENING_RACE, "&analysis=sweep"), viewport=LAPTOP)
    tab.wait_for_function(
        f"() => {RACE}.sweep && {RACE}.sweep.share === {RACE}.race.share && "
        "document.querySelectorAll('.sweep-table tbody tr').length === 4"
    )
    table = tab.locator(".sweep-table")
    table.scroll_into_view_if_needed()
    os.makedirs(SHOTS, exist_ok=True)
    table.screenshot(path=f"{SHOTS}/sweep-table-laptop.png")
    # Each row's best rate, as the table shows it (text) and holds it (data-value), and the
    # isolated dip it names, if any.
    rows = tab.evaluate(
        """() => Array.from(document.querySelectorAll('.sweep-table tbody tr')).map(tr => {
          const best = tr.children[2];
          const dip = best.querySelector('.sweep-dip');
          return {racer: tr.children[0].textContent.trim(), best: Number(best.dataset.value),
                  text: best.textContent, dip: dip ? Number(dip.dataset.lr) : null};
        })"""
    )
    # The API, asked by the same page for the same race.
    answer = tab.evaluate(
        """race => fetch('/api/sweep', {method: 'POST', body: JSON.stringify({race}),
             headers: {'Content-Type': 'application/json'}}).then(r => r.json())""",
        OPENING_RACE,
    )
    assert len(answer["racers"]) == len(rows) == 4
    for row, api in zip(rows, answer["racers"], strict=True):
        assert row["best"] == api["best"]["lr"], (row, api["best"])
        assert row["dip"] == (api["dip"]["lr"] if api["dip"] else None), row
    # Adam's lowest single run (1.28) is the dip the page names, not the best rate it shows:
    # the API reports it apart, as lowest.
    adam = next(i for i, r in enumerate(answer["racers"]) if r["optimizer"] == "adam")
    lowest = answer["racers"][adam]["lowest"]["lr"]
    assert rows[adam]["dip"] == lowest and rows[adam]["best"] < lowest
    assert "isolated dip" in rows[adam]["text"]
    # What the table shows as each best rate is the API's best (to the 3 digits shown), and the
    # rule the table's caption states is the one the API names.
    for row, api in zip(rows, answer["racers"], strict=True):
        assert float(row["text"].split()[0]) == pytest.approx(api["best"]["lr"], rel=5e-3)
    assert answer["rule"] in tab.locator(".sweep-table caption").inner_text()
