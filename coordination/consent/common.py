"""What the consent modules share: the vocabulary, giver keys."""

from __future__ import annotations

from flask import has_app_context

from coordination import settings
from coordination.audit import SYSTEM, Acting, AuditActor

# -- vocabulary -----------------------------------------------------------------------------------------
CONSENT_TEXT_VERSION = 1  # the version of the built-in texts (texts.DEFAULT_CONSENT_TEXTS)
DEFAULT_TEXT_LANGUAGE = "sv"
MAX_VALIDITY_YEARS = 3
MAX_NOTE_LENGTH = 1000  # evidence notes and maturity notes (the columns are String(1000))
MAX_TEXT_LENGTH = 20_000  # a consent text's body
EXPIRES_SOON_DAYS = 30
# The legal bases a consent row may carry (the audit's fixed list has more).
CONSENT_LEGAL_BASES: tuple[str, ...] = ("consent", "social_services_decision")
YOUNG_PERSON = "young_person"  # the giver key of the young person (a guardian's key is their id)
# From this age the guardians no longer decide: the young person (an adult) decides for every agency.
ADULT_AGE = 18
# The youngest age at which staff may record the young person as mature enough to decide for an agency
# (configuration key MATURITY_MIN_AGE; this is its default, coordination/config.py DEFAULTS).
DEFAULT_MATURITY_MIN_AGE = 12


def maturity_min_age() -> int:
    """The minimum age for a maturity assessment in force: the platform admin's setting, else the
    configuration (the default outside an app; ``coordination.settings``)."""
    if has_app_context():
        return settings.maturity_min_age()
    return DEFAULT_MATURITY_MIN_AGE


def audit_actor(actor: Acting | None) -> AuditActor:
    """The audit actor of an operation's actor; None means the platform itself."""
    return SYSTEM if actor is None else actor.audit_actor()


def giver_key(guardian_id: int | None) -> int | str:
    """A giver's key: the guardian's id, or YOUNG_PERSON."""
    return YOUNG_PERSON if guardian_id is None else guardian_id
