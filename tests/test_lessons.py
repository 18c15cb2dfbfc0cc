"""Every lesson's beats, checked on the engine: each caption's claims hold at the beat's own
race, at steps the beat shows and at points inside the beat's view, and the checker is not
vacuous (each beat has a claim whose contradiction fails)."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from app import create_app
from layouts.page import SPEEDS as PAGE_SPEEDS
from lessons import KINDS, LESSONS, SPEEDS, Beat, Claim, Lesson
from lessons.claims import (
    Above,
    Ahead,
    At,
    Basins,
    Below,
    BestRate,
    Closer,
    Diverges,
    GoodRates,
    Jitters,
    LevelSet,
    Memory,
    Moves,
    MovingNear,
    Near,
    NeverReaches,
    Order,
    Rate,
    ReachesFirst,
    ReachesWithin,
    Steps,
    Survives,
    Swing,
    Trials,
    WorkWithin,
)
from lessons.modern import noisy
from lessons.reading import EngineReading, tie_key
from optimizers.fan import noisy_fans
from optimizers.validate import (
    FAN_RUNS,
    MAX_RUN_STEPS,
    run_steps,
    sweep_options,
    sweep_work,
    validate_race,
)
from service.compact import compact_fan, decode
from surfaces import get_surface

BEATS = [(lesson, i) for lesson in LESSONS.values() for i in range(len(lesson.beats))]
BEAT_IDS = [f"{lesson.name}-beat{i}" for lesson, i in BEATS]
QUESTIONS = [lesson for lesson in LESSONS.values() if lesson.question is not None]

_readings: dict[str, EngineReading] = {}


def reading(race: dict) -> EngineReading:
    """One engine reading per distinct race: beats that keep a race share its run and sweep."""
    key = json.dumps(race, sort_keys=True)
    if key not in _readings:
        _readings[key] = EngineReading(race)
    return _readings[key]


def shown_step(lesson: Lesson, index: int) -> int:
    beat = lesson.beats[index]
    return lesson.race_of(index)["steps"] if beat.step is None else beat.step


def box_of(lesson: Lesson, index: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """What the map shows in the beat: its zoom, else the surface's view."""
    beat = lesson.beats[index]
    if beat.zoom is not None:
        return beat.zoom
    surface = lesson.race_of(index)["surface"]
    return get_surface(surface["name"], **surface.get("params", {})).view


def steps_read(claim: Claim, rd: EngineReading) -> list[int]:
    """The steps whose numbers the claim reads: the page must have played up to them."""
    match claim:
        case Ahead() | Order() | Closer():
            return [claim.step]
        case Below() | Above() | Near() | At() | Trials() | LevelSet():
            return [claim.step]
        case WorkWithin():
            return [s for s in (rd.steps_to_tol(claim.racer),) if s is not None]
        case Swing() | Steps() | Moves() | Jitters():
            return [claim.steps[1]]
        case ReachesFirst():
            return [s for s in (rd.steps_to_tol(claim.first),) if s is not None]
        case ReachesWithin():
            return [claim.steps]
        case Diverges():
            return [claim.by_step]
        case Survives() | NeverReaches() | Basins() | MovingNear():
            return [rd.config.steps]  # many starts: each run's end
    return []


def points_read(claim: Claim, rd: EngineReading) -> list[tuple[float, float]]:
    """The map points the claim is about: they must be on screen in the beat."""
    match claim:
        case Near():
            return [rd.position(claim.racer, claim.step), claim.point]
        case Closer():
            return [rd.position(r, claim.step) for r in (claim.first, claim.second)]
        case At():
            return [rd.position(claim.racer, claim.step)]
        case Swing() | Steps():
            a, b = claim.steps
            return [rd.position(claim.racer, t) for t in range(a, b + 1)]
        case Moves():
            return [rd.position(claim.racer, t) for t in claim.steps]
        case Basins(point=point) if point is not None:
            return [point]
        case MovingNear():
            return [claim.point, *rd.moving_ends(claim.racer)]
    return []


def contradiction(claim: Claim, steps: int) -> Claim | None:
    """A claim that cannot hold when ``claim`` does (None where there is no simple one)."""
    match claim:
        case Ahead(step=s, first=a, second=b):
            return Ahead(s, b, a)
        case Order(step=s, racers=rs):
            return Order(s, tuple(reversed(rs)))
        case Below(racer=r, step=s, value=v):
            return Above(r, s, v)
        case Above(racer=r, step=s, value=v):
            return Below(r, s, v)
        case ReachesFirst(first=a, second=b):
            return ReachesFirst(b, a)
        case ReachesWithin(racer=r):
            return NeverReaches(r)
        case NeverReaches(racer=r):
            return ReachesWithin(r, steps)
        case Diverges(racer=r):
            return Survives(r)
        case Survives(racer=r):
            return Diverges(r, steps)
        case Closer(step=s, first=a, second=b, point=p):
            return Closer(s, b, a, p)
        case Steps():
            return dataclasses.replace(claim, size=claim.size * 1.1)
        case Swing(at_least=low) if low is not None:
            return dataclasses.replace(claim, at_least=None, at_most=low * 0.999)
        case Swing(at_most=high) if high is not None:
            return dataclasses.replace(claim, at_least=high * 1.001 + 1e-300, at_most=None)
        case Moves(at_least=low) if low is not None:
            return dataclasses.replace(claim, at_least=None, at_most=low * 0.999)
        case Moves(at_most=high) if high is not None:
            return dataclasses.replace(claim, at_least=high * 1.001 + 1e-300, at_most=None)
        case Near(racer=r, step=s, point=(x, y), radius=radius):
            # Three radii away from a point within one radius is more than one radius away.
            return Near(r, s, (x + 3 * radius, y), radius)
        case GoodRates(at_least=low) if low is not None:
            return dataclasses.replace(claim, at_least=None, at_most=low * 0.999)
        case GoodRates(at_most=high) if high is not None:
            return dataclasses.replace(claim, at_least=high * 1.001 + 1e-300, at_most=None)
        case Memory(racer=r, buffers=names):
            return Memory(r, (*names, "extra"))
        case WorkWithin(at_least=low) if low is not None:
            return dataclasses.replace(claim, work=low * 0.999)
        case WorkWithin():
            return dataclasses.replace(claim, work=0.0)
        case MovingNear(point=(x, y), radius=radius):
            return dataclasses.replace(claim, point=(x + 3 * radius, y))
        case Basins(at_least=low) if low is not None:
            return dataclasses.replace(claim, at_least=None, at_most=low - 1)
        case Basins(at_most=high) if high is not None:
            return dataclasses.replace(claim, at_least=high + 1, at_most=None)
        case Trials(at_least=low) if low is not None:
            return dataclasses.replace(claim, at_least=None, at_most=low - 1)
        case Rate(quoted=quoted) | At(quoted=quoted):
            # The last quoted digit one more: another rate at the caption's precision.
            head, last = quoted[:-1], int(quoted[-1])
            return dataclasses.replace(claim, quoted=f"{head}{(last + 1) % 10}")
        case Jitters(rises=rises):
            return dataclasses.replace(claim, rises=10 * rises + 1000)
        case LevelSet(shape=shape):
            return dataclasses.replace(
                claim, shape="hyperbola" if shape == "ellipse" else "ellipse"
            )
    return None


def test_the_registry():
    assert len(LESSONS) >= 16
    assert all(name == lesson.name for name, lesson in LESSONS.items())
    assert SPEEDS == PAGE_SPEEDS
    assert len(QUESTIONS) >= 2
    multi = [lesson for lesson in LESSONS.values() if len(lesson.beats) >= 2]
    assert len(multi) >= len(LESSONS) - 2  # beats, not one-shot captions


@pytest.mark.parametrize("lesson", list(LESSONS.values()), ids=list(LESSONS))
def test_lesson_shape(lesson: Lesson):
    assert 2 <= len(lesson.beats) <= 6
    assert lesson.beats[0].race is not None
    # The page writes "title. caption": a title ending in punctuation reads "?." there.
    assert lesson.title[-1].isalnum() or lesson.title[-1] == ")"
    # Until the page reads beats, the old attributes mean the first beat's.
    assert lesson.race is lesson.beats[0].race and lesson.caption == lesson.beats[0].caption
    for index, beat in enumerate(lesson.beats):
        assert 40 <= len(beat.caption) <= 420 and beat.caption.endswith(".")
        assert "?." not in beat.caption
        count = len(lesson.race_of(index)["racers"])
        inspected = [] if beat.inspect is None else [beat.inspect]
        for racer in (*beat.highlight, *beat.hidden, *inspected):
            assert 0 <= racer < count
        if beat.step is not None:
            assert beat.step <= lesson.race_of(index)["steps"]


@pytest.mark.parametrize(("lesson", "index"), BEATS, ids=BEAT_IDS)
def test_beat_race_is_valid_and_cheap(lesson: Lesson, index: int):
    race = lesson.race_of(index)
    config = validate_race(copy.deepcopy(race))
    assert config.steps <= 1000
    # The page's sweep (and Auto-tune) must accept the race: within the work budget.
    request = sweep_options({}, config)  # raises WorkLimitError over the budget
    assert run_steps(sweep_work(config, request.grid), config.steps) <= MAX_RUN_STEPS


@pytest.mark.parametrize(("lesson", "index"), BEATS, ids=BEAT_IDS)
def test_every_claim_of_the_beat_holds(lesson: Lesson, index: int):
    beat = lesson.beats[index]
    assert beat.claims, "every caption says something checkable"
    rd = reading(lesson.race_of(index))
    failures = [message for claim in beat.claims if (message := claim.holds(rd)) is not None]
    assert not failures, failures


@pytest.mark.parametrize(("lesson", "index"), BEATS, ids=BEAT_IDS)
def test_every_claim_is_on_screen(lesson: Lesson, index: int):
    """Claims read steps the beat has played and points inside the map's box."""
    rd = reading(lesson.race_of(index))
    last = shown_step(lesson, index)
    (x0, x1), (y0, y1) = box_of(lesson, index)
    for claim in lesson.beats[index].claims:
        assert all(step <= last for step in steps_read(claim, rd)), (claim, last)
        for x, y in points_read(claim, rd):
            assert x0 <= x <= x1 and y0 <= y <= y1, (claim, (x, y))
    for x, y, _ in lesson.beats[index].marks:
        assert x0 <= x <= x1 and y0 <= y <= y1


@pytest.mark.parametrize(("lesson", "index"), BEATS, ids=BEAT_IDS)
def test_the_checker_can_fail(lesson: Lesson, index: int):
    """Each beat has a claim whose opposite fails on the same reading: a checker that let
    everything pass would fail here."""
    rd = reading(lesson.race_of(index))
    opposites = [
        c for claim in lesson.beats[index].claims if (c := contradiction(claim, rd.config.steps))
    ]
    assert opposites
    for opposite in opposites:
        assert opposite.holds(rd) is not None, opposite


@pytest.mark.parametrize("lesson", QUESTIONS, ids=[q.name for q in QUESTIONS])
def test_question_answer_holds(lesson: Lesson):
    question = lesson.question
    assert question is not None and question.prompt.endswith("?")
    race = lesson.race_of(question.beat)
    assert 0 <= question.answer < len(race["racers"])
    claim = question.claim
    # The claim names the answer as its winner, and holds where the question is asked.
    if isinstance(claim, Order):  # the answer ranks first among every racer
        assert sorted(claim.racers) == list(range(len(race["racers"])))
        assert claim.racers[0] == question.answer
    else:
        winner = {Ahead: "first", ReachesFirst: "first", Closer: "first"}[type(claim)]
        assert getattr(claim, winner) == question.answer
    assert claim.holds(reading(race)) is None


def test_a_swapped_claim_fails_on_the_ravine():
    rd = reading(LESSONS["ravine"].race_of(1))
    assert ReachesFirst(1, 0).holds(rd) is None
    message = ReachesFirst(0, 1).holds(rd)
    assert message is not None and "95" in message and "185" in message


def test_best_rate_fails_off_the_sweeps_best():
    """Three grid steps off the tuned rate is not 'its best'."""
    race = copy.deepcopy(LESSONS["fair_comparison"].race_of(1))
    rd = reading(race)
    rate, best, ratio = rd.best_rate(0)
    assert rate == best and ratio > 1
    race["racers"][0]["lr"] = rate / ratio**3
    assert BestRate(0).holds(EngineReading(race)) is not None


def test_engine_reading_ties_and_divergence():
    rd = reading(LESSONS["warmup"].race_of(0))
    diverged = rd.diverged_at(0)
    assert diverged is not None
    assert math.isinf(rd.gap(0, diverged)) and math.isfinite(rd.gap(0, diverged - 1))
    assert rd.order(diverged) == [[1], [0]]
    assert rd.position(0, 1000) == rd.position(0, diverged - 1)  # the marker stays put
    # Two identical racers always share a rank.
    race = copy.deepcopy(LESSONS["ravine"].race)
    race["racers"].append(race["racers"][0])
    assert rd_order_has_group(EngineReading(race).order(50), {0, 2})
    assert tie_key(1.0012e-3) == tie_key(1.0038e-3) != tie_key(1.0151e-3)
    with pytest.raises(IndexError):
        rd.gap(1, 1001)


def rd_order_has_group(groups: list[list[int]], members: set[int]) -> bool:
    return any(set(group) == members for group in groups)


@pytest.mark.parametrize("lesson", list(LESSONS.values()), ids=list(LESSONS))
def test_json_round_trip(lesson: Lesson):
    text = json.dumps(lesson.to_json(), allow_nan=False)
    back = Lesson.from_json(json.loads(text))
    assert back == lesson
    assert back.to_json() == lesson.to_json()


def test_every_claim_kind_round_trips():
    assert {c.kind for lesson in LESSONS.values() for b in lesson.beats for c in b.claims} <= set(
        KINDS
    )
    claim = Swing(1, (2, 3), axis=0, at_least=0.5)
    assert claim.to_json() == {
        "kind": "swing",
        "racer": 1,
        "steps": [2, 3],
        "axis": 0,
        "at_least": 0.5,
        "at_most": None,
    }
    assert Claim.from_json(claim.to_json()) == claim


def test_beats_refuse_what_the_page_cannot_show():
    with pytest.raises(ValueError, match="speed"):
        Beat("x.", speed=3)
    with pytest.raises(ValueError, match="view"):
        Beat("x.", view="2d")
    with pytest.raises(ValueError, match="zoom"):
        Beat("x.", zoom=((1.0, 0.0), (0.0, 1.0)))
    with pytest.raises(ValueError, match="first beat"):
        Lesson("x", "X", (Beat("x."),))


def test_race_of_inherits():
    lesson = LESSONS["lion"]
    assert lesson.beats[1].race is None and lesson.race_of(1) is lesson.beats[0].race


def test_api_lists_every_lesson_with_its_beats():
    client = create_app({}).server.test_client()
    answer = client.get("/api/lessons")
    assert answer.status_code == 200
    listed = answer.get_json()
    assert [entry["name"] for entry in listed] == list(LESSONS)
    for entry in listed:
        assert Lesson.from_json(entry) == LESSONS[entry["name"]]
        assert all(beat["claims"] for beat in entry["beats"])


@pytest.mark.parametrize(("lesson", "beat"), BEATS, ids=BEAT_IDS)
def test_a_beat_that_quotes_a_step_length_shows_the_step_length_chart(lesson, beat):
    # A claim about one step's length is read off the lower chart: the beat puts it there.
    settings = lesson.beats[beat]
    single = [c for c in settings.claims if isinstance(c, Moves) and c.steps[1] - c.steps[0] == 1]
    assert not single or settings.chart == "step_length"


def test_a_noisy_race_is_read_as_the_page_ranks_it():
    """With noise the page's ranking shows each racer's median over the fan's seeds at the last
    thinned band step ≤ k (service.compact.compact_fan, assets/playback.js): so does the engine
    reading, not the race's one seed."""
    rd = EngineReading(noisy(400, 200))
    fans = noisy_fans(rd.config, FAN_RUNS.default)
    for racer, fan in enumerate(fans):
        sent = compact_fan(fan, rd.f_star)
        band, median = sent["band_steps"], decode(sent["loss_median"])
        for k in (0, 1, 199, 200, 333, 400):
            at = max(j for j, s in enumerate(band) if s <= k)
            assert rd.gap(racer, k) == pytest.approx(float(median[at]), rel=1e-6), (racer, k)
    # One seed's run is not what the page shows: seed 1's cosine ends elsewhere.
    one = rd.result.racers[1].loss[400] - rd.f_star
    assert abs(math.log(one / rd.gap(1, 400))) > 0.1


# Coordinates a caption quotes: "(−0.27, −0.92)".
PAIR = re.compile(r"\((−?\d+(?:\.\d+)?), (−?\d+(?:\.\d+)?)\)")


@pytest.mark.parametrize(("lesson", "index"), BEATS, ids=BEAT_IDS)
def test_a_point_a_caption_names_is_marked_on_the_map(lesson: Lesson, index: int):
    """Issue 25: "the maximum at (−0.27, −0.92)" had no marker. Every point a caption quotes
    is the race's start or a mark of the beat (drawn with its label, inside the map's box)."""
    beat = lesson.beats[index]
    start = lesson.race_of(index).get("start")
    for pair in PAIR.findall(beat.caption):
        x, y = (float(v.replace("−", "-")) for v in pair)
        at_start = start is not None and math.dist(start, (x, y)) < 0.01
        marked = any(math.dist(m[:2], (x, y)) < 0.01 for m in beat.marks)
        assert at_start or marked, (pair, beat.marks)


def test_the_readme_counts_the_lessons():
    """The README's feature list says how many lessons there are: the number must be
    ``len(LESSONS)`` (it said twelve when there were 27)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.startswith("- **Lessons**"))
    found = re.search(r"\): (\w+) ", line)
    assert found, line
    words = ("zero one two three four five six seven eight nine ten eleven twelve").split()
    said = found.group(1)
    count = int(said) if said.isdigit() else words.index(said) if said in words else None
    assert count == len(LESSONS), line


# An outcome a caption names, and the claims that read it (Present reads each off the screen).
OUTCOMES = {
    r"\bdiverge": {"diverges"},
    r"\b(reach(es)?|needs?) the tolerance|tolerance (at|in) step|below the tolerance": {
        "reaches_within",
        "reaches_first",
        "work_within",
        "good_rates",
        "below",
    },
    r"\b(ahead|leads|ranks|trails|wins|ends lowest|finishes lowest|lowest of all)\b": {
        "ahead",
        "order",
        "closer",
    },
    r"\bnever (gets there|reaches)|not reached the tolerance|never gets": {"never_reaches"},
}


@pytest.mark.parametrize(("lesson", "index"), BEATS, ids=BEAT_IDS)
def test_every_outcome_a_caption_names_is_claimed(lesson: Lesson, index: int):
    """Issue 25, item 2: "diverge" showed only as lines leaving the map. Each outcome a
    caption names (diverges, reaches the tolerance, ranks ahead, never gets there) is one of
    its beat's claims, and tests/test_browser_lessons.py reads every claim off the screen."""
    beat = lesson.beats[index]
    kinds = {claim.kind for claim in beat.claims}
    for words, readers in OUTCOMES.items():
        if re.search(words, beat.caption, re.IGNORECASE):
            assert kinds & readers, (words, sorted(kinds))
