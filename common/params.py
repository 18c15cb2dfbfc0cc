"""Declarative hyper-parameter specs.

Surfaces, optimizers and schedules describe their knobs with ``Param`` so that one validator,
the UI controls and the API listings are all generated from the same table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from common.errors import ConfigError

Kind = Literal["float", "int", "bool", "choice", "pair"]

MAX_TEXT = 200


def describe_number(x: float) -> str:
    """Short, exact-enough rendering of a number for error messages."""
    return f"{x:.6g}"


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


def as_int(value: Any, field: str) -> int:
    """A whole number; an integral float (300.0) is accepted, 2.5 is not."""
    number = as_float(value, field)
    if not number.is_integer():
        raise ConfigError(field, f"must be a whole number, got {describe_number(number)}")
    return int(number)


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

    def _check_range(self, number: float, field: str) -> None:
        too_low = self.low is not None and (
            number < self.low or (self.low_open and number == self.low)
        )
        too_high = self.high is not None and (
            number > self.high or (self.high_open and number == self.high)
        )
        if too_low or too_high:
            raise ConfigError(
                field, f"must be in {self.bounds_text()}, got {describe_number(number)}"
            )

    def validate(self, value: Any, field: str) -> Any:
        """Return the normalised value or raise ConfigError naming ``field``."""
        if value is None:
            if self.nullable:
                return None
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
                number = as_float(item, f"{field}[{i}]")
                self._check_range(number, f"{field}[{i}]")
                pair.append(number)
            return tuple(pair)
        number = as_int(value, field) if self.kind == "int" else as_float(value, field)
        self._check_range(number, field)
        return number

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
