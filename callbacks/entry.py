"""Which race a page load opens with: a lesson named in the URL (``?lesson=ravine``) or the
opening race. The URL is untrusted: an unknown lesson opens the default race with a note."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from callbacks.form import OPENING_RACE
from lessons import LESSONS, Lesson
from optimizers.validate import validate_race

UNKNOWN = "?"


def entry_key(args: Mapping[str, str]) -> str:
    """What the URL asks for, reduced to a few possible keys: a lesson's name, "" for the
    opening race, or UNKNOWN. Pages are built (and cached) per key, never per raw URL."""
    name = args.get("lesson")
    if name is None:
        return ""
    return name if isinstance(name, str) and name in LESSONS else UNKNOWN


def entry_race(key: str) -> tuple[dict[str, Any], Lesson | None, str]:
    """(normalized race JSON for the controls, the lesson if any, a note for the reader)."""
    lesson = LESSONS.get(key)
    note = "There is no such lesson; here is the opening race." if key == UNKNOWN else ""
    source = lesson.race if lesson else OPENING_RACE
    return validate_race(copy.deepcopy(source)).to_json(), lesson, note
