"""The Needs Compass (Behovskompassen): eight areas, one vocabulary for every agency.

A leaf module: it imports nothing from the domain packages, so every package may use it. Codes are
stored in the database; labels live in the translation catalogue. The Swedish labels follow Backa
Barnet's published compass (to be confirmed with Backa Barnet).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class CompassArea:
    code: str
    label: object  # a lazy translated string
    description: object
    colour: str  # the same value as --bk-compass-<code> in static/css/barnkompass.css (a test keeps them equal)
    icon: str  # static path

    @property
    def css_class(self) -> str:
        return f"bk-compass--{self.code}"


AREAS: tuple[CompassArea, ...] = (
    CompassArea("safe", _l("Safe"), _l("Protected from abuse, neglect or harm"), "#1f5fad", "icons/compass/safe.svg"),
    CompassArea(
        "healthy", _l("Healthy"), _l("Good physical and mental health"), "#b3261e", "icons/compass/healthy.svg"
    ),
    CompassArea(
        "achieving",
        _l("Achieving"),
        _l("Learning and developing skills and confidence"),
        "#a14f00",
        "icons/compass/achieving.svg",
    ),
    CompassArea(
        "nurtured", _l("Nurtured"), _l("A nurturing place to live and grow"), "#a3195b", "icons/compass/nurtured.svg"
    ),
    CompassArea(
        "active",
        _l("Active"),
        _l("Opportunities to play, do sport and take part in leisure"),
        "#276e2b",
        "icons/compass/active.svg",
    ),
    CompassArea(
        "respected",
        _l("Respected"),
        _l("Heard and involved in decisions that affect them"),
        "#6a3d9a",
        "icons/compass/respected.svg",
    ),
    CompassArea(
        "responsible",
        _l("Responsible"),
        _l("Taking an active role at home, school and in the community"),
        "#00707a",
        "icons/compass/responsible.svg",
    ),
    CompassArea(
        "included",
        _l("Included"),
        _l("Belonging, with help to overcome inequality"),
        "#5c6b00",
        "icons/compass/included.svg",
    ),
)

AREA_CODES: tuple[str, ...] = tuple(area.code for area in AREAS)
BY_CODE: dict[str, CompassArea] = {area.code: area for area in AREAS}


def area(code: str) -> CompassArea:
    return BY_CODE[code]
