"""Every user-facing string is translatable and translated to Swedish, and the compiled catalogues
are the ones the .po files say."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "coordination" / "translations"


def _extracted() -> set[str]:
    method_map, options_map = parse_mapping_cfg((ROOT / "babel.cfg").open())
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "_l": None,
        "lazy_gettext": None,
        "pgettext": ((1, "c"), 2),
    }
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(language: str):  # type: ignore[no-untyped-def]
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def test_every_string_in_the_code_has_a_swedish_translation() -> None:
    swedish = _catalogue("sv")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in swedish
        if m.id and m.string and not m.fuzzy and (isinstance(m.string, str) or all(m.string))
    }
    missing = sorted(_extracted() - translated)
    assert missing == [], f"run `make translations` and translate: {missing}"


def test_the_english_catalogue_knows_every_string() -> None:
    english = {(m.id if isinstance(m.id, str) else m.id[0]) for m in _catalogue("en") if m.id}
    assert sorted(_extracted() - english) == []


def test_the_compiled_catalogues_match_the_po_files() -> None:
    for language in ("sv", "en"):
        compiled = Translations.load(str(TRANSLATIONS), [language])
        for message in _catalogue(language):
            if (
                not message.id
                or not message.string
                or (not isinstance(message.string, str) and not any(message.string))
            ):
                continue
            if isinstance(message.id, str) and message.context:
                assert compiled.pgettext(message.context, message.id) == message.string, f"recompile {language}"
            elif isinstance(message.id, str):
                assert compiled.gettext(message.id) == message.string, f"recompile {language}: {message.id!r}"
            else:
                assert compiled.ngettext(message.id[0], message.id[1], 1) == message.string[0]
                assert compiled.ngettext(message.id[0], message.id[1], 2) == message.string[1]
