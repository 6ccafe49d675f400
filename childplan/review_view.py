"""Reviews of the Child's Plan as one member of staff may see them (RULES.md §4), with the compass wheel and
the trend across the plan's reviews (the writes are ``childplan.operations.reviews``).

``ReviewView.for_actor`` decides every rating on its own, computed on every call: the professionals' rating
of another agency is shown only while the viewer's agency's coordination consent covers its area; the
child's and the guardians' ratings are plan-level items of the keeper's agency (the plan's agency). A
withheld rating is a withheld cell with the reason, left out of the wheel; a viewer whose agency holds no
coordination consent sees no withheld cells (nothing tells it what else the review holds).

The wheel and the trend draw one professionals' band per area (the plan keeper's agency's rating first);
every professional rating the viewer may see is also listed with its agency ("Ratings by agency"), so no
agency's rating is averaged or hidden away. ``ReviewView.for_family`` is the review for a guardian (no
rating withheld from guardians: it does not exist for them) or the young person (who sees them, marked)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import raiseload, selectinload

from agencies.models import Agency
from childplan import wheel
from childplan.compass import AREA_CODES, AREAS, BY_CODE
from childplan.models import Plan, Rating, Review
from childplan.wheel import PROFESSIONALS, TrendChart, build_trend_chart
from coordination.access import (
    WITHHELD_AREAS,
    WITHHELD_NO_CONSENT,
    ChildAccess,
    Decision,
    may_see_item,
)
from coordination.children.models import Child
from coordination.database import db

PURPOSE = "coordination"
GUARDIAN_VIEWER = "guardian"
YOUNG_PERSON_VIEWER = "young_person"

WITHHELD_REASONS = {
    WITHHELD_NO_CONSENT: _l("Withheld: your agency has no consent for coordination"),
    WITHHELD_AREAS: _l("Withheld: your agency's consent does not cover this area"),
}


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


@dataclass(frozen=True)
class AgencyRating:
    """One agency's professional rating of one area at the review (plain values)."""

    area: str
    area_label: object
    css_class: str
    agency: str
    scale: int
    words: object
    comment: str | None
    is_own_agency: bool
    withheld_from_guardians: bool  # staff of the owning agency and the young person; never for a guardian
    withheld_reason: str | None  # the recorded reason: staff of the owning agency only


# (the ratings shown by (area, voice), the withheld cells' reasons by (area, voice), every professional
# rating shown) for one review
_Split = tuple[dict[tuple[str, str], Rating], dict[tuple[str, str], str], list[Rating]]


@dataclass
class ReviewView:
    """One review for one viewer: plain values only."""

    child_public_id: str
    public_id: str
    held_on: date
    note: str | None
    wheel: wheel.Wheel
    withheld: list[WithheldRating] = field(default_factory=list)
    trend_dates: tuple[date, ...] = ()
    trend_review_ids: tuple[str, ...] = ()
    trend: list[TrendArea] = field(default_factory=list)
    agency_ratings: list[AgencyRating] = field(default_factory=list)
    own_rated_areas: frozenset[str] = frozenset()  # the areas the viewer's agency rated at this review

    @property
    def trend_chart(self) -> TrendChart:
        """The trend drawn (server-side SVG): the same values as the table; a withheld or missing cell is a gap."""
        return build_trend_chart(
            self.trend_dates,
            [
                (area.code, [(line.voice, [cell.scale for cell in line.cells]) for line in area.lines])
                for area in self.trend
            ],
        )

    @classmethod
    def for_actor(cls, access: ChildAccess, plan: Plan, review_public_id: str) -> ReviewView | None:
        """The review (looked up by its public id among this plan's reviews), or None when there is none.
        Three statements, however many reviews and ratings the plan holds."""
        if plan.child_id != access.child.id:
            raise ValueError("the plan is not this child's")
        reviews = _reviews_of(plan, access.child.id)
        current = next((review for review in reviews if review.public_id == review_public_id), None)
        if current is None:
            return None
        actor = access.actor
        assert actor.acting_agency is not None  # staff reached the child (for_family is the families' view)
        own = actor.acting_agency.id
        consented = bool(access.picture.areas_for(own, PURPOSE))
        decisions: dict[tuple[int, str], Decision] = {}

        def decide(rating: Rating) -> Decision:
            owner = rating.agency_id if rating.voice == PROFESSIONALS and rating.agency_id else plan.agency_id
            key = (owner, rating.area)
            if key not in decisions:
                decisions[key] = may_see_item(access, owner, PURPOSE, {rating.area})
            return decisions[key]

        def split(review: Review) -> _Split:
            shown: dict[tuple[str, str], Rating] = {}
            withheld: dict[tuple[str, str], str] = {}
            professionals: list[Rating] = []
            for rating in _ordered(review, plan.agency_id):
                key = (rating.area, rating.voice)
                decision = decide(rating)
                if decision:
                    shown.setdefault(key, rating)
                    if rating.voice == PROFESSIONALS:
                        professionals.append(rating)
                elif consented:
                    withheld.setdefault(key, decision.reason)
            return shown, withheld, professionals

        note_shown = current.note is not None and bool(
            may_see_item(access, current.agency_id, PURPOSE, frozenset(AREA_CODES))
        )
        view = cls._assemble(
            access.child.public_id,
            reviews,
            current,
            split,
            note=current.note if note_shown else None,
            own_agency_id=own,
            show_withheld=lambda rating: rating.agency_id == own,
            show_reason=True,
        )
        view.own_rated_areas = frozenset(
            rating.area for rating in current.ratings if rating.voice == PROFESSIONALS and rating.agency_id == own
        )
        return view

    @classmethod
    def for_family(cls, plan: Plan, child: Child, viewer_kind: str, review_public_id: str) -> ReviewView | None:
        """The review for a guardian or the young person, whose access the caller has established
        (custody / the young person's own login), or None when the plan has no such review. A rating
        withheld from guardians does not exist for a guardian (not in the wheel, the trend, the list of
        agencies' ratings, nor as a withheld cell); the young person sees it, marked."""
        if viewer_kind not in (GUARDIAN_VIEWER, YOUNG_PERSON_VIEWER):
            raise ValueError("viewer_kind is guardian or young_person")
        if plan.child_id != child.id:
            raise ValueError("the plan is not this child's")
        reviews = _reviews_of(plan, child.id)
        current = next((review for review in reviews if review.public_id == review_public_id), None)
        if current is None:
            return None
        is_guardian = viewer_kind == GUARDIAN_VIEWER

        def split(review: Review) -> _Split:
            shown: dict[tuple[str, str], Rating] = {}
            professionals: list[Rating] = []
            for rating in _ordered(review, plan.agency_id):
                if is_guardian and rating.is_withheld_from_guardians:
                    continue
                shown.setdefault((rating.area, rating.voice), rating)
                if rating.voice == PROFESSIONALS:
                    professionals.append(rating)
            return shown, {}, professionals

        return cls._assemble(
            child.public_id,
            reviews,
            current,
            split,
            note=current.note,
            own_agency_id=None,
            show_withheld=lambda _rating: not is_guardian,
            show_reason=False,
        )

    @classmethod
    def _assemble(
        cls,
        child_public_id: str,
        reviews: list[Review],
        current: Review,
        split: Callable[[Review], _Split],
        *,
        note: str | None,
        own_agency_id: int | None,
        show_withheld: Callable[[Rating], bool],
        show_reason: bool,
    ) -> ReviewView:
        splits = [split(review) for review in reviews]
        current_shown, current_withheld, current_professionals = splits[reviews.index(current)]
        built = wheel.build_wheel(
            wheel.Rating(area, r.scale, voice, r.comment) for (area, voice), r in current_shown.items()
        )
        view = cls(
            child_public_id=child_public_id,
            public_id=current.public_id,
            held_on=current.held_on,
            note=note,
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
        names = _agency_names({rating.agency_id for rating in current_professionals if rating.agency_id})
        position = {code: index for index, code in enumerate(AREA_CODES)}
        for rating in sorted(current_professionals, key=lambda r: (position[r.area], names.get(r.agency_id, ""))):
            marked = show_withheld(rating) and rating.is_withheld_from_guardians
            view.agency_ratings.append(
                AgencyRating(
                    area=rating.area,
                    area_label=BY_CODE[rating.area].label,
                    css_class=BY_CODE[rating.area].css_class,
                    agency=names.get(rating.agency_id, ""),
                    scale=rating.scale,
                    words=wheel.RATING_WORDS[rating.scale],
                    comment=rating.comment,
                    is_own_agency=own_agency_id is not None and rating.agency_id == own_agency_id,
                    withheld_from_guardians=marked,
                    withheld_reason=rating.withheld_reason if marked and show_reason else None,
                )
            )
        visible = wheel.trend(
            wheel.ReviewRatings(
                review.held_on,
                tuple(wheel.Rating(area, r.scale, voice, r.comment) for (area, voice), r in shown.items()),
            )
            for review, (shown, _held, _professionals) in zip(reviews, splits, strict=True)
        )
        rated_voices = {voice.code for voice in visible.voices}
        withheld_voices = {key[1] for _shown, held, _professionals in splits for key in held}
        voices = [voice for voice in wheel.VOICES if voice in rated_voices | withheld_voices]
        for area in AREAS:
            lines = []
            for voice in voices:
                values = visible.series(area.code, voice).values if voice in rated_voices else (None,) * len(reviews)
                cells = []
                for value, (_shown, held, _professionals) in zip(values, splits, strict=True):
                    if value is not None:
                        cells.append(TrendCell(value, wheel.RATING_WORDS[value]))
                    else:
                        cells.append(TrendCell(None, None, held.get((area.code, voice))))
                lines.append(TrendLine(voice, wheel.VOICE_LABELS[voice], tuple(cells)))
            view.trend.append(TrendArea(area.code, area.label, area.css_class, tuple(lines)))
        return view


def _reviews_of(plan: Plan, child_id: int) -> list[Review]:
    """The plan's reviews with their ratings, oldest first: two statements."""
    return list(
        db.session.scalars(
            select(Review)
            .where(Review.plan_id == plan.id, Review.child_id == child_id)
            .options(selectinload(Review.ratings).raiseload("*"), raiseload("*"))
            .order_by(Review.held_on, Review.id)
        )
    )


def _ordered(review: Review, keeper_agency_id: int) -> list[Rating]:
    """A review's ratings, the plan keeper's agency's first (its professional rating is the one drawn in
    the wheel when several agencies rated an area), then in the order they were recorded."""
    return sorted(
        review.ratings,
        key=lambda r: (r.voice == PROFESSIONALS and r.agency_id != keeper_agency_id, r.id or 0),
    )


def _agency_names(agency_ids: set[int]) -> dict[int | None, str]:
    if not agency_ids:
        return {}
    rows = db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids)))
    return {agency_id: name for agency_id, name in rows}


def own_professional_rating(access: ChildAccess, plan: Plan, review_public_id: str, area: str) -> Rating | None:
    """The viewer's own agency's professional rating of one area at one of this child's plan's reviews,
    looked up through the child and the plan; None for anything else (another agency's rating included)."""
    actor = access.actor
    if actor.acting_agency is None or area not in AREA_CODES:
        return None
    return db.session.scalar(
        select(Rating)
        .join(Review, Review.id == Rating.review_id)
        .where(
            Review.public_id == review_public_id,
            Review.plan_id == plan.id,
            Review.child_id == access.child.id,
            Rating.area == area,
            Rating.voice == PROFESSIONALS,
            Rating.agency_id == actor.acting_agency.id,
        )
    )


def review_of(access: ChildAccess, plan: Plan, review_public_id: str) -> Review | None:
    """One of this child's plan's reviews, looked up through the child and the plan."""
    return db.session.scalar(
        select(Review).where(
            Review.public_id == review_public_id, Review.plan_id == plan.id, Review.child_id == access.child.id
        )
    )
