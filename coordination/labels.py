"""Translated labels for the codes stored in the database (roles, agency kinds, kinds of actor)."""

from __future__ import annotations

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
