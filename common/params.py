"""Declarative hyper-parameter specs.

Surfaces, optimizers and schedules describe their knobs with ``Param`` so that one validator,
the UI controls and the API listings are all generated from the same table.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from common.errors import ConfigError

Kind = Literal["float", "int", "bool", "choice", "pair"]

MAX_TEXT = 200
MAX_NUMBER_TEXT = 100  # longer text in a number box is not read as a number at all
QUOTED = 24  # characters of refused text quoted back in a message

# Plain decimal notation only: no "inf", "nan", "0x10", "1_000" or Unicode digits, all of which
# float() would accept. U+2212 (−, as the page's buttons show it) is read as a minus sign.
NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)

# The 1-2-5 series: a log-scale value steps to the next of 1, 2, 5 × 10^k (a third of a decade).
SERIES = (1, 2, 5)
FROM_ZERO = 0.01  # "+" on a magnitude at 0 (weight decay, noise σ, …) with no positive default


def describe_number(x: float) -> str:
    """Short, exact-enough rendering of a number for error messages (whole ones in full)."""
    if float(x).is_integer() and abs(x) < 1e16:
        return str(int(x))
    return f"{x:.6g}"


class TypedText(str):
    """Text as typed into one of the page's number boxes.

    The page sends what the user typed, so a refusal can quote it; the form marks such text
    with this type and ``Param.validate`` reads it as a number through ``parse_number``. JSON
    from the API is never of this type, so the API stays strict: a string there is refused.
    """


def typed(value: Any) -> Any:
    """Mark a number box's string value as typed text; other values pass unchanged."""
    return TypedText(value) if isinstance(value, str) else value


def parse_number(text: str) -> float | None:
    """The one place text becomes a number: plain decimal notation, finite, or None.

    Surrounding spaces are ignored; nothing is evaluated.
    """
    text = text.strip().replace("\u2212", "-")
    if len(text) > MAX_NUMBER_TEXT or not NUMBER_TEXT.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def quote(text: str) -> str:
    """Refused text as a message shows it: in quotes, cut short if long."""
    shown = text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"
    return f"'{shown}'"


def describe_value(value: Any) -> str:
    """What a message says it got, for a value that is not a number at all."""
    if isinstance(value, str):
        return f"the string {quote(value)}"
    return type_name(value)


def series_value(mantissa: int, exponent: int) -> float:
    """m × 10^e as the decimal string "me" parses: the same float in Python and in JavaScript."""
    return float(f"{mantissa}e{exponent}")


def series_up(value: float) -> float:
    """The smallest 1-2-5 value clearly above ``value`` (> 0)."""
    exponent = math.floor(math.log10(value)) - 1
    while True:
        for m in SERIES:
            candidate = series_value(m, exponent)
            if candidate > value * (1 + 1e-9):
                return candidate
        exponent += 1


def series_down(value: float) -> float:
    """The largest 1-2-5 value clearly below ``value`` (> 0)."""
    exponent = math.floor(math.log10(value)) + 1
    while True:
        for m in reversed(SERIES):
            candidate = series_value(m, exponent)
            if candidate < value * (1 - 1e-9):
                return candidate
        exponent -= 1


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def as_float(value: Any, field: str) -> float:
    """A finite float from JSON; booleans, strings and non-finite values are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(field, f"must be a number, got {type_name(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ConfigError(field, "must be a finite number, got a number too large") from None
    if not math.isfinite(number):
        raise ConfigError(field, f"must be a finite number, got {number}")
    return number


def as_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(field, f"must be true or false, got {type_name(value)}")
    return value


def as_text(value: Any, field: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise ConfigError(field, f"must be a string, got {type_name(value)}")
    if len(value) > limit:
        raise ConfigError(field, f"must be at most {limit} characters, got {len(value)}")
    return value


@dataclass(frozen=True)
class Param:
    """One knob: its JSON name, default, type, bounds and the scale a slider should use.

    ``nullable`` means ``null`` is allowed and stands for a default derived from the race
    (for example a schedule length that defaults to the race's steps); ``help`` says which.
    """

    name: str
    default: Any
    kind: Kind = "float"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    scale: Literal["linear", "log"] = "linear"
    choices: tuple[str, ...] = ()
    nullable: bool = False
    help: str = ""
    title: str = ""

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ")

    def bounds_text(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        low = "-inf" if self.low is None else describe_number(self.low)
        high = "inf" if self.high is None else describe_number(self.high)
        return f"{left}{low}, {high}{right}"

    def allowed_text(self) -> str:
        """What a number of this parameter may be, as a refusal states it."""
        if self.kind == "int":
            low = None if self.low is None else math.floor(self.low) + (1 if self.low_open else 0)
            high = (
                None if self.high is None else math.ceil(self.high) - (1 if self.high_open else 0)
            )
            if low is not None and high is not None:
                return f"a whole number from {low:,} to {high:,}"
            if low is not None:
                return f"a whole number from {low:,}"
            return "a whole number" if high is None else f"a whole number up to {high:,}"
        if self.low is None and self.high is None:
            return "a finite number"
        return f"a number in {self.bounds_text()}"

    def contains(self, number: float) -> bool:
        """Whether ``number`` lies inside the bounds (open ends excluded)."""
        if self.low is not None and (number < self.low or (self.low_open and number == self.low)):
            return False
        return self.high is None or not (
            number > self.high or (self.high_open and number == self.high)
        )

    def _check_range(self, number: float, field: str, shown: str) -> None:
        if not self.contains(number):
            # A number out of range: "in [0, 1), got 1.5" (a whole number says so in full).
            allowed = self.allowed_text() if self.kind == "int" else f"in {self.bounds_text()}"
            raise ConfigError(field, f"{allowed}, got {shown}")

    def _number(self, value: Any, field: str) -> tuple[float | None, str]:
        """A number (or None: an emptied nullable box) and how it was written, else refuse.

        Refusals name what is allowed and quote what was given: the typed text as typed, a
        JSON number as a number, any other JSON value by its type.
        """
        if isinstance(value, TypedText):
            text = value.strip()
            if not text:
                if self.nullable:
                    return None, ""
                raise ConfigError(field, f"{self.allowed_text()}, got nothing")
            number = parse_number(text)
            if number is None:
                raise ConfigError(field, f"{self.allowed_text()}, got {quote(text)}")
            return number, text if len(text) <= QUOTED else describe_number(number)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(field, f"{self.allowed_text()}, got {describe_value(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise ConfigError(field, f"{self.allowed_text()}, got a number too large") from None
        if not math.isfinite(number):
            raise ConfigError(field, f"{self.allowed_text()}, got {number}")
        return number, describe_number(number)

    def _checked_number(self, value: Any, field: str) -> float | int | None:
        number, shown = self._number(value, field)
        if number is None:
            return None
        if self.kind == "int":
            if not number.is_integer():
                raise ConfigError(field, f"{self.allowed_text()}, got {shown}")
            self._check_range(number, field, shown)
            return int(number)
        self._check_range(number, field, shown)
        return number

    def validate(self, value: Any, field: str) -> Any:
        """Return the normalised value or raise ConfigError naming ``field``.

        Numbers come as JSON numbers, or as ``TypedText`` from the page's number boxes.
        """
        if value is None:
            if self.nullable:
                return None
            if self.kind in ("float", "int"):
                raise ConfigError(field, f"{self.allowed_text()}, got null")
            raise ConfigError(field, "must not be null")
        if self.kind == "bool":
            return as_bool(value, field)
        if self.kind == "choice":
            text = as_text(value, field)
            if text not in self.choices:
                raise ConfigError(field, f"must be one of {', '.join(self.choices)}")
            return text
        if self.kind == "pair":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise ConfigError(field, f"must be a list of two numbers, got {type_name(value)}")
            pair = []
            for i, item in enumerate(value):
                number = self._checked_number(item, f"{field}[{i}]")
                if number is None:
                    raise ConfigError(f"{field}[{i}]", f"{self.allowed_text()}, got nothing")
                pair.append(number)
            return tuple(pair)
        return self._checked_number(value, field)

    def stepping(self) -> dict[str, Any] | None:
        """How the page's +/− (and arrow keys) move this parameter, derived from its spec.

        The rule, chosen here once and applied by ``nudge`` and by its twin in
        assets/inputs.js (a browser test checks that both give the same floats):

        - ``log``: log-scale parameters (lr, eps, …) and magnitudes (a linear float from 0 to
          more than 1: weight decay, noise σ, clipping, …) step along 1-2-5 × 10^k, a third
          of a decade a press (0.001 → 0.002 → 0.005 → 0.01). From 0 "+" gives ``start``:
          the default if it is positive, else 0.01. A magnitude may go back to 0 ("−" at or
          below ``start``); a log-scale parameter never reaches 0. An empty "auto" or "off"
          box (a nullable parameter without default) stays empty.
        - ``linear``: bounded parameters (momentum, betas, angle, …) step by 10^``exponent``,
          a hundredth of their span rounded to a power of ten (0.01 for [0, 1)), snapped to
          multiples of it; integers step by 1.
        - Never outside the bounds: a step past a closed bound stops on it, a step onto or
          past an open one (momentum < 1) does not happen.
        """
        if self.kind not in ("float", "int", "pair"):
            return None
        magnitude = (
            self.kind == "float"
            and self.scale == "linear"
            and self.low == 0
            and (self.high is None or self.high > 1)
        )
        rule = "log" if self.scale == "log" or magnitude else "linear"
        if self.kind == "int" and rule == "linear":
            exponent = 0
        elif self.low is not None and self.high is not None and self.high > self.low:
            exponent = max(math.floor(math.log10(self.high - self.low)) - 2, -12)
        else:
            exponent = 0
        positive_default = (
            isinstance(self.default, (int, float))
            and not isinstance(self.default, bool)
            and self.default > 0
        )
        start: float | None = self.default if positive_default else FROM_ZERO
        if self.nullable and self.default is None:
            start = None  # an "auto" or "off" box stays so until a number is typed
        elif self.kind == "int":
            start = max(1, round(start))
        return {
            "rule": rule,
            "exponent": exponent,
            "start": float(start) if start is not None and self.contains(start) else None,
            "zero": magnitude and not self.low_open,
            "int": self.kind == "int",
            "low": self.low,
            "high": self.high,
            "lowOpen": self.low_open,
            "highOpen": self.high_open,
        }

    def nudge(self, value: float | None, direction: int) -> float | None:
        """The value after one "+" (``direction`` 1) or "−" (-1); unchanged where none fits.

        The reference for assets/inputs.js, which applies the same ``stepping()`` in the page.
        """
        rule = self.stepping()
        if rule is None:
            return value
        start = rule["start"]
        if value is None or (rule["rule"] == "log" and value <= 0):
            return start if direction > 0 and start is not None else value
        if rule["rule"] == "log":
            if direction > 0:
                after = series_up(value)
            elif rule["zero"] and start is not None and value <= start * (1 + 1e-9):
                after = 0.0
            else:
                after = series_down(value)
            if rule["int"]:
                after = float(math.floor(after + 0.5))  # as JavaScript's Math.round
        else:
            exponent = rule["exponent"]
            ratio = value / series_value(1, exponent)
            n = math.floor(ratio + 1e-9) + 1 if direction > 0 else math.ceil(ratio - 1e-9) - 1
            after = series_value(n, exponent)
        if self.contains(after):
            return after
        bound, is_open = (self.high, self.high_open) if direction > 0 else (self.low, self.low_open)
        if bound is None or is_open:
            return value
        moves = value < bound if direction > 0 else value > bound
        return float(bound) if moves else value

    def to_json(self) -> dict[str, Any]:
        """The registry entry as the API lists it."""
        out: dict[str, Any] = {
            "name": self.name,
            "title": self.label,
            "kind": self.kind,
            "default": list(self.default) if isinstance(self.default, tuple) else self.default,
            "help": self.help,
        }
        if self.kind in ("float", "int", "pair"):
            out.update(
                low=self.low,
                high=self.high,
                low_open=self.low_open,
                high_open=self.high_open,
                scale=self.scale,
            )
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        if self.nullable:
            out["nullable"] = True
        return out


def validate_params(specs: tuple[Param, ...], given: Any, field: str, owner: str) -> dict[str, Any]:
    """Fill defaults and validate a ``params`` object against ``specs``; unknown keys fail."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ConfigError(field, f"must be an object, got {type_name(given)}")
    by_name = {p.name: p for p in specs}
    for key in given:
        if key not in by_name:
            known = ", ".join(by_name) or "none"
            shown = key if isinstance(key, str) and len(key) <= 40 else "(long name)"
            raise ConfigError(f"{field}.{shown}", f"is not a parameter of {owner} (known: {known})")
    return {
        p.name: p.validate(given[p.name], f"{field}.{p.name}") if p.name in given else p.default
        for p in specs
    }
