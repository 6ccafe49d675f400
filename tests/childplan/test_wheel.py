"""The Needs Compass wheel: one review's ratings as an SVG view model with a table beside it, the three
voices side by side and never averaged, and the trend of each area and voice across reviews."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale

from childplan.compass import AREA_CODES, AREAS
from childplan.wheel import (
    CHILD,
    GUARDIANS,
    PROFESSIONALS,
    RATING_WORDS,
    VOICES,
    Rating,
    ReviewRatings,
    build_wheel,
    trend,
)

SVG = "{http://www.w3.org/2000/svg}"
MACRO = '{% from "childplan/_compass_wheel.html" import compass_wheel %}{{ compass_wheel(wheel, title, suffix) }}'


def render(app: Flask, wheel, title: str = "t", suffix: str = "", locale: str = "en") -> str:
    # A request context, not only an app context: the app's locale selector reads the session.
    with app.test_request_context(), force_locale(locale):
        return render_template_string(MACRO, wheel=wheel, title=title, suffix=suffix)


def svg_of(html: str) -> ET.Element:
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    return ET.fromstring(html[start:end])


def band(wheel, area: str, voice: str):
    segment = next(segment for segment in wheel.segments if segment.code == area)
    return next(b for b in segment.bands if b.voice == voice)


# ---- Bad input first ----


@pytest.mark.parametrize("scale", [0, 6, -1, 3.0, "4", True])
def test_a_rating_outside_the_scale_is_refused(scale) -> None:
    with pytest.raises(ValueError):
        Rating("safe", scale)


def test_an_unknown_area_or_voice_is_refused() -> None:
    with pytest.raises(ValueError):
        Rating("happy", 3)
    with pytest.raises(ValueError):
        Rating("safe", 3, "teacher")


def test_two_ratings_from_one_voice_for_one_area_are_refused_not_merged() -> None:
    with pytest.raises(ValueError):
        build_wheel([Rating("safe", 2), Rating("safe", 4)])
    with pytest.raises(ValueError):
        trend([ReviewRatings(date(2026, 1, 1), (Rating("safe", 2, CHILD), Rating("safe", 4, CHILD)))])


def test_unknown_or_repeated_voices_to_show_are_refused() -> None:
    with pytest.raises(ValueError):
        build_wheel([], voices=("teacher",))
    with pytest.raises(ValueError):
        build_wheel([], voices=(CHILD, CHILD))
    with pytest.raises(ValueError):
        build_wheel([], voices=())


# ---- Geometry ----


def test_there_are_eight_segments_in_the_compass_order() -> None:
    wheel = build_wheel([Rating("included", 3), Rating("safe", 4)])
    assert tuple(segment.code for segment in wheel.segments) == AREA_CODES
    assert [segment.css_class for segment in wheel.segments] == [area.css_class for area in AREAS]
    assert [segment.colour for segment in wheel.segments] == [area.colour for area in AREAS]
    starts = [segment.start_angle for segment in wheel.segments]
    assert starts == sorted(starts) and starts[0] == 0 and wheel.segments[-1].end_angle == 360


def test_five_reaches_the_outer_edge_one_the_innermost_ring_and_missing_is_an_outline_only() -> None:
    wheel = build_wheel([Rating("safe", 5), Rating("healthy", 1), Rating("achieving", 3)])
    outer, hub = wheel.outer_radius, wheel.inner_radius
    assert [ring.scale for ring in wheel.rings] == [1, 2, 3, 4, 5]
    assert wheel.rings[-1].radius == outer

    five, one, three, missing = (
        band(wheel, "safe", PROFESSIONALS),
        band(wheel, "healthy", PROFESSIONALS),
        band(wheel, "achieving", PROFESSIONALS),
        band(wheel, "nurtured", PROFESSIONALS),
    )
    assert five.outer_radius == outer
    assert one.outer_radius == wheel.rings[0].radius and hub < one.outer_radius < wheel.rings[1].radius
    assert three.outer_radius == wheel.rings[2].radius
    assert f"A {five.outer_radius:g} {five.outer_radius:g}" in five.path

    assert not missing.is_rated and missing.scale is None and missing.words is None
    assert missing.outer_radius == 0 and missing.path is None and missing.value_x is None
    # The outline runs from the hub to the outer edge, so the empty band is visible as a shape.
    assert f"A {outer:g} {outer:g}" in missing.outline_path


def test_the_radius_grows_with_the_rating_in_equal_steps() -> None:
    wheel = build_wheel([Rating(code, scale) for code, scale in zip(AREA_CODES, [1, 2, 3, 4, 5], strict=False)])
    radii = [band(wheel, code, PROFESSIONALS).outer_radius for code in AREA_CODES[:5]]
    steps = [round(b - a, 1) for a, b in zip(radii, radii[1:], strict=False)]
    assert radii == sorted(radii) and len(set(steps)) == 1


def test_labels_sit_outside_the_wheel_on_their_own_side() -> None:
    wheel = build_wheel([], size=400)
    for segment in wheel.segments:
        assert (segment.label_x**2 + segment.label_y**2) ** 0.5 > wheel.outer_radius
    by_code = {segment.code: segment for segment in wheel.segments}
    assert by_code["healthy"].label_x > 0 and by_code["healthy"].label_anchor == "start"
    assert by_code["respected"].label_x < 0 and by_code["respected"].label_anchor == "end"
    assert by_code["safe"].label_y < 0 and by_code["nurtured"].label_y > 0
    x, y, width, height = (float(part) for part in wheel.view_box.split())
    assert (width, height) == (wheel.width, wheel.height) and x == -width / 2 and y == -height / 2


# ---- Voices side by side ----


def test_the_voices_get_their_own_bands_side_by_side_and_are_never_averaged() -> None:
    wheel = build_wheel([Rating("safe", 1, PROFESSIONALS), Rating("safe", 5, CHILD), Rating("safe", 3, GUARDIANS)])
    professionals, child, guardians = (band(wheel, "safe", voice) for voice in VOICES)
    assert (professionals.scale, child.scale, guardians.scale) == (1, 5, 3)
    assert len({professionals.path, child.path, guardians.path}) == 3
    assert len({professionals.outer_radius, child.outer_radius, guardians.outer_radius}) == 3
    # Side by side: the same area split into three adjacent angular bands, clockwise in VOICES order.
    safe = wheel.segments[0]
    assert professionals.start_angle == safe.start_angle and guardians.end_angle == safe.end_angle
    assert professionals.end_angle == child.start_angle and child.end_angle == guardians.start_angle
    # Nothing in the model holds a combined value: every rated band carries one voice's own rating.
    rated = [b.scale for segment in wheel.segments for b in segment.bands if b.is_rated]
    assert sorted(rated) == [1, 3, 5]
    assert not any(hasattr(segment, name) for segment in wheel.segments for name in ("average", "mean", "scale"))


def test_two_voices_with_different_ratings_give_different_paths() -> None:
    wheel = build_wheel([Rating("healthy", 2, PROFESSIONALS), Rating("healthy", 4, GUARDIANS)])
    assert [voice.code for voice in wheel.voices] == [PROFESSIONALS, GUARDIANS]
    professionals, guardians = band(wheel, "healthy", PROFESSIONALS), band(wheel, "healthy", GUARDIANS)
    assert professionals.path != guardians.path
    assert professionals.outer_radius < guardians.outer_radius


def test_the_same_rating_from_two_voices_still_gives_two_bands() -> None:
    wheel = build_wheel([Rating("active", 4, PROFESSIONALS), Rating("active", 4, CHILD)])
    professionals, child = band(wheel, "active", PROFESSIONALS), band(wheel, "active", CHILD)
    assert professionals.outer_radius == child.outer_radius
    assert professionals.path != child.path


def test_the_professionals_are_always_shown_and_other_voices_when_they_rated() -> None:
    assert [v.code for v in build_wheel([]).voices] == [PROFESSIONALS]
    assert [v.code for v in build_wheel([Rating("safe", 3, CHILD)]).voices] == [PROFESSIONALS, CHILD]
    assert [v.code for v in build_wheel([Rating("safe", None, GUARDIANS)]).voices] == [PROFESSIONALS]
    everyone = build_wheel([], voices=VOICES)
    assert all(len(segment.bands) == 3 and not any(b.is_rated for b in segment.bands) for segment in everyone.segments)
    assert not everyone.has_ratings


# ---- The rendered component ----


def test_the_rendered_wheel_has_no_inline_style_or_script_and_is_well_formed(app: Flask) -> None:
    wheel = build_wheel(
        [Rating("safe", 4), Rating("safe", 2, CHILD), Rating("included", 5, GUARDIANS, "Feels at home in the club")]
    )
    html = render(app, wheel, title="Review on Tue 3 Dec", suffix="latest")
    assert "style=" not in html and "<style" not in html
    assert "<script" not in html and not re.search(r"\son[a-z]+=", html)
    root = svg_of(html)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Review on Tue 3 Dec"
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    segments = root.findall(f"{SVG}g[@data-area]")
    assert [g.get("data-area") for g in segments] == list(AREA_CODES)
    texts = ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]
    for area in AREAS:
        assert str(area.label) in texts, "every area is named in text, not by colour alone"


def test_the_table_beside_the_wheel_has_a_caption_and_a_row_per_area(app: Flask) -> None:
    wheel = build_wheel([Rating("safe", 4), Rating("healthy", 1, CHILD, "Tired in the mornings")])
    html = render(app, wheel, title="Latest review")
    table = html[html.index("<table") : html.index("</table>") + len("</table>")]
    assert "bk-visually-hidden" not in table, "the table is for everyone, not only screen readers"
    assert re.search(r"<caption[^>]*>\s*Latest review\s*</caption>", table)
    body = table[table.index("<tbody>") :]
    assert body.count("<tr") == 8
    assert re.findall(r'<tr data-area="([a-z]+)"', body) == list(AREA_CODES)
    headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table)
    assert headers == ["Area", "Professionals", "The child"]
    assert "4 – Mostly well" in table
    assert "1 – Serious worries" in table
    assert "Tired in the mornings" in table
    assert table.count("not rated") == 16 - 2
    for area in AREAS:
        assert f">{area.label}</span></th>" in table


def test_the_root_element_is_named_after_the_partial_with_a_suffix(app: Flask) -> None:
    html = render(app, build_wheel([]), suffix="2026-03").strip()
    assert html.startswith('<div class="bk-wheel" id="compass-wheel-2026-03">')
    assert html.endswith("</div>")
    plain = render(app, build_wheel([])).strip()
    assert plain.startswith('<div class="bk-wheel" id="compass-wheel">')
    # Two wheels on one page keep their ids apart.
    root = svg_of(html)
    assert root.find(f"{SVG}title").get("id") == "compass-wheel-2026-03-title"


def test_a_missing_rating_is_drawn_as_a_dashed_outline_that_says_not_rated(app: Flask) -> None:
    html = render(app, build_wheel([Rating("safe", 3)]))
    root = svg_of(html)
    nurtured = root.find(f"{SVG}g[@data-area='nurtured']")
    empty = [path for path in nurtured.iter(f"{SVG}path") if "bk-wheel__band--empty" in (path.get("class") or "")]
    assert len(empty) == 1 and empty[0].get("fill") == "none"
    assert "not rated" in "".join(empty[0].itertext())
    safe = root.find(f"{SVG}g[@data-area='safe']")
    rated = [path for path in safe.iter(f"{SVG}path") if path.get("data-scale") == "3"]
    assert len(rated) == 1 and rated[0].get("fill") == AREAS[0].colour
    assert "bk-compass-fill--safe" in rated[0].get("class")


def test_script_in_a_comment_and_the_title_renders_escaped(app: Flask) -> None:
    wheel = build_wheel([Rating("safe", 2, CHILD, "<script>alert(1)</script>")])
    html = render(app, wheel, title="<img src=x onerror=alert(1)>")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    svg_of(html)  # still well-formed


def test_the_wheel_renders_in_swedish(app: Flask) -> None:
    html = render(app, build_wheel([Rating("safe", 5)], voices=VOICES), title="Uppföljning", locale="sv")
    assert "Trygghet" in html and "Tillhörighet" in html
    svg_of(html)


def test_every_rating_has_plain_words() -> None:
    assert sorted(RATING_WORDS) == [1, 2, 3, 4, 5]
    assert [str(words) for words in RATING_WORDS.values()] == [
        "Serious worries",
        "Some worries",
        "Mixed",
        "Mostly well",
        "Going well",
    ]


# ---- Trend across reviews ----


def test_the_trend_is_in_date_order_per_area_and_voice_with_gaps() -> None:
    march = ReviewRatings(date(2026, 3, 10), (Rating("safe", 2), Rating("safe", 3, CHILD), Rating("healthy", 4)))
    january = ReviewRatings(date(2026, 1, 15), (Rating("safe", 1), Rating("healthy", 3, GUARDIANS)))
    june = ReviewRatings(date(2026, 6, 2), (Rating("safe", 4), Rating("safe", 2, CHILD)))
    result = trend([march, june, january])

    assert result.dates == (date(2026, 1, 15), date(2026, 3, 10), date(2026, 6, 2))
    assert [voice.code for voice in result.voices] == [PROFESSIONALS, CHILD, GUARDIANS]
    assert [row.code for row in result.rows] == list(AREA_CODES)
    assert result.series("safe", PROFESSIONALS).values == (1, 2, 4)
    assert result.series("safe", CHILD).values == (None, 3, 2)
    assert result.series("safe", GUARDIANS).values == (None, None, None)
    assert result.series("healthy", PROFESSIONALS).values == (None, 4, None)
    assert result.series("healthy", GUARDIANS).values == (3, None, None)
    assert result.series("included", PROFESSIONALS).values == (None, None, None)


def test_the_trend_keeps_each_voice_apart() -> None:
    reviews = [
        ReviewRatings(date(2026, 1, 1), (Rating("active", 2), Rating("active", 5, CHILD))),
        ReviewRatings(date(2026, 2, 1), (Rating("active", 4), Rating("active", 1, CHILD))),
    ]
    result = trend(reviews)
    assert result.series("active", PROFESSIONALS).values == (2, 4)
    assert result.series("active", CHILD).values == (5, 1)
    assert result.series("active", PROFESSIONALS).change == 2
    assert result.series("active", CHILD).change == -4
    assert [len(row.series) for row in result.rows] == [2] * 8, "no combined series"


def test_latest_and_change_skip_gaps() -> None:
    reviews = [
        ReviewRatings(date(2026, 1, 1), (Rating("safe", 2),)),
        ReviewRatings(date(2026, 2, 1), ()),
        ReviewRatings(date(2026, 3, 1), (Rating("safe", 3),)),
        ReviewRatings(date(2026, 4, 1), (Rating("safe", None),)),
    ]
    series = trend(reviews).series("safe", PROFESSIONALS)
    assert series.values == (2, None, 3, None)
    assert series.latest == 3 and series.change == 1
    assert trend(reviews).series("healthy", PROFESSIONALS).latest is None
    assert trend(reviews[:1]).series("safe", PROFESSIONALS).change is None


def test_reviews_on_the_same_day_keep_their_order_and_other_shapes_can_be_read() -> None:
    same_day = [
        {"on": date(2026, 5, 5), "given": [Rating("safe", 1)]},
        {"on": date(2026, 5, 5), "given": [Rating("safe", 5)]},
        {"on": date(2026, 4, 1), "given": []},
    ]
    result = trend(same_day, held_on=lambda review: review["on"], ratings_of=lambda review: review["given"])
    assert result.dates == (date(2026, 4, 1), date(2026, 5, 5), date(2026, 5, 5))
    assert result.series("safe", PROFESSIONALS).values == (None, 1, 5)


def test_no_reviews_give_an_empty_trend() -> None:
    result = trend([])
    assert result.dates == ()
    assert [row.code for row in result.rows] == list(AREA_CODES)
    assert all(series.values == () for row in result.rows for series in row.series)


# ---- Issue 16: readable labels, a legend in the segments' colours ----


def _css() -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parents[2] / "static/css/barnkompass.css").read_text()


def test_labels_and_numbers_are_at_least_12px_at_the_wheels_normal_size(app: Flask) -> None:
    from childplan.wheel import LABEL_FONT_SIZE, RENDERED_WIDTH_PX, VALUE_FONT_SIZE

    wheel = build_wheel([Rating("safe", 4)])
    css = _css()
    assert f"max-width: {RENDERED_WIDTH_PX // 16}rem" in css.split(".bk-wheel__svg {")[1].split("}")[0]
    scale = RENDERED_WIDTH_PX / wheel.width
    assert LABEL_FONT_SIZE * scale >= 12 and VALUE_FONT_SIZE * scale >= 12
    # the stylesheet (which wins over presentation attributes) says the same sizes
    assert f"font-size: {LABEL_FONT_SIZE}px" in css.split(".bk-wheel__label {")[1].split("}")[0]
    assert f"font-size: {VALUE_FONT_SIZE}px" in css.split(".bk-wheel__value {")[1].split("}")[0]
    root = svg_of(render(app, wheel))
    sizes = {node.get("class"): node.get("font-size") for node in root.iter(f"{SVG}text")}
    assert sizes == {"bk-wheel__value": str(VALUE_FONT_SIZE), "bk-wheel__label": str(LABEL_FONT_SIZE)}


def test_the_legend_uses_exactly_the_segments_colours_and_each_voices_strength(app: Flask) -> None:
    wheel = build_wheel([Rating("safe", 4), Rating("healthy", 2, CHILD), Rating("included", 5, GUARDIANS)])
    html = render(app, wheel)
    assert "#3b4149" not in html, "no grey swatch"
    legend = html.split('class="bk-wheel__legend"')[1].split("</ul>")[0]
    swatches = re.findall(
        r'<rect class="([^"]+)"[^>]*fill="([^"]+)" fill-opacity="([^"]+)" data-area="([^"]+)"', legend
    )
    assert swatches
    by_area = {segment.code: segment for segment in wheel.segments}
    for classes, fill, opacity, code in swatches:
        voice = re.search(r"bk-wheel__band--(\w+)", classes).group(1)  # type: ignore[union-attr]
        assert fill == by_area[code].colour and by_area[code].fill_class in classes
        drawn = next(band for band in by_area[code].bands if band.voice == voice)
        assert opacity == drawn.opacity
    assert {code for *_rest, code in swatches} == set(AREA_CODES)


# ---- Issue 16: the trend drawn beside its table ----

TREND_INCLUDE = '{% include "childplan/_review_trend.html" %}'


def _trend_review():  # type: ignore[no-untyped-def]
    from childplan.review_view import ReviewView, TrendArea, TrendCell, TrendLine

    days = (date(2026, 3, 1), date(2026, 6, 1), date(2026, 9, 1))
    lines = (
        TrendLine(PROFESSIONALS, "Professionals", (TrendCell(2, "w"), TrendCell(None, None), TrendCell(4, "w"))),
        TrendLine(
            CHILD,
            "The child",
            (TrendCell(3, "w"), TrendCell(3, "w"), TrendCell(None, None, "consent_does_not_cover_the_areas")),
        ),
    )
    trend = [TrendArea(area.code, area.label, area.css_class, lines) for area in AREAS]
    return ReviewView("c", "r", days[-1], None, build_wheel([]), trend_dates=days, trend=trend)


def test_the_trend_is_drawn_as_an_svg_chart_beside_the_table_without_script(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        html = render_template_string(TREND_INCLUDE, review=_trend_review())
    assert "<script" not in html and "style=" not in html
    assert 'data-table="review-trend"' in html, "the table stays"
    svg = html.split('<svg class="bk-trend__svg"')[1].split("</svg>")[0]
    root = ET.fromstring('<svg class="bk-trend__svg"' + svg + "</svg>")
    assert root.get("role") == "img"
    labelled = root.get("aria-labelledby", "").split()
    assert "review-trend-caption" in labelled and 'id="review-trend-caption"' in html
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    panels = root.findall(f"{SVG}g[@data-area]")
    assert [panel.get("data-area") for panel in panels] == list(AREA_CODES)
    safe = panels[0]
    professionals = safe.find(f"{SVG}g[@data-voice='professionals']")
    child = safe.find(f"{SVG}g[@data-voice='child']")
    assert professionals is not None and child is not None
    # a review without a rating breaks the line (never drawn across, never averaged)
    assert professionals.findall(f"{SVG}polyline") == []
    assert [c.get("data-scale") for c in professionals.findall(f"{SVG}circle")] == ["2", "4"]
    assert len(child.findall(f"{SVG}polyline")) == 1, "the withheld third review is a gap"
    colours = {c.get("fill") for c in safe.iter(f"{SVG}circle")}
    assert colours == {AREAS[0].colour}, "the area's colour from the same source as the wheel"
    assert "1 Mar 2026" in html and "2026-03-01" not in html.split("</svg>")[0].split("<svg")[1]
    sizes = {int(node.get("font-size", "0")) for node in root.iter(f"{SVG}text")}
    assert min(sizes) * 576 / int(root.get("width", "1")) >= 12


def test_no_ratings_draw_no_chart_but_keep_the_table(app: Flask) -> None:
    from childplan.review_view import ReviewView

    review = ReviewView("c", "r", date(2026, 3, 1), None, build_wheel([]), trend_dates=(date(2026, 3, 1),))
    with app.test_request_context(), force_locale("en"):
        html = render_template_string(TREND_INCLUDE, review=review)
    assert "bk-trend__svg" not in html and 'data-table="review-trend"' in html
