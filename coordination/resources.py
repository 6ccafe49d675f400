"""Where templates, static files, migrations and translations are: inside the installed package (a
wheel maps them there) or, in a source checkout, at the repository's top level."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    installed = PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / name


def templates_dir() -> Path:
    return resource_dir("templates")


def static_dir() -> Path:
    return resource_dir("static")


def migrations_dir() -> Path:
    return resource_dir("migrations")


def translations_dir() -> Path:
    return PACKAGE_DIR / "translations"
