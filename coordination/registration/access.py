"""Who may register a child, and where (RULES.md §5): practitioners of the acting agency, in their units."""

from __future__ import annotations

from flask import abort

from agencies.models import Unit
from coordination.access import STAFF, Actor


def registrable_units(actor: Actor) -> list[Unit]:
    """The units of the acting agency where the actor is a practitioner, by name."""
    if actor.kind != STAFF or actor.acting_agency is None:
        return []
    units = {m.unit_id: m.unit for m in actor.memberships if m.is_practitioner and m.ended_at is None}
    return sorted(units.values(), key=lambda unit: (unit.name, unit.id))


def may_register(actor: Actor) -> bool:
    return bool(registrable_units(actor))


def get_registrable_units_or_404(actor: Actor) -> list[Unit]:
    """The units the actor may register a child in; none (not a practitioner of the acting agency): 404."""
    units = registrable_units(actor)
    if not units:
        abort(404)
    return units
