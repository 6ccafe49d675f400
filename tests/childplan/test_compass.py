"""The Needs Compass vocabulary: eight codes, translated labels, one colour and icon per area, and a
leaf module that every package may import."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask import Flask
from flask_babel import force_locale

from childplan import compass

ROOT = Path(__file__).resolve().parents[2]


def test_the_compass_module_imports_nothing_from_the_domain_packages() -> None:
    tree = ast.parse((ROOT / "childplan" / "compass.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    domain = {
        name for name in imported if name.split(".")[0] in {"coordination", "agencies", "childplan", "notifications"}
    }
    assert domain == set()


def test_there_are_the_eight_areas_in_order() -> None:
    assert compass.AREA_CODES == (
        "safe",
        "healthy",
        "achieving",
        "nurtured",
        "active",
        "respected",
        "responsible",
        "included",
    )


def test_labels_are_translated_to_swedish_and_english(app: Flask) -> None:
    swedish = ["Trygghet", "Hälsa", "Utveckling", "Omsorg", "Fritid", "Respekterad", "Ta ansvar", "Tillhörighet"]
    english = ["Safe", "Healthy", "Achieving", "Nurtured", "Active", "Respected", "Responsible", "Included"]
    with app.test_request_context():
        with force_locale("sv"):
            assert [str(area.label) for area in compass.AREAS] == swedish
            swedish_descriptions = [str(area.description) for area in compass.AREAS]
        with force_locale("en"):
            assert [str(area.label) for area in compass.AREAS] == english
            english_descriptions = [str(area.description) for area in compass.AREAS]
    assert all(sv != en for sv, en in zip(swedish_descriptions, english_descriptions, strict=False))


def test_each_area_has_the_colour_of_the_stylesheet_and_an_icon() -> None:
    css = (ROOT / "static" / "css" / "barnkompass.css").read_text()
    colours = [area.colour for area in compass.AREAS]
    assert len(set(colours)) == 8, "one distinct colour per area"
    for area in compass.AREAS:
        match = re.search(rf"--bk-compass-{area.code}:\s*(#[0-9a-fA-F]{{6}})", css)
        assert match and match.group(1).lower() == area.colour.lower(), area.code
        assert f".bk-compass--{area.code}" in css
        icon = ROOT / "static" / area.icon
        assert icon.is_file(), area.icon
        assert "<script" not in icon.read_text() and "style=" not in icon.read_text()
