"""Reviews of the Child's Plan, the writes: the plan keeper records a review with Needs Compass ratings
(1–5) from the professionals (the keeper's agency), and as told at the review the child and the guardians
(``record_review``); staff of another agency on the child's team add their agency's professional ratings to
an existing review, one per area and agency (``add_agency_ratings``). Each checks who may write and every
input before anything is written (``OperationError`` with the field), flushes and audits the write in the
same transaction and records a "plan_reviewed" chronology entry; the caller commits. The review as a viewer
may see it is ``childplan.review_view.ReviewView``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from childplan import wheel
from childplan.access import agency_on_team
from childplan.compass import AREA_CODES
from childplan.models import PLAN_TEXT_MAX, RATING_VOICES, Plan, Rating, Review
from childplan.operations.common import active_or_refuse, audit_write, chronicle, clean_text, keeper_of_active_plan
from childplan.wheel import PROFESSIONALS
from coordination.access import KEEPER_BASES, STAFF, Actor, relations_basis
from coordination.audit import refusals_audited
from coordination.clock import now, today
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _

COMMENT_MAX = 1000
NOTE_MAX = PLAN_TEXT_MAX


def rating_field(area: str, voice: str) -> str:
    """The form field (and the refusal's field) of one voice's rating of one area."""
    return f"rating_{area}_{voice}"


def comment_field(area: str, voice: str) -> str:
    return f"comment_{area}_{voice}"


@dataclass(frozen=True)
class RatingData:
    area: str
    voice: str
    scale: int | None
    comment: str | None = None


@dataclass(frozen=True)
class ReviewData:
    held_on: date | None
    note: str | None = None
    ratings: Sequence[RatingData] = ()


def _checked_ratings(ratings: Sequence[RatingData]) -> list[tuple[str, str, int, str | None]]:
    checked: list[tuple[str, str, int, str | None]] = []
    seen: set[tuple[str, str]] = set()
    for rating in ratings:
        if rating.area not in AREA_CODES:
            raise OperationError(_("Unknown area"), "ratings")
        if rating.voice not in RATING_VOICES:
            raise OperationError(_("Unknown voice"), "ratings")
        if (rating.area, rating.voice) in seen:
            raise OperationError(_("Give one rating per area and voice"), "ratings")
        seen.add((rating.area, rating.voice))
        comment = clean_text(rating.comment, comment_field(rating.area, rating.voice), COMMENT_MAX)
        scale = rating.scale
        if scale is None:
            if comment is not None:
                raise OperationError(
                    _("Choose a rating for this comment, or leave the comment empty"),
                    rating_field(rating.area, rating.voice),
                )
            continue
        if isinstance(scale, bool) or not isinstance(scale, int) or scale not in wheel.SCALE:
            raise OperationError(_("Choose a rating from 1 to 5"), rating_field(rating.area, rating.voice))
        checked.append((rating.area, rating.voice, scale, comment))
    if not checked:
        raise OperationError(_("Rate at least one area"), "ratings")
    return checked


@refusals_audited("record_plan_review")
def record_review(actor: Actor, plan: Plan, data: ReviewData) -> Review:
    """The plan keeper records a review: when it was held (not in the future), a note, and at least one
    rating. The professionals' ratings are the keeper's agency's record, rated by the keeper; the child's
    and the guardians' are recorded as they were told at the review."""
    keeper = keeper_of_active_plan(actor, plan)
    assert actor.acting_agency is not None  # the keeper acts for the keeper's agency
    if data.held_on is None:
        raise OperationError(_("Enter the date of the review"), "held_on")
    if data.held_on > today():
        raise OperationError(_("The review date cannot be in the future"), "held_on")
    note = clean_text(data.note, "note", NOTE_MAX)
    checked = _checked_ratings(data.ratings)
    agency_id = actor.acting_agency.id
    person_id = actor.account.staff_person_id
    review = Review(
        plan_id=plan.id,
        child_id=plan.child_id,
        held_on=data.held_on,
        recorded_by_id=person_id,
        agency_id=agency_id,
        note=note,
        created_at=now(),
        ratings=[
            Rating(
                area=area,
                voice=voice,
                scale=scale,
                comment=comment,
                agency_id=agency_id if voice == PROFESSIONALS else None,
                rated_by_id=person_id if voice == PROFESSIONALS else None,
                is_withheld_from_guardians=False,
            )
            for area, voice, scale, comment in checked
        ],
    )
    db.session.add(review)
    db.session.flush()
    audit_write(
        actor,
        "record_plan_review",
        plan.child_id,
        "plan_review",
        review.public_id,
        KEEPER_BASES[keeper.role],
        areas=sorted({area for area, *_rest in checked}),
        ratings=len(checked),
    )
    chronicle(
        actor,
        plan.child_id,
        "plan_reviewed",
        owner_agency_id=keeper.agency_id,
        object_type="plan_review",
        public_id=review.public_id,
        areas=sorted({area for area, *_rest in checked}),
    )
    return review


@refusals_audited("add_plan_review_ratings")
def add_agency_ratings(actor: Actor, plan: Plan, review: Review, ratings: Sequence[RatingData]) -> list[Rating]:
    """Staff of an agency with a current member on the child's team (and a relation to the child) add
    their agency's professional ratings to a review of the active plan: the professionals' voice only,
    the acting agency's record, rated by the actor; one rating per area and agency at a review."""
    active_or_refuse(plan)
    if review.plan_id != plan.id or review.child_id != plan.child_id:
        raise OperationError(_("That review is not this plan's"), "form")
    acting = getattr(actor, "acting_agency", None)
    basis = relations_basis(actor, plan.child) if getattr(actor, "kind", None) == STAFF else None
    if acting is None or basis is None or not agency_on_team(plan.child_id, acting.id):
        raise OperationError(_("Only staff of an agency on the child's team can add their agency's ratings"), "form")
    for rating in ratings:
        if rating.voice != PROFESSIONALS:
            raise OperationError(_("Add only your agency's professional ratings"), "ratings")
    checked = _checked_ratings(ratings)
    already = set(
        db.session.scalars(
            select(Rating.area).where(
                Rating.review_id == review.id, Rating.voice == PROFESSIONALS, Rating.agency_id == acting.id
            )
        )
    )
    for area, voice, _scale, _comment in checked:
        if area in already:
            raise OperationError(_("Your agency has already rated this area at this review"), rating_field(area, voice))
    person_id = actor.account.staff_person_id
    added = [
        Rating(
            area=area,
            voice=PROFESSIONALS,
            scale=scale,
            comment=comment,
            agency_id=acting.id,
            rated_by_id=person_id,
            is_withheld_from_guardians=False,
        )
        for area, _voice, scale, comment in checked
    ]
    review.ratings.extend(added)
    db.session.flush()
    areas = sorted({rating.area for rating in added})
    audit_write(
        actor,
        "add_plan_review_ratings",
        plan.child_id,
        "plan_review",
        review.public_id,
        basis,
        areas=areas,
        ratings=len(added),
    )
    chronicle(
        actor,
        plan.child_id,
        "plan_reviewed",
        owner_agency_id=acting.id,
        object_type="plan_review",
        public_id=review.public_id,
        areas=areas,
    )
    return added
