"""Which race a page load opens with: a lesson named in the URL (``?lesson=ravine``) or the
opening race. The URL is untrusted: an unknown lesson opens the default race with a note."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from callbacks.form import OPENING_RACE
from lessons import LESSONS, Lesson
from optimizers.validate import validate_race


def entry_race(args: Mapping[str, str]) -> tuple[dict[str, Any], Lesson | None, str]:
    """(normalized race JSON for the controls, the lesson if any, a note for the reader)."""
    name = args.get("lesson")
    lesson = LESSONS.get(name) if isinstance(name, str) else None
    note = "" if name is None or lesson else "There is no such lesson; here is the opening race."
    source = lesson.race if lesson else OPENING_RACE
    return validate_race(copy.deepcopy(source)).to_json(), lesson, note
