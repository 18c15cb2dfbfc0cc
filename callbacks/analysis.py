"""The fair-race views' logic, free of Dash: the race on the page (its share value, decoded and
validated again) plus the view's options in, the view's store out.

The page sends the views only ``race-share`` ({share, order}, a few hundred bytes derived in
the browser from the race store), never the race's result: a heavy race's store is megabytes,
more than the server accepts in a request. That store is browser state, so it is untrusted
like any request: the race goes through ``decode_race`` and the options through the
validator's option checks. A view the validator refuses for its work says so in words, with
the numbers, in place of its chart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from common.errors import ConfigError
from common.params import typed
from optimizers.config import CRITERIA, RaceConfig
from optimizers.race import default_label
from optimizers.sweep import SweepResult, tuned_race
from optimizers.validate import WorkLimitError, starts_options, sweep_options
from service.best_rate import ROBUST_RULE, best_rates, isolated_dip, robust_best
from service.budget import OverBudget
from service.compact import style
from service.races import RaceService
from service.share import decode_race, encode_race
from surfaces import get_surface

log = logging.getLogger(__name__)
SERVER_FAULT = "Something went wrong on the server; the last result is kept."


@dataclass
class ViewUpdate:
    """A view's answer: ``data`` None keeps what the page shows; ``message`` says why."""

    data: dict[str, Any] | None = None
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def refused(store: Any, error: ConfigError) -> ViewUpdate:
    """A view that cannot be computed: its store says why (the chart shows it), so the page
    neither stays empty nor keeps a chart of another race."""
    share = store.get("share") if isinstance(store, dict) else None
    return ViewUpdate(
        data={"share": share if isinstance(share, str) else None, "refused": error.message},
        message=error.message,
    )


def page_race(store: Any) -> tuple[RaceConfig, list[int]]:
    """The race the page shows, and each racer's page index (its colour), from the store."""
    share = store.get("share") if isinstance(store, dict) else None
    config = decode_race(share)
    order = store.get("order") if isinstance(store, dict) else None
    indices = list(range(len(config.racers)))
    if isinstance(order, list) and len(order) == len(config.racers):
        if all(isinstance(k, str) and k.isascii() and k.isdigit() and len(k) <= 3 for k in order):
            indices = [int(k) for k in order]
    return config, indices


def _guarded(compute: Any, store: Any = None) -> ViewUpdate:
    """``compute()``; a refused request becomes its message (and, for a view given its
    ``store``, work over the budget a refused view), any other failure a sentence without a
    traceback. A client out of work budget is refused the whole request (429)."""
    try:
        return compute()
    except WorkLimitError as error:
        return refused(store, error) if store is not None else ViewUpdate(message=error.message)
    except ConfigError as error:
        return ViewUpdate(message=str(error))
    except OverBudget:
        raise  # the client's work budget is spent: 429 with Retry-After (web/hardening.py)
    except Exception:
        log.exception("fair-race view failed")
        return ViewUpdate(message=SERVER_FAULT)


def sweep_json(result: SweepResult, f_star: float | None) -> dict[str, Any]:
    """The sweep as the page draws it: each racer's best by ROBUST_RULE, and its isolated dip."""
    data = result.to_json()
    for racer, row in zip(result.racers, data["racers"], strict=True):
        best = robust_best(racer, result.criterion, f_star)
        row["best"] = None if best is None else best.to_json()
        row["dip"] = isolated_dip(racer, result.criterion, f_star)
    data["rule"] = ROBUST_RULE
    return data


def f_star_of(config: RaceConfig) -> float | None:
    return get_surface(config.surface.name, **config.surface.params).f_star


def tuned_text(sweep: SweepResult) -> str:
    grid = sweep.grid
    return (
        f"Rates auto-tuned: each racer at its best of {grid.count} rates from "
        f"{grid.low:g} to {grid.high:g} (its own rate included) by "
        f"{CRITERIA[sweep.criterion].text}, over {sweep.steps:,} steps; {ROBUST_RULE}."
    )


def sweep_view(store: Any, criterion: Any, service: RaceService) -> ViewUpdate:
    """Every racer's rate sweep, with its colour and the surface's f* for the chart."""

    def compute() -> ViewUpdate:
        config, indices = page_race(store)
        result = service.sweep(sweep_options({"criterion": criterion}, config))
        f_star = f_star_of(config)
        return ViewUpdate(
            data={
                **sweep_json(result, f_star),
                "f_star": f_star,
                "styles": [style(i) for i in indices],
                "share": store["share"],
            }
        )

    return _guarded(compute, store)


def tuned_note(sweep: SweepResult, tuned: RaceConfig) -> dict[str, Any]:
    """The leaderboard's note, shown while the page's race is exactly ``tuned`` (its link)."""
    return {"share": encode_race(tuned), "text": tuned_text(sweep), "criterion": sweep.criterion}


def tune(store: Any, criterion: Any, service: RaceService) -> ViewUpdate:
    """Each racer's best rate (by page index, in ``extra["rates"]``) and the tuned race's
    note: the leaderboard shows it while the race on the page is exactly the tuned one."""

    def compute() -> ViewUpdate:
        config, indices = page_race(store)
        result = service.sweep(sweep_options({"criterion": criterion}, config))
        best = best_rates(result, f_star_of(config))
        rates = {i: lr for i, lr in zip(indices, best, strict=True) if lr is not None}
        return ViewUpdate(data=tuned_note(result, tuned_race(config, best)), extra={"rates": rates})

    return _guarded(compute)


def confirm_tuned(store: Any, claim: Any, service: RaceService) -> ViewUpdate:
    """A shared link's claim (``{"criterion": …}``) that its race is auto-tuned. A link can say
    anything, so the race is swept again: the note comes back only if every racer already
    races at its best rate by that criterion, that is if tuning would change nothing."""

    def compute() -> ViewUpdate:
        config, _ = page_race(store)
        criterion = claim.get("criterion") if isinstance(claim, dict) else None
        result = service.sweep(sweep_options({"criterion": criterion}, config))
        tuned = tuned_race(config, best_rates(result, f_star_of(config)))
        if encode_race(tuned) != encode_race(config):
            return ViewUpdate(message="The link's race is not at its best rates.")
        return ViewUpdate(data=tuned_note(result, tuned))

    return _guarded(compute)


def starts_view(
    store: Any, racer: Any, layout: Any, count: Any, service: RaceService
) -> ViewUpdate:
    """One racer (chosen by page index) from many starts; ``extra`` holds the racer menu."""

    def compute() -> ViewUpdate:
        config, indices = page_race(store)
        chosen = racer if racer in indices and isinstance(racer, int) else indices[0]
        position = indices.index(chosen)
        options = {"racer": position, "layout": layout, "count": typed(count)}
        result = service.starts(starts_options(options, config))
        menu = [
            {"label": r.label or default_label(r), "value": i}
            for i, r in zip(indices, config.racers, strict=True)
        ]
        return ViewUpdate(
            data={**result, "style": style(chosen)},
            extra={"options": menu, "value": chosen},
        )

    return _guarded(compute, store)
