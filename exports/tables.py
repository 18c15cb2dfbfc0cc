"""A racer's trajectory as CSV: one row per point, full float64 precision (``repr``)."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = ("step", "x", "y", "loss", "lr", "grad_norm")


def racer_csv(result: dict[str, Any]) -> str:
    """``result`` is one racer of the result JSON (race-config.md). Row k is point x_k with
    its loss; ``lr`` and ``grad_norm`` are those of the step that leaves x_k (empty on the
    last row, which no step leaves)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    lr, norms = result["lr"], result["grad_norm"]
    for k, ((x, y), loss) in enumerate(zip(result["path"], result["loss"], strict=True)):
        after = k < len(lr)
        writer.writerow(
            [
                k,
                repr(x),
                repr(y),
                repr(loss),
                repr(lr[k]) if after else "",
                repr(norms[k]) if after else "",
            ]
        )
    return out.getvalue()
