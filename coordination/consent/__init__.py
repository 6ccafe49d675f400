"""Consent (RULES.md §3): the consent ledger's writes, the versioned consent texts, and the pure
evaluation the access core builds on. Import from here; the modules are:

* ``ledger``: the writes (``request_consent``, ``record_consent``, ``add_consent_giver``,
  ``withdraw_consent``, ``record_maturity``) — validated first, so a refusal writes nothing; flushed and
  audited in the same transaction; the caller commits.
* ``lookups``: the reads the writes check against (custodians, maturity, overlaps, open requests).
* ``announcements``: what a consent change tells the rest of the platform — its chronology entry, and
  the "this role needs a consented agency" signal when a role holder's agency loses coordination consent.
* ``texts``: the versioned, translatable consent texts; a fresh database gets the built-in version 1.
* ``evaluation``: ``effective_areas`` and ``consent_status`` (pure), and ``consent_facts`` (the loader).
* ``common``: the shared vocabulary.

The ledger in one paragraph: a ``Consent`` row is one agency, one purpose, a set of Needs Compass areas
and a period. Its ``ConsentGiver`` rows say who gave it (each guardian separately, or the young person),
how, when and on what evidence. It is **in effect** on a day when it is recorded, the day is inside its
period, nobody has withdrawn it, and the right people have given it: every current custodial guardian,
or — for an agency the young person has been recorded as mature enough to decide for, while they are at
least ``MATURITY_MIN_AGE`` (configuration, default 12), and for every agency from 18 — the young person.
A consent whose legal basis is a social-services decision is in effect regardless of givers. A requested
consent grants nothing. Any one withdrawal ends a consent at once. The evaluation functions apply the age
rules when given the child's ``birth_date`` (and ``maturity_min_age``); callers should always pass them.
"""

from coordination.consent.common import (
    ADULT_AGE,
    CONSENT_LEGAL_BASES,
    CONSENT_TEXT_VERSION,
    DEFAULT_MATURITY_MIN_AGE,
    DEFAULT_TEXT_LANGUAGE,
    EXPIRES_SOON_DAYS,
    MAX_NOTE_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_VALIDITY_YEARS,
    YOUNG_PERSON,
    maturity_min_age,
)
from coordination.consent.evaluation import (
    AGE_NOT_CHECKED,
    CONSENT_STATUS_LABELS,
    CONSENT_STATUSES,
    ConsentFacts,
    awaiting_guardian_ids,
    consent_facts,
    consent_status,
    deciding_guardian_ids,
    effective_areas,
    in_effect,
    is_adult,
    local_date,
    young_person_decides,
)
from coordination.consent.ledger import (
    ConsentData,
    GiverData,
    add_consent_giver,
    record_consent,
    record_maturity,
    request_consent,
    withdraw_consent,
    young_person_not_mature,
)
from coordination.consent.lookups import current_custodian_ids, has_maturity_assessment
from coordination.consent.texts import (
    DEFAULT_CONSENT_TEXTS,
    consent_text,
    current_consent_text,
    ensure_consent_text,
)

__all__ = [
    "ADULT_AGE",
    "AGE_NOT_CHECKED",
    "CONSENT_LEGAL_BASES",
    "CONSENT_STATUSES",
    "CONSENT_STATUS_LABELS",
    "CONSENT_TEXT_VERSION",
    "DEFAULT_CONSENT_TEXTS",
    "DEFAULT_MATURITY_MIN_AGE",
    "DEFAULT_TEXT_LANGUAGE",
    "EXPIRES_SOON_DAYS",
    "MAX_NOTE_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_VALIDITY_YEARS",
    "YOUNG_PERSON",
    "ConsentData",
    "ConsentFacts",
    "GiverData",
    "add_consent_giver",
    "awaiting_guardian_ids",
    "consent_facts",
    "consent_status",
    "consent_text",
    "current_consent_text",
    "current_custodian_ids",
    "deciding_guardian_ids",
    "effective_areas",
    "ensure_consent_text",
    "has_maturity_assessment",
    "in_effect",
    "is_adult",
    "local_date",
    "maturity_min_age",
    "record_consent",
    "record_maturity",
    "request_consent",
    "withdraw_consent",
    "young_person_decides",
    "young_person_not_mature",
]
