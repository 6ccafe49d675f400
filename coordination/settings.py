"""Settings a platform admin may change at run time (the admin's settings page): the concerns' matching
window, the youngest age for a maturity assessment and the switchboard number shown instead of a
protected child's staff. The configuration (``coordination/config.py``) gives each its default; an
override is a row of the ``setting`` table, validated with the configuration's own bounds, its change
audited (old → new) in the change's own transaction.

Readers ask ``effective(key)`` (or the named helpers). The overrides are loaded in one statement, at
most once per request and only when a reader asks (cached on ``flask.g``), so a change is effective from
the next request and a page that reads no setting sends no statement for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from coordination.audit import AuditActor, record_write
from coordination.database import db
from coordination.errors import OperationError
from coordination.models import Setting

MATCH_WINDOW = "CONCERN_MATCH_WINDOW_DAYS"
MATURITY_AGE = "MATURITY_MIN_AGE"
SWITCHBOARD = "SWITCHBOARD_PHONE"
PHONE_CHARACTERS = frozenset("0123456789 +-()")
MAX_PHONE_LENGTH = 40  # as the agencies' phone columns


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: Any  # outside an app (the configuration's default)
    minimum: int | None = None  # whole numbers only
    maximum: int | None = None


SPECS: dict[str, SettingSpec] = {
    # config.py: a positive whole number of days (the upper bound keeps the window a plausible one)
    MATCH_WINDOW: SettingSpec(MATCH_WINDOW, 14, minimum=1, maximum=3650),
    # config.py: a whole number of years from 1 to 18
    MATURITY_AGE: SettingSpec(MATURITY_AGE, 12, minimum=1, maximum=18),
    SWITCHBOARD: SettingSpec(SWITCHBOARD, "0771-00 00 00"),
}
_CACHE = "_barnkompass_settings"


def _configured(key: str) -> Any:
    spec = SPECS[key]
    return current_app.config.get(key, spec.default) if has_app_context() else spec.default


def _load_overrides() -> dict[str, str]:
    rows = db.session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(SPECS))).tuples()
    return dict(rows.all())


def overrides() -> dict[str, str]:
    """The stored overrides: once per request (``flask.g``); read afresh outside a request."""
    if not has_request_context():
        return _load_overrides()
    cached: dict[str, str] | None = g.get(_CACHE)
    if cached is None:
        cached = _load_overrides()
        setattr(g, _CACHE, cached)
    return cached


def _parse(key: str, stored: str) -> Any:
    spec = SPECS[key]
    if spec.minimum is None:
        return stored
    return int(stored)


def effective(key: str) -> Any:
    """The value in force: the stored override, else the configuration. Outside an app: the default."""
    if not has_app_context():
        return SPECS[key].default
    stored = overrides().get(key)
    if stored is None:
        return _configured(key)
    try:
        return _parse(key, stored)
    except ValueError:  # a row written by hand that does not parse: the configuration stands
        return _configured(key)


def match_window_days() -> int:
    return int(effective(MATCH_WINDOW))


def maturity_min_age() -> int:
    return int(effective(MATURITY_AGE))


def switchboard_phone() -> str:
    return str(effective(SWITCHBOARD))


def configured(key: str) -> Any:
    """The configuration's value (what the setting falls back to without an override)."""
    return _configured(key)


# -- validation and the change -------------------------------------------------------------------
MESSAGES = {
    MATCH_WINDOW: _l("Give the window as a whole number of days from 1 to 3650"),
    MATURITY_AGE: _l("Give the age as a whole number of years from 1 to 18"),
    SWITCHBOARD: _l("Give a phone number of at most 40 characters: digits, spaces, +, - and brackets"),
}


def validated(key: str, raw: Any) -> Any:
    """The value as it is stored and used, or ``OperationError`` naming the setting as the field."""
    spec = SPECS[key]
    text = str(raw if raw is not None else "").strip()
    if spec.minimum is not None:
        if not text.isascii() or not text.isdigit():
            raise OperationError("Not a whole number", key)
        number = int(text)
        if number < spec.minimum or (spec.maximum is not None and number > spec.maximum):
            raise OperationError("Out of bounds", key)
        return number
    if (
        not text
        or len(text) > MAX_PHONE_LENGTH
        or not set(text) <= PHONE_CHARACTERS
        or not any(character.isdigit() for character in text)
    ):
        raise OperationError("Not a phone number", key)
    return text


def change_setting(actor: AuditActor, key: str, raw: Any) -> bool:
    """Store the validated value as the override (removing it when it equals the configuration) and audit
    old → new. False when nothing changed (nothing written). The caller commits."""
    value = validated(key, raw)
    old = effective(key)
    if value == old:
        return False
    if value == _configured(key):
        db.session.execute(delete(Setting).where(Setting.key == key))
    else:
        db.session.merge(Setting(key=key, value=str(value)))
    db.session.flush()
    record_write(
        actor,
        "change_setting",
        object_type="setting",
        object_id=key,
        legal_basis="platform_administration",
        detail={"old": old, "new": value},
    )
    if has_request_context() and g.get(_CACHE) is not None:
        g.get(_CACHE).pop(key, None)
        if value != _configured(key):
            g.get(_CACHE)[key] = str(value)
    return True
