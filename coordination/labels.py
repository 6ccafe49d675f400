"""Translated labels for the codes stored in the database (roles, agency kinds, kinds of actor, languages),
and the names composed from them for display."""

from __future__ import annotations

import re

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "practitioner": _l("Practitioner"),
    "agency_admin": _l("Agency admin"),
    "intake": _l("Intake"),
}

AGENCY_KIND_LABELS = {
    "maternity_clinic": _l("Maternity clinic"),
    "child_health_centre": _l("Child health centre"),
    "preschool": _l("Preschool"),
    "school": _l("School"),
    "pupil_health": _l("Pupil health"),
    "social_services": _l("Social services"),
    "police": _l("Police"),
    "primary_care": _l("Primary care"),
    "bup": _l("Child and adolescent psychiatry (BUP)"),
    "habilitation": _l("Habilitation"),
}

ACTOR_KIND_LABELS = {
    "staff": _l("Staff"),
    "agency_admin": _l("Agency admin"),
    "platform_admin": _l("Platform administrator"),
    "analyst": _l("Follow-up analyst"),
    "guardian": _l("Guardian"),
    "young_person": _l("Young person"),
}

LANGUAGE_LABELS = {
    "sv": "Svenska",
    "en": "English",
    "ar": "العربية",
    "fi": "Suomi",
    "so": "Soomaali",
    "fa": "فارسی",
    "ti": "ትግርኛ",
    "uk": "Українська",
    "pl": "Polski",
    "other": _l("Other language"),
}


# -- names composed for display ------------------------------------------------------------------------------
_PARENTHESIS = re.compile(r"^(?P<main>.*?)\s*\((?P<short>[^()]*)\)\s*$")


def _says_kind(name: str, kind: str) -> bool:
    """Whether ``name`` already says ``kind`` ("Barnavårdscentralen Ekby (BVC)" says "Barnavårdscentral
    (BVC)", "Ekby förskolor" says "Förskola"): its abbreviation, or the kind's word without its last letter
    (Swedish inflects at the end)."""
    match = _PARENTHESIS.match(kind)
    main, short = (match["main"], match["short"]) if match else (kind, "")
    if short and re.search(rf"\b{re.escape(short)}\b", name):
        return True
    stem = main.strip().casefold()[:-1] if len(main.strip()) > 4 else main.strip().casefold()
    return bool(stem) and stem in name.casefold()


def agency_with_kind(name: str, kind: object) -> str:
    """An agency's name with its kind in parentheses, unless the name already says it (never "Ekby skola
    (Skola)" nor a name doubled in parentheses)."""
    label = str(kind or "").strip()
    if not label or label.casefold() == name.casefold() or _says_kind(name, label):
        return name
    return f"{name} ({label})"


def unit_with_agency(unit: str, agency: str) -> str:
    """A unit's name with its agency in parentheses, only when the agency's name is not already the unit's
    (or part of it); after a dash when the agency's name ends in parentheses of its own."""
    if not agency or agency.casefold() in unit.casefold():
        return unit
    if agency.endswith(")"):  # no parentheses inside parentheses
        return f"{unit} – {agency}"
    return f"{unit} ({agency})"


def language_name(code: str | None) -> str:
    """A language's name in the viewer's language, for running text: "svenska", "engelska" in Swedish
    (lowercase, as Swedish writes language names), "Swedish", "English" in English. Pickers that list
    languages by their own names use ``LANGUAGE_LABELS``."""
    if not code:
        return ""
    if code == "other":
        return str(_l("another language"))
    viewer = Locale.parse(str(get_locale() or "sv"))
    try:
        name = Locale.parse(code).get_language_name(viewer)
    except (ValueError, UnknownLocaleError):
        name = None
    return name or code


# -- notes the system writes ---------------------------------------------------------------------------------
# Stored as written here (in English: the key), shown in the reader's language by ``system_note``; a note a
# person wrote is shown as they wrote it.
AGREED_WHEN_RAISED = "Agreed when the concern was raised"
STATED_WHEN_RAISED = (
    "Agreed when the concern was raised (the practitioner stated that every guardian with custody agreed)"
)
SYSTEM_NOTES = {
    AGREED_WHEN_RAISED: _l("Agreed when the concern was raised"),
    STATED_WHEN_RAISED: _l(
        "Agreed when the concern was raised (the practitioner stated that every guardian with custody agreed)"
    ),
}


def system_note(note: str | None) -> str | None:
    """A stored note in the reader's language when the system wrote it; otherwise as it was written."""
    if note is None:
        return None
    label = SYSTEM_NOTES.get(note)
    return str(label) if label is not None else note
