"""Which consents a member of staff may open (RULES.md §3, §4): the child's, and of those their own agency's,
or another agency's while their agency holds a consent for coordination."""

from __future__ import annotations

from flask import abort

from coordination import audit
from coordination.access import Actor, ChildAccess, may_know_other_agencies
from coordination.consent.models import Consent

MAX_ID_LENGTH = 64


def get_consent_or_404(actor: Actor, access: ChildAccess, consent_id: str, action: str) -> Consent:
    """A consent of THIS child (from the access core's picture of the child, so it is the same
    evaluation as the tab), and only one the viewer may see: their own agency's, or another agency's
    while their agency holds a consent for coordination. Anything else is 404, audited."""
    wanted = (consent_id or "")[:MAX_ID_LENGTH]
    found = next((c for c in access.picture.consents if c.public_id == wanted), None)
    own = actor.acting_agency
    assert own is not None
    reason = None
    if found is None:
        reason = "not_this_childs_consent"
    elif found.agency_id != own.id and not may_know_other_agencies(access):
        reason = "no_consent_for_your_agency"
    if reason is not None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=access.child.id,
            object_type="consent",
            object_id=wanted,
            detail={"reason": reason},
        )
        abort(404)
    assert found is not None
    audit.note_read(
        actor.audit_actor(),
        action,
        child_id=access.child.id,
        object_type="consent",
        object_id=found.public_id,
        legal_basis=access.legal_basis,
    )
    return found
