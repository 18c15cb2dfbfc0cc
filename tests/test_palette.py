"""Racers told apart by colour: by viewers with the common colour-vision deficiencies and
against every colour of the map.

Colours are compared in CIELAB (ΔE*ab, about 2.3 is the smallest difference people notice;
above 20 two lines read as different colours at a glance) after simulating protanopia,
deuteranopia and tritanopia with the matrices of Machado, Oliveira and Fernandes (2009, severity
1.0, in linear RGB).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from service.compact import COLORS, MAP_COLORSCALE

VISION = {
    "normal": np.eye(3),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "tritanopia": np.array(
        [
            [1.255528, -0.076749, -0.178779],
            [-0.078411, 0.930809, 0.147602],
            [0.004733, 0.691367, 0.303900],
        ]
    ),
}
SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
WHITE = np.array([0.95047, 1.0, 1.08883])
USUAL_RACE = 4  # the opening race and most lessons race four


def linear_rgb(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    xyz = SRGB_TO_XYZ @ np.clip(rgb, 0, 1) / WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def difference(a: str, b: str) -> float:
    """The smallest ΔE*ab between two colours over normal vision and the three deficiencies."""
    return min(
        float(np.linalg.norm(lab(m @ linear_rgb(a)) - lab(m @ linear_rgb(b))))
        for m in VISION.values()
    )


def test_the_simulation_is_calibrated():
    # Red and green, far apart in normal vision, come close for viewers with a deficiency;
    # red and blue stay apart, and so do black and white.
    normal = float(np.linalg.norm(lab(linear_rgb("#FF0000")) - lab(linear_rgb("#00FF00"))))
    assert difference("#FF0000", "#00FF00") < 0.4 * normal
    assert difference("#FF0000", "#0000FF") > 100
    assert difference("#000000", "#FFFFFF") == pytest.approx(100, abs=0.01)


@pytest.mark.parametrize("pair", list(itertools.combinations(range(USUAL_RACE), 2)))
def test_the_first_four_racers_differ(pair):
    a, b = (COLORS[i] for i in pair)
    assert difference(a, b) > 20, (a, b)


@pytest.mark.parametrize("i", range(len(COLORS) - 1))
def test_neighbouring_racers_differ(i):
    assert difference(COLORS[i], COLORS[i + 1]) > 20, (COLORS[i], COLORS[i + 1])


@pytest.mark.parametrize("i", range(USUAL_RACE))
def test_the_first_four_stand_out_from_the_map(i):
    closest = min(difference(COLORS[i], colour) for _, colour in MAP_COLORSCALE)
    assert closest > 12, COLORS[i]
