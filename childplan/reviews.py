"""Reviews of the Child's Plan: the plan keeper records a review with Needs Compass ratings (1–5) from the
professionals (the keeper's agency), and as told at the review the child and the guardians; and the review
as one member of staff may see it (RULES.md §4), with the compass wheel and the trend across the plan's
reviews.

``record_review`` checks who may write and every input before anything is written (``OperationError``
with the field), flushes and audits the write in the same transaction; the caller commits. There is no
chronology kind for reviews (coordination.chronology.models), so a review makes no chronology entry.

``ReviewView.for_actor`` decides every rating on its own, computed on every call: the professionals' rating
of another agency is shown only while the viewer's agency's coordination consent covers its area; the
child's and the guardians' ratings are plan-level items of the keeper's agency (the plan's agency). A
withheld rating is a withheld cell with the reason, left out of the wheel; a viewer whose agency holds no
coordination consent sees no withheld cells (nothing tells it what else the review holds)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import raiseload, selectinload

from childplan import wheel
from childplan.compass import AREA_CODES, AREAS
from childplan.models import PLAN_TEXT_MAX, RATING_VOICES, Plan, Rating, Review
from childplan.operations.common import KEEPER_BASES, audit_write, chronicle, clean_text, keeper_of_active_plan
from coordination.access import WITHHELD_AREAS, WITHHELD_NO_CONSENT, ChildAccess, may_see_item
from coordination.audit import refusals_audited
from coordination.clock import now, today
from coordination.consent.common import _
from coordination.database import db
from coordination.errors import OperationError

PURPOSE = "coordination"
COMMENT_MAX = 1000
NOTE_MAX = PLAN_TEXT_MAX
PROFESSIONALS = "professionals"

WITHHELD_REASONS = {
    WITHHELD_NO_CONSENT: _l("Withheld: your agency has no consent for coordination"),
    WITHHELD_AREAS: _l("Withheld: your agency's consent does not cover this area"),
}


def rating_field(area: str, voice: str) -> str:
    """The form field (and the refusal's field) of one voice's rating of one area."""
    return f"rating_{area}_{voice}"


def comment_field(area: str, voice: str) -> str:
    return f"comment_{area}_{voice}"


# -- writing --------------------------------------------------------------------------------------------------
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
def record_review(actor, plan: Plan, data: ReviewData) -> Review:  # type: ignore[no-untyped-def]
    """The plan keeper records a review: when it was held (not in the future), a note, and at least one
    rating. The professionals' ratings are the keeper's agency's record, rated by the keeper; the child's
    and the guardians' are recorded as they were told at the review."""
    keeper = keeper_of_active_plan(actor, plan)
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


# -- reading --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrendCell:
    scale: int | None
    words: object | None
    withheld_reason: str | None = None

    @property
    def reason_text(self) -> object | None:
        return WITHHELD_REASONS[self.withheld_reason] if self.withheld_reason else None


@dataclass(frozen=True)
class TrendLine:
    voice: str
    voice_label: object
    cells: tuple[TrendCell, ...]


@dataclass(frozen=True)
class TrendArea:
    code: str
    label: object
    css_class: str
    lines: tuple[TrendLine, ...]


@dataclass(frozen=True)
class WithheldRating:
    area: str
    area_label: object
    voice: str
    voice_label: object
    reason: str

    @property
    def reason_text(self) -> object:
        return WITHHELD_REASONS[self.reason]


@dataclass
class ReviewView:
    """One review for one member of staff: plain values only."""

    child_public_id: str
    public_id: str
    held_on: date
    note: str | None
    wheel: wheel.Wheel
    withheld: list[WithheldRating] = field(default_factory=list)
    trend_dates: tuple[date, ...] = ()
    trend_review_ids: tuple[str, ...] = ()
    trend: list[TrendArea] = field(default_factory=list)

    @classmethod
    def for_actor(cls, access: ChildAccess, plan: Plan, review_public_id: str) -> ReviewView | None:
        """The review (looked up by its public id among this plan's reviews), or None when there is none.
        Two statements, however many reviews and ratings the plan holds."""
        if plan.child_id != access.child.id:
            raise ValueError("the plan is not this child's")
        reviews = list(
            db.session.scalars(
                select(Review)
                .where(Review.plan_id == plan.id, Review.child_id == access.child.id)
                .options(selectinload(Review.ratings).raiseload("*"), raiseload("*"))
                .order_by(Review.held_on, Review.id)
            )
        )
        current = next((review for review in reviews if review.public_id == review_public_id), None)
        if current is None:
            return None
        actor = access.actor
        consented = bool(access.picture.areas_for(actor.acting_agency.id, PURPOSE))
        decisions: dict[tuple[int, str], object] = {}

        def decide(rating: Rating):  # type: ignore[no-untyped-def]
            owner = rating.agency_id if rating.voice == PROFESSIONALS and rating.agency_id else plan.agency_id
            key = (owner, rating.area)
            if key not in decisions:
                decisions[key] = may_see_item(access, owner, PURPOSE, {rating.area})
            return decisions[key]

        def split(review: Review) -> tuple[dict[tuple[str, str], Rating], dict[tuple[str, str], str]]:
            shown: dict[tuple[str, str], Rating] = {}
            withheld: dict[tuple[str, str], str] = {}
            for rating in review.ratings:
                key = (rating.area, rating.voice)
                decision = decide(rating)
                if decision:
                    shown.setdefault(key, rating)
                elif consented:
                    withheld.setdefault(key, decision.reason)  # type: ignore[attr-defined]
            return shown, withheld

        splits = [split(review) for review in reviews]
        current_shown, current_withheld = splits[reviews.index(current)]
        built = wheel.build_wheel(
            wheel.Rating(area, r.scale, voice, r.comment) for (area, voice), r in current_shown.items()
        )
        note_shown = current.note is not None and bool(
            may_see_item(access, current.agency_id, PURPOSE, frozenset(AREA_CODES))
        )
        view = cls(
            child_public_id=access.child.public_id,
            public_id=current.public_id,
            held_on=current.held_on,
            note=current.note if note_shown else None,
            wheel=built,
            withheld=[
                WithheldRating(
                    area.code, area.label, voice, wheel.VOICE_LABELS[voice], current_withheld[(area.code, voice)]
                )
                for area in AREAS
                for voice in wheel.VOICES
                if (area.code, voice) in current_withheld
            ],
            trend_dates=tuple(review.held_on for review in reviews),
            trend_review_ids=tuple(review.public_id for review in reviews),
        )
        visible = wheel.trend(
            wheel.ReviewRatings(
                review.held_on,
                tuple(wheel.Rating(area, r.scale, voice, r.comment) for (area, voice), r in shown.items()),
            )
            for review, (shown, _held) in zip(reviews, splits, strict=True)
        )
        rated_voices = {voice.code for voice in visible.voices}
        withheld_voices = {key[1] for _shown, held in splits for key in held}
        voices = [voice for voice in wheel.VOICES if voice in rated_voices | withheld_voices]
        for area in AREAS:
            lines = []
            for voice in voices:
                values = visible.series(area.code, voice).values if voice in rated_voices else (None,) * len(reviews)
                cells = []
                for value, (_shown, held) in zip(values, splits, strict=True):
                    if value is not None:
                        cells.append(TrendCell(value, wheel.RATING_WORDS[value]))
                    else:
                        cells.append(TrendCell(None, None, held.get((area.code, voice))))
                lines.append(TrendLine(voice, wheel.VOICE_LABELS[voice], tuple(cells)))
            view.trend.append(TrendArea(area.code, area.label, area.css_class, tuple(lines)))
        return view
