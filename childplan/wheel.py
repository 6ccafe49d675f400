"""The Needs Compass wheel: review ratings as a server-rendered SVG view model, and their trend.

Pure functions over plain dataclasses: no database, no request. The only Flask dependency is the lazy
translated labels (resolved when a template renders them).

At a review each of the eight areas gets a rating from 1 to 5 (``RATING_WORDS``) from up to three voices:
the professionals, the child and the guardians. The voices are never combined: each area's segment of
the wheel is split into one band per voice, side by side (clockwise in ``VOICES`` order), and each band
reaches out as far as its own rating. Rating *k* fills the rings 1…*k*: 1 reaches the innermost ring,
5 the outer edge. A missing rating has no filled band (outer radius 0), only a dashed outline of the
whole band, and reads "not rated" in the table.

``templates/childplan/_compass_wheel.html`` renders a ``Wheel``; ``trend`` gives the ratings per area
and voice across reviews for a small table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

from flask_babel import lazy_gettext as _l

from childplan.compass import AREA_CODES, AREAS

SCALE: tuple[int, ...] = (1, 2, 3, 4, 5)
LOWEST, HIGHEST = SCALE[0], SCALE[-1]

# Plain words, never blaming: they describe how things are going for the child, not who is at fault.
RATING_WORDS: dict[int, object] = {
    1: _l("Serious worries"),
    2: _l("Some worries"),
    3: _l("Mixed"),
    4: _l("Mostly well"),
    5: _l("Going well"),
}

PROFESSIONALS, CHILD, GUARDIANS = "professionals", "child", "guardians"
VOICES: tuple[str, ...] = (PROFESSIONALS, CHILD, GUARDIANS)
VOICE_LABELS: dict[str, object] = {
    PROFESSIONALS: _l("Professionals"),
    CHILD: _l("The child"),
    GUARDIANS: _l("Guardians"),
}

# How strongly each voice's band is filled (a presentation attribute, so a renderer without the stylesheet
# still tells the voices apart; barnkompass.css sets the same per bk-wheel__band--<voice>).
VOICE_OPACITY: dict[str, str] = {PROFESSIONALS: "1", CHILD: "0.7", GUARDIANS: "0.45"}

DEFAULT_SIZE = 320  # the wheel's diameter in SVG user units (CSS scales the drawing)
_HUB = 0.14  # the empty centre, as a share of the outer radius
_LABEL_GAP = 26  # between the outer edge and an area label
_VALUE_GAP = 9  # between a band's tip and its number
_MARGIN_X = 150  # room for the longest area label ("Tillhörighet", "Responsible") left and right of the wheel
_MARGIN_Y = 50  # room for a label line above and below

# Text sizes in SVG user units (the template's presentation attributes; barnkompass.css sets the same). The
# drawing is shown at most RENDERED_WIDTH_PX wide (.bk-wheel__svg's max-width, 36rem): at that size an area
# label is about 17 px and a number about 14 px, never below 12 px (tests/childplan/test_wheel.py).
LABEL_FONT_SIZE = 18
VALUE_FONT_SIZE = 15
RENDERED_WIDTH_PX = 576


@dataclass(frozen=True)
class Rating:
    """One voice's rating of one area at one review. ``scale`` None: the voice did not rate the area."""

    area: str
    scale: int | None
    voice: str = PROFESSIONALS
    comment: str | None = None

    def __post_init__(self) -> None:
        if self.area not in AREA_CODES:
            raise ValueError(f"unknown Needs Compass area: {self.area!r}")
        if self.voice not in VOICES:
            raise ValueError(f"unknown voice: {self.voice!r}")
        if self.scale is not None and (
            isinstance(self.scale, bool) or not isinstance(self.scale, int) or self.scale not in SCALE
        ):
            raise ValueError(f"a rating is a whole number from {LOWEST} to {HIGHEST}")

    @property
    def words(self) -> object | None:
        return RATING_WORDS[self.scale] if self.scale is not None else None


@dataclass(frozen=True)
class Voice:
    code: str
    label: object

    @property
    def opacity(self) -> str:
        return VOICE_OPACITY[self.code]


@dataclass(frozen=True)
class Ring:
    """A guide circle: the outer edge of rating ``scale``."""

    scale: int
    radius: float


@dataclass(frozen=True)
class Band:
    """One voice's part of an area's segment."""

    voice: str
    voice_label: object
    opacity: str
    scale: int | None
    words: object | None
    comment: str | None
    start_angle: float  # degrees, clockwise from twelve o'clock
    end_angle: float
    inner_radius: float
    outer_radius: float  # 0 when not rated
    path: str | None  # the filled band; None when not rated
    outline_path: str  # the whole band from the hub to the outer edge (drawn dashed when not rated)
    value_x: float | None  # where the number is written, just beyond the band's tip
    value_y: float | None

    @property
    def is_rated(self) -> bool:
        return self.scale is not None


@dataclass(frozen=True)
class Segment:
    """One Needs Compass area: its background, its label and one band per voice."""

    code: str
    label: object
    css_class: str  # bk-compass--<code>: sets the area's colour and tint (static/css/barnkompass.css)
    fill_class: str  # bk-compass-fill--<code>
    colour: str  # the same colour as a presentation attribute (for renderers without the stylesheet)
    start_angle: float
    end_angle: float
    background_path: str
    label_x: float
    label_y: float
    label_anchor: str  # SVG text-anchor: start | middle | end
    label_baseline: str  # SVG dominant-baseline: auto | central | hanging
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class Wheel:
    segments: tuple[Segment, ...]
    voices: tuple[Voice, ...]
    rings: tuple[Ring, ...]
    size: int
    outer_radius: float
    inner_radius: float
    view_box: str
    width: int
    height: int
    label_font_size: int = LABEL_FONT_SIZE
    value_font_size: int = VALUE_FONT_SIZE

    @property
    def has_ratings(self) -> bool:
        return any(band.is_rated for segment in self.segments for band in segment.bands)


def _num(value: float) -> str:
    """A coordinate for a path: two decimals, no trailing zeros, no negative zero."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _point(radius: float, angle: float) -> tuple[float, float]:
    """Angle in degrees clockwise from twelve o'clock; SVG's y axis points down."""
    theta = math.radians(angle - 90)
    return radius * math.cos(theta), radius * math.sin(theta)


def sector_path(inner: float, outer: float, start: float, end: float) -> str:
    """An annular sector between two radii and two angles (degrees clockwise from twelve o'clock)."""
    large = 1 if end - start > 180 else 0
    ox0, oy0 = _point(outer, start)
    ox1, oy1 = _point(outer, end)
    ix1, iy1 = _point(inner, end)
    ix0, iy0 = _point(inner, start)
    return (
        f"M {_num(ox0)} {_num(oy0)} A {_num(outer)} {_num(outer)} 0 {large} 1 {_num(ox1)} {_num(oy1)} "
        f"L {_num(ix1)} {_num(iy1)} A {_num(inner)} {_num(inner)} 0 {large} 0 {_num(ix0)} {_num(iy0)} Z"
    )


def _voices_of(ratings: Iterable[Rating]) -> tuple[str, ...]:
    """The professionals always; the child and the guardians when they gave at least one rating."""
    rated = {rating.voice for rating in ratings if rating.scale is not None}
    return tuple(voice for voice in VOICES if voice == PROFESSIONALS or voice in rated)


def _index(ratings: Iterable[Rating]) -> dict[tuple[str, str], Rating]:
    by_key: dict[tuple[str, str], Rating] = {}
    for rating in ratings:
        key = (rating.area, rating.voice)
        if key in by_key:
            # Two ratings from one voice for one area would have to be merged or one dropped: refuse.
            raise ValueError(f"two ratings for {rating.area!r} from {rating.voice!r}")
        by_key[key] = rating
    return by_key


def _label_placement(angle: float) -> tuple[str, str]:
    x, y = _point(1, angle)
    anchor = "start" if x > 0.3 else "end" if x < -0.3 else "middle"
    baseline = "auto" if y < -0.7 else "hanging" if y > 0.7 else "central"
    return anchor, baseline


def build_wheel(ratings: Iterable[Rating], size: int = DEFAULT_SIZE, voices: Sequence[str] | None = None) -> Wheel:
    """The wheel for one review's ratings. ``voices`` defaults to the professionals plus every other voice
    that rated at least one area; pass all of ``VOICES`` to show empty outlines for a voice not heard."""
    ratings = list(ratings)
    by_key = _index(ratings)
    shown = tuple(voices) if voices is not None else _voices_of(ratings)
    if not shown or any(voice not in VOICES for voice in shown) or len(set(shown)) != len(shown):
        raise ValueError("voices must be distinct values of VOICES")
    shown = tuple(voice for voice in VOICES if voice in shown)

    outer = size / 2
    hub = round(outer * _HUB, 2)
    step = (outer - hub) / HIGHEST
    span = 360 / len(AREAS)
    band_span = span / len(shown)

    segments = []
    for index, area in enumerate(AREAS):
        start = index * span
        bands = []
        for position, voice in enumerate(shown):
            b_start = start + position * band_span
            b_end = b_start + band_span
            rating = by_key.get((area.code, voice))
            scale = rating.scale if rating else None
            tip = hub + scale * step if scale is not None else 0.0
            value_x = value_y = None
            if scale is not None:
                value_x, value_y = _point(tip + _VALUE_GAP, (b_start + b_end) / 2)
            bands.append(
                Band(
                    voice=voice,
                    voice_label=VOICE_LABELS[voice],
                    opacity=VOICE_OPACITY[voice],
                    scale=scale,
                    words=RATING_WORDS[scale] if scale is not None else None,
                    comment=rating.comment if rating else None,
                    start_angle=round(b_start, 4),
                    end_angle=round(b_end, 4),
                    inner_radius=hub,
                    outer_radius=round(tip, 2),
                    path=sector_path(hub, tip, b_start, b_end) if scale is not None else None,
                    outline_path=sector_path(hub, outer, b_start, b_end),
                    value_x=round(value_x, 2) if value_x is not None else None,
                    value_y=round(value_y, 2) if value_y is not None else None,
                )
            )
        middle = start + span / 2
        label_x, label_y = _point(outer + _LABEL_GAP, middle)
        anchor, baseline = _label_placement(middle)
        segments.append(
            Segment(
                code=area.code,
                label=area.label,
                css_class=area.css_class,
                fill_class=f"bk-compass-fill--{area.code}",
                colour=area.colour,
                start_angle=start,
                end_angle=start + span,
                background_path=sector_path(hub, outer, start, start + span),
                label_x=round(label_x, 2),
                label_y=round(label_y, 2),
                label_anchor=anchor,
                label_baseline=baseline,
                bands=tuple(bands),
            )
        )

    width = int(size + 2 * _MARGIN_X)
    height = int(size + 2 * _MARGIN_Y)
    return Wheel(
        segments=tuple(segments),
        voices=tuple(Voice(voice, VOICE_LABELS[voice]) for voice in shown),
        rings=tuple(Ring(scale, round(hub + scale * step, 2)) for scale in SCALE),
        size=size,
        outer_radius=outer,
        inner_radius=hub,
        view_box=f"{_num(-width / 2)} {_num(-height / 2)} {width} {height}",
        width=width,
        height=height,
    )


# ---- Trend across reviews ----


@dataclass(frozen=True)
class ReviewRatings:
    """A review reduced to what the wheel and the trend need (a convenience for callers and tests)."""

    held_on: date
    ratings: tuple[Rating, ...] = ()


@dataclass(frozen=True)
class TrendSeries:
    """One voice's ratings of one area, one value per review in date order; None where not rated."""

    voice: str
    voice_label: object
    values: tuple[int | None, ...]

    @property
    def latest(self) -> int | None:
        """The most recent rating this voice gave, skipping reviews where it gave none."""
        return next((value for value in reversed(self.values) if value is not None), None)

    @property
    def change(self) -> int | None:
        """The latest rating minus the one before it (both from this voice), or None."""
        rated = [value for value in self.values if value is not None]
        return rated[-1] - rated[-2] if len(rated) >= 2 else None


@dataclass(frozen=True)
class TrendRow:
    code: str
    label: object
    css_class: str
    series: tuple[TrendSeries, ...]


@dataclass(frozen=True)
class Trend:
    dates: tuple[date, ...]
    voices: tuple[Voice, ...]
    rows: tuple[TrendRow, ...] = field(default_factory=tuple)

    def series(self, area: str, voice: str) -> TrendSeries:
        row = next(row for row in self.rows if row.code == area)
        return next(series for series in row.series if series.voice == voice)


def trend(
    reviews: Iterable[Any],
    *,
    held_on: Callable[[Any], date] = attrgetter("held_on"),
    ratings_of: Callable[[Any], Iterable[Rating]] = attrgetter("ratings"),
) -> Trend:
    """Per area (in AREAS order) and voice, the ratings across the reviews, oldest first. A review where a
    voice did not rate an area leaves a gap (None) at that position; voices are never averaged.

    A review is anything with ``held_on`` and ``ratings`` (``ReviewRatings``, or a model: pass other
    accessors as ``held_on=`` / ``ratings_of=``)."""
    ordered = sorted(reviews, key=held_on)  # stable: reviews on the same day keep their given order
    indexed = [_index(ratings_of(review)) for review in ordered]
    all_ratings = [rating for by_key in indexed for rating in by_key.values()]
    shown = _voices_of(all_ratings)
    rows = []
    for area in AREAS:
        series = []
        for voice in shown:
            values = []
            for by_key in indexed:
                rating = by_key.get((area.code, voice))
                values.append(rating.scale if rating else None)
            series.append(TrendSeries(voice, VOICE_LABELS[voice], tuple(values)))
        rows.append(TrendRow(area.code, area.label, area.css_class, tuple(series)))
    return Trend(
        dates=tuple(held_on(review) for review in ordered),
        voices=tuple(Voice(voice, VOICE_LABELS[voice]) for voice in shown),
        rows=tuple(rows),
    )


# ---- The trend drawn: small line charts, one per area, one line per voice ----

CHART_COLUMNS = 2  # panels per row
CHART_PANEL_WIDTH = 300  # one area's panel, in SVG user units
CHART_PANEL_HEIGHT = 150
CHART_FONT_SIZE = 15  # area names, scale numbers and dates (≥ 12 px when the chart is shown at 480 px or more)
_PLOT_LEFT, _PLOT_RIGHT, _PLOT_TOP, _PLOT_BOTTOM = 34, 14, 30, 28  # room inside a panel for the texts
# One dash pattern per voice, so the lines are told apart by shape as well as by strength ("" = solid).
VOICE_DASH: dict[str, str] = {PROFESSIONALS: "", CHILD: "6 4", GUARDIANS: "2 3"}
VOICE_MARKER: dict[str, str] = {PROFESSIONALS: "circle", CHILD: "square", GUARDIANS: "diamond"}


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    scale: int
    date: date


@dataclass(frozen=True)
class ChartLine:
    """One voice's ratings of one area: a polyline per unbroken run (a review without a rating breaks it)."""

    voice: str
    voice_label: object
    opacity: str
    dash: str
    marker: str
    runs: tuple[str, ...]  # SVG polyline points, one string per run of two or more ratings
    points: tuple[ChartPoint, ...]


@dataclass(frozen=True)
class ChartPanel:
    code: str
    label: object
    css_class: str
    fill_class: str
    colour: str  # the area's colour, as the wheel's segments (childplan.compass)
    x: float  # the panel's top left corner
    y: float
    label_x: float
    label_y: float
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    gridlines: tuple[tuple[int, float], ...]  # (scale, y)
    lines: tuple[ChartLine, ...]


@dataclass(frozen=True)
class TrendChart:
    panels: tuple[ChartPanel, ...]
    voices: tuple[Voice, ...]
    dates: tuple[tuple[date, float], ...]  # each review's date and its x inside a panel
    view_box: str
    width: int
    height: int
    font_size: int = CHART_FONT_SIZE

    @property
    def has_ratings(self) -> bool:
        return any(line.points for panel in self.panels for line in panel.lines)


def build_trend_chart(
    dates: Sequence[date], areas: Iterable[tuple[str, Sequence[tuple[str, Sequence[int | None]]]]]
) -> TrendChart:
    """The trend as small multiples: one panel per area (in the given order, normally AREAS'), x the reviews
    in date order at equal steps, y the rating 1…5, one line per voice (never averaged). ``areas`` gives
    each area's code and, per voice, one value per date (None: not rated or withheld: a gap in the line)."""
    count = len(dates)
    plot_width = CHART_PANEL_WIDTH - _PLOT_LEFT - _PLOT_RIGHT
    plot_height = CHART_PANEL_HEIGHT - _PLOT_TOP - _PLOT_BOTTOM
    step = plot_width / (count - 1) if count > 1 else 0.0

    def x_of(index: int) -> float:
        return round(_PLOT_LEFT + (index * step if count > 1 else plot_width / 2), 2)

    def y_of(scale: int) -> float:
        return round(_PLOT_TOP + plot_height * (HIGHEST - scale) / (HIGHEST - LOWEST), 2)

    panels = []
    seen_voices: list[str] = []
    by_code = {area.code: area for area in AREAS}
    for position, (code, series) in enumerate(areas):
        compass_area = by_code[code]
        column, row = position % CHART_COLUMNS, position // CHART_COLUMNS
        left, top = column * CHART_PANEL_WIDTH, row * CHART_PANEL_HEIGHT
        lines = []
        for voice, values in series:
            if voice not in VOICES:
                raise ValueError(f"unknown voice: {voice!r}")
            if len(values) != count:
                raise ValueError("one value per review date")
            if voice not in seen_voices:
                seen_voices.append(voice)
            points = tuple(
                ChartPoint(x_of(index), y_of(value), value, dates[index])
                for index, value in enumerate(values)
                if value is not None
            )
            runs: list[list[str]] = [[]]
            for index, value in enumerate(values):
                if value is None:
                    runs.append([])
                else:
                    runs[-1].append(f"{_num(x_of(index))},{_num(y_of(value))}")
            lines.append(
                ChartLine(
                    voice=voice,
                    voice_label=VOICE_LABELS[voice],
                    opacity=VOICE_OPACITY[voice],
                    dash=VOICE_DASH[voice],
                    marker=VOICE_MARKER[voice],
                    runs=tuple(" ".join(run) for run in runs if len(run) >= 2),
                    points=points,
                )
            )
        panels.append(
            ChartPanel(
                code=code,
                label=compass_area.label,
                css_class=compass_area.css_class,
                fill_class=f"bk-compass-fill--{code}",
                colour=compass_area.colour,
                x=left,
                y=top,
                label_x=_PLOT_LEFT,
                label_y=_PLOT_TOP - 12,
                plot_left=_PLOT_LEFT,
                plot_right=_PLOT_LEFT + plot_width,
                plot_top=_PLOT_TOP,
                plot_bottom=_PLOT_TOP + plot_height,
                gridlines=tuple((scale, y_of(scale)) for scale in SCALE),
                lines=tuple(lines),
            )
        )
    rows = max(1, -(-len(panels) // CHART_COLUMNS))
    width = CHART_COLUMNS * CHART_PANEL_WIDTH
    height = rows * CHART_PANEL_HEIGHT
    return TrendChart(
        panels=tuple(panels),
        voices=tuple(Voice(voice, VOICE_LABELS[voice]) for voice in VOICES if voice in seen_voices),
        dates=tuple((day, x_of(index)) for index, day in enumerate(dates)),
        view_box=f"0 0 {width} {height}",
        width=width,
        height=height,
    )
