"""Classroom lessons: short sequences of beats, each making one fact visible on the page.

A lesson is data (lessons.beats): races in the JSON form of race-config.md, where to stop and
how to look, a caption per beat and the claims that caption makes (lessons.claims). Every
claim is checked on the engine's numbers in tests/test_lessons.py and on the page's in the
browser tests, so no caption says what the screen does not show. The page, the share links
and ``GET /api/lessons`` all read ``LESSONS``.
"""

from __future__ import annotations

from lessons import (
    adaptive,
    curvature,
    landscape,
    memory,
    modern,
    momentum,
    schedules,
    sharpness,
    tuning,
)
from lessons.beats import SPEEDS, Beat, Lesson, Question
from lessons.claims import KINDS, Claim, Reading

LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for group in (
        momentum,
        adaptive,
        tuning,
        schedules,
        landscape,
        memory,
        curvature,
        modern,
        sharpness,
    )
    for lesson in group.LESSONS
}

__all__ = ["KINDS", "LESSONS", "SPEEDS", "Beat", "Claim", "Lesson", "Question", "Reading"]
