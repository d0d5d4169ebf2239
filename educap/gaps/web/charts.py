"""Geometry of the radar chart drawn as inline SVG by the template (no JavaScript)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from educap.gaps.selectors import DomainProfile

SIZE = 360
CENTRE = SIZE / 2
RADIUS = 120
LABEL_RADIUS = RADIUS + 22
MIN_AXES = 3


@dataclass(frozen=True)
class Axis:
    profile: DomainProfile
    label: str
    x: float
    y: float
    label_x: float
    label_y: float
    anchor: str
    # Where the current level sits, when the domain has one.
    point: tuple[float, float] | None


@dataclass(frozen=True)
class Radar:
    axes: list[Axis]
    rings: list[tuple[int, str]]
    required: str
    current: str
    size: int = SIZE
    centre: float = CENTRE


def _at(angle: float, radius: float) -> tuple[float, float]:
    return (
        round(CENTRE + radius * math.cos(angle), 1),
        round(CENTRE + radius * math.sin(angle), 1),
    )


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


def radar(profile: list[DomainProfile], top: int) -> Radar | None:
    """Axes clockwise from the top, one per domain; rings at each level up to `top`.

    The current polygon joins the domains that have a current level only: an unassessed
    domain is unknown, not zero, so it is left off rather than drawn at the centre."""
    if len(profile) < MIN_AXES or top <= 0:
        return None
    scale = RADIUS / top
    axes = []
    required = []
    current = []
    for n, domain in enumerate(profile):
        angle = -math.pi / 2 + 2 * math.pi * n / len(profile)
        x, y = _at(angle, RADIUS)
        label_x, label_y = _at(angle, LABEL_RADIUS)
        cos = math.cos(angle)
        anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
        required.append(_at(angle, domain.required * scale))
        point = _at(angle, domain.current * scale) if domain.current is not None else None
        if point is not None:
            current.append(point)
        code = domain.domain.code if domain.domain is not None else "—"
        axes.append(Axis(domain, code, x, y, label_x, label_y + 4, anchor, point))
    rings = []
    for level in range(1, top + 1):
        ring = [
            _at(-math.pi / 2 + 2 * math.pi * n / len(profile), level * scale)
            for n in range(len(profile))
        ]
        rings.append((level, _points(ring)))
    return Radar(
        axes=axes,
        rings=rings,
        required=_points(required),
        current=_points(current) if len(current) >= MIN_AXES else "",
    )
