"""Which race a page load opens with: a shared race (``?race=…``), a lesson's beat
(``?lesson=…&beat=…``, beats counted from 1 as the page shows them) or the opening race. The
URL is untrusted: what it names is validated, and anything unknown or invalid opens the
default race with a note saying so.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NamedTuple

from callbacks.form import OPENING_RACE
from common.errors import ConfigError
from layouts.controls import reader_field
from lessons import LESSONS, Lesson
from optimizers.validate import validate_race
from service.share import decode_race, encode_race

UNKNOWN = "?"


class EntryKey(NamedTuple):
    """What the URL asks for, reduced to what decides the page: pages are built (and cached)
    per key, never per raw URL. ``race`` is the canonical link of a valid shared race, or
    UNKNOWN with ``problem`` saying what was wrong."""

    lesson: str = ""
    race: str = ""
    problem: str = ""
    beat: int = 0  # the lesson's beat, from 0; UNKNOWN_BEAT when the link names none of them
    # Each racer's card index (its colour, marker and line pattern: service.compact.style),
    # from the link's ``slots``; empty: 0, 1, 2, … (every link made before slots existed).
    slots: tuple[int, ...] = ()


UNKNOWN_BEAT = -1
MAX_SLOT = 999  # a card index the page could have reached by adding and removing racers


def slots_of(value: str | None, count: int) -> tuple[int, ...]:
    """The card indices a link's ``slots`` names (``1.3``: the first racer is card 1, the
    second card 3), when they are ``count`` distinct numbers up to MAX_SLOT; anything else,
    or the plain 0, 1, 2, … order, is empty (the default order, one cached page)."""
    parts = (value or "").split(".")
    if len(parts) != count or not all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
        return ()
    slots = tuple(int(p) for p in parts)
    if len(set(slots)) != count or max(slots) > MAX_SLOT or slots == tuple(range(count)):
        return ()
    return slots


def beat_of(lesson: str, value: str | None) -> int:
    """The beat a link names (``beat=3`` is the third, index 2); none named is the first."""
    if value is None or lesson not in LESSONS:
        return 0
    count = len(LESSONS[lesson].beats)
    if len(value) <= 2 and value.isascii() and value.isdigit() and 1 <= int(value) <= count:
        return int(value) - 1
    return UNKNOWN_BEAT


def entry_key(args: Mapping[str, str]) -> EntryKey:
    name = args.get("lesson")
    lesson = "" if name is None else name if name in LESSONS else UNKNOWN
    beat = beat_of(lesson, args.get("beat"))
    shared = args.get("race")
    if shared is None:
        return EntryKey(lesson, beat=beat)
    try:
        # Re-encoded after validation: every spelling of one race shares one cached page.
        config = decode_race(shared)
        slots = slots_of(args.get("slots"), len(config.racers))
        return EntryKey(lesson, encode_race(config), beat=beat, slots=slots)
    except ConfigError as error:
        # Named as the page names it (racer 1's label, not racers[0].label): a teacher reads it.
        subject = "the link" if error.field in ("", "race") else reader_field(error.field)
        problem = f"{subject}: {error.message.removeprefix('body ')}"
        return EntryKey(lesson, UNKNOWN, problem, beat)


def entry_race(key: EntryKey) -> tuple[dict[str, Any], Lesson | None, str]:
    """(normalized race JSON for the controls, the lesson if any, a note for the reader)."""
    lesson = LESSONS.get(key.lesson)
    notes = []
    if key.lesson == UNKNOWN:
        notes.append("There is no such lesson.")
    if key.beat == UNKNOWN_BEAT:
        notes.append(f"This lesson has beats 1 to {len(lesson.beats)}; here is the first.")
    if key.race == UNKNOWN:
        notes.append(f"This link's race could not be read: {key.problem}.")
    if key.race and key.race != UNKNOWN:
        return decode_race(key.race).to_json(), lesson, " ".join(notes)
    source = lesson.race_of(max(key.beat, 0)) if lesson else OPENING_RACE
    if notes:
        notes.append("Here is the " + ("lesson's race." if lesson else "opening race."))
    return validate_race(copy.deepcopy(source)).to_json(), lesson, " ".join(notes)
