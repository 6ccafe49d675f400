"""The versioned, translatable consent texts (one row per version and language) and the built-in
version 1 that a fresh database gets without a CLI step."""

from __future__ import annotations

from sqlalchemy import select

from coordination.access import AnyActor
from coordination.audit import record_write
from coordination.children.models import LANGUAGES
from coordination.clock import now
from coordination.consent.common import (
    DEFAULT_TEXT_LANGUAGE,
    MAX_TEXT_LENGTH,
    audit_actor,
)
from coordination.consent.models import ConsentText
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _

# The built-in consent texts (version 1): what is shared, with whom, for what, for how long, and that it
# can be withdrawn at any time. Stored per version and language (``ConsentText``); a new wording is a
# new version, never an edit of one that may already have been shown to a family.
DEFAULT_CONSENT_TEXTS: dict[str, str] = {
    "sv": (
        "Samtycke till samarbete kring ditt barn\n\n"
        "När du samtycker får de verksamheter som står i samtycket dela information om ditt barn med "
        "varandra, så att de kan arbeta tillsammans och ge barnet rätt stöd i tid.\n\n"
        "Vad som delas: det som behövs för att samordna stödet – oro som någon har tagit upp, barnets plan "
        "med behov, mål och insatser, uppföljningar och det barnet själv har berättat. Bara inom de områden "
        "i Behovskompassen som står i samtycket.\n\n"
        "Med vem: bara med verksamheterna i samtycket, och där bara med personal som arbetar med ditt barn.\n\n"
        "Till vad: till att samordna stödet och barnets plan, och om du samtycker till det, till att "
        "verksamheten är med i barnets team och på teamets möten.\n\n"
        "Hur länge: samtycket gäller från och med det första datumet till och med det sista datumet som står "
        "i det.\n\n"
        "Du kan ta tillbaka samtycket när som helst, för alla verksamheter eller för en av dem, utan att "
        "förklara varför. Det gäller direkt. Har barnet två vårdnadshavare räcker det att en av er tar "
        "tillbaka det. Om personalen har bedömt att barnet är moget nog att själv bestämma för en "
        "verksamhet, är det barnet som ger eller tar tillbaka samtycket för den verksamheten.\n\n"
        "Samtycket ändrar inte personalens skyldighet att anmäla till socialtjänsten om de tror att ett barn "
        "far illa."
    ),
    "en": (
        "Consent to working together around your child\n\n"
        "When you give consent, the agencies named in it may share information about your child with each "
        "other, so that they can work together and give your child the right support in time.\n\n"
        "What is shared: what is needed to coordinate the support – concerns someone has raised, your "
        "child's plan with needs, goals and actions, reviews, and what your child has said. Only within the "
        "areas of the Needs Compass named in the consent.\n\n"
        "With whom: only with the agencies named in the consent, and there only with staff who work with "
        "your child.\n\n"
        "For what: to coordinate the support and your child's plan and, if you agree to it, for the agency "
        "to take part in your child's team and its meetings.\n\n"
        "For how long: the consent applies from the first date to the last date written in it.\n\n"
        "You can withdraw the consent at any time, for all the agencies or for one of them, without giving "
        "a reason. It takes effect at once. If your child has two guardians, it is enough that one of you "
        "withdraws it. If staff have judged that your child is mature enough to decide for an agency, your "
        "child gives or withdraws the consent for that agency.\n\n"
        "The consent does not change the staff's duty to report to social services if they believe a child "
        "is being harmed."
    ),
}


def ensure_consent_text(version: int, language: str, body: str, *, actor: AnyActor | None = None) -> ConsentText:
    """The consent text ``version`` in ``language``: created when missing, returned when it exists with
    the same wording. A different wording for an existing version is refused (field "body"): the
    version is what the family was shown, so a new wording needs a new version."""
    body = (body or "").strip()
    if not isinstance(version, int) or version < 1:
        raise OperationError(_("The version must be a whole number from 1"), "version")
    if language not in LANGUAGES:
        raise OperationError(_("Unknown language"), "language")
    if not body:
        raise OperationError(_("Enter the consent text"), "body")
    if len(body) > MAX_TEXT_LENGTH:
        raise OperationError(_("The consent text is too long"), "body")
    existing = _text(version, language)
    if existing is not None:
        if existing.body.strip() != body:
            raise OperationError(_("That version already has another wording: make a new version"), "body")
        return existing
    text = ConsentText(version=version, language=language, body=body, created_at=now())
    db.session.add(text)
    db.session.flush()
    _audit_text(actor, text)
    return text


def current_consent_text(language: str) -> ConsentText:
    """The consent text to show now: the newest version that exists in ``language`` or in Swedish,
    in ``language`` when that version has it, otherwise in Swedish (an older translation is never
    preferred over a newer Swedish version). Version 1 comes with the database (migration
    ``0003_consent_texts``), so reading it never writes."""
    chosen = _newest_text(language)
    if chosen is None:
        raise RuntimeError("no consent text: run `barnkompass db upgrade`")
    return chosen


def consent_text(version: int, language: str) -> ConsentText | None:
    """The stored text ``version`` in ``language``, if any (no fallback: a record names what was shown)."""
    return _text(version, language)


def _text(version: int, language: str) -> ConsentText | None:
    return db.session.scalar(
        select(ConsentText).where(ConsentText.version == version, ConsentText.language == language)
    )


def _newest_text(language: str) -> ConsentText | None:
    candidates = db.session.scalars(
        select(ConsentText).where(ConsentText.language.in_({language, DEFAULT_TEXT_LANGUAGE}))
    ).all()
    if not candidates:
        return None
    return max(candidates, key=lambda text: (text.version, text.language == language))


def _audit_text(actor: AnyActor | None, text: ConsentText) -> None:
    record_write(
        audit_actor(actor),
        "create_consent_text",
        object_type="consent_text",
        object_id=f"{text.version}:{text.language}",
        legal_basis="platform_administration",
    )
