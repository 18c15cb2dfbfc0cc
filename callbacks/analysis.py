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
from optimizers.registry import OPTIMIZERS
from optimizers.sweep import SweepResult, tuned_race
from optimizers.validate import WorkLimitError, starts_options, sweep_options
from service.best_rate import ROBUST_RULE, best_rates, f_star_of, sweep_json
from service.budget import OverBudget
from service.compact import style
from service.races import RaceService
from service.share import decode_race, encode_race

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


# Auto-tune writes and races a rate to 3 significant digits (the grid's 0.0014798331982375287
# as 0.00148): a rate a person can read, type and quote. It is not the rate the sweep ran, so
# the note (and Auto-tune's status) names each grid rate it rounded.
TUNED_DIGITS = 3


def short_rate(lr: float) -> float:
    """``lr`` to TUNED_DIGITS significant digits."""
    return float(f"{lr:.{TUNED_DIGITS}g}")


def short_rates(rates: list[float | None]) -> list[float | None]:
    return [None if lr is None else short_rate(lr) for lr in rates]


def rounded_rates(tuned: RaceConfig, sweep: SweepResult) -> str:
    """Each tuned rate that is a grid rate rounded, with the grid rate it rounds ("SGD's
    0.0119378 as 0.0119"): read off the tuned race, so a link's checked claim says the same."""
    grid = [float(g) for g in sweep.grid.rates()]
    said = []
    for racer in tuned.racers:
        if OPTIMIZERS[racer.optimizer].kernel.swept != "lr":
            continue  # Auto-tune leaves it as it was
        near = [g for g in grid if short_rate(g) == racer.lr and g != racer.lr]
        if near:
            name = racer.label or OPTIMIZERS[racer.optimizer].card.title
            said.append(f"{name}'s {near[0]:.6g} as {racer.lr:g}")
    return "; ".join(said)


def tuned_text(sweep: SweepResult, tuned: RaceConfig) -> str:
    grid = sweep.grid
    rounded = rounded_rates(tuned, sweep)
    return (
        f"Rates auto-tuned: each racer at its best of {grid.count} rates from "
        f"{grid.low:g} to {grid.high:g} (its own rate included) by "
        f"{CRITERIA[sweep.criterion].text}, over {sweep.steps:,} steps, raced to "
        f"{TUNED_DIGITS} significant digits"
        + (f" (grid rates {rounded})" if rounded else "")
        + f"; {ROBUST_RULE}."
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
    return {
        "share": encode_race(tuned),
        "text": tuned_text(sweep, tuned),
        "criterion": sweep.criterion,
    }


def tune(store: Any, criterion: Any, service: RaceService) -> ViewUpdate:
    """Each racer's best rate to TUNED_DIGITS (by page index, in ``extra["rates"]``), what
    was rounded (``extra["status"]``, until the sweep is redrawn) and the tuned race's note:
    the leaderboard shows it while the race on the page is exactly the tuned one."""

    def compute() -> ViewUpdate:
        config, indices = page_race(store)
        result = service.sweep(sweep_options({"criterion": criterion}, config))
        best = best_rates(result, f_star_of(config))
        short = short_rates(best)
        rates = {i: lr for i, lr in zip(indices, short, strict=True) if lr is not None}
        tuned = tuned_race(config, short)
        status = f"Tuned: every racer races at its own best rate, to {TUNED_DIGITS} significant"
        rounded = rounded_rates(tuned, result)
        status += f" digits (grid rates {rounded})." if rounded else " digits."
        return ViewUpdate(data=tuned_note(result, tuned), extra={"rates": rates, "status": status})

    return _guarded(compute)


def confirm_tuned(store: Any, claim: Any, service: RaceService) -> ViewUpdate:
    """A shared link's claim (``{"criterion": …}``) that its race is auto-tuned. A link can say
    anything, so the race is swept again: the note comes back only if every racer already
    races at its best rate by that criterion, that is if tuning would change nothing."""

    def compute() -> ViewUpdate:
        config, _ = page_race(store)
        criterion = claim.get("criterion") if isinstance(claim, dict) else None
        result = service.sweep(sweep_options({"criterion": criterion}, config))
        tuned = tuned_race(config, short_rates(best_rates(result, f_star_of(config))))
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
