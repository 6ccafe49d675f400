"""The Child's Plan as a PDF to read and print (WeasyPrint), in the viewer's language and filtered for the viewer.

Old BBIC print-outs were "hard to read", so this one is made for reading: the first page says who does
what, and when (a large-type table of the actions the viewer may see, and how to reach the plan keeper);
then why there is a plan, who has overall responsibility, the needs with their goals and how achievement
will be seen, the child's and the guardians' views, where views differ, the next review, the compass
wheel of the latest review the viewer may see, and the parts of the plan the viewer may not see, with the
reason. Large type, generous spacing, the child's first name, the date and the viewer in every footer,
page numbers.

What is printed is exactly what the viewer's ``PlanView`` holds (``PlanView.for_actor`` for staff,
``PlanView.for_family`` for a guardian or the young person), so consent, items withheld from guardians
and protected identity (RULES.md §4, §6, §7) are applied before anything reaches the template. Nothing
is printed that the view model does not carry: no internal ids, no identity number. WeasyPrint fetches
nothing: the stylesheet is passed in, and every URL is refused.

The functions here do not audit: the caller (``childplan.views.pdf`` for staff; the family portal later)
reaches the child through the access core and notes the download."""

from __future__ import annotations

import logging
import re
import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date

from flask import render_template
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import raiseload, selectinload
from weasyprint import CSS, HTML

from agencies.models import Agency
from childplan import wheel
from childplan.access import (
    GUARDIAN_VIEWER,
    WITHHELD_REASONS,
    YOUNG_PERSON_VIEWER,
    PlanView,
    reviews_listed,
)
from childplan.compass import AREAS
from childplan.forms import CLOSE_REASON_LABELS
from childplan.labels import CLOSED_STATUSES, STATUS_LABELS
from childplan.models import Plan, Rating, Review
from childplan.review_view import ReviewView, WithheldRating
from coordination.access import ChildAccess
from coordination.children.models import Child, Guardian, age_in_years
from coordination.clock import today
from coordination.database import db

DOWNLOAD_PLAN_PDF = "download_plan_pdf"
PDF_MIMETYPE = "application/pdf"
_PAGE = "\x00page\x00"
_PAGES = "\x00pages\x00"


# fontTools (WeasyPrint's font subsetting) logs every table it subsets at INFO and DEBUG: keep its warnings only.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class FetchRefused(ValueError):
    """WeasyPrint asked for a URL: the PDF is built from the template alone."""


def refuse_every_url(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise FetchRefused("the plan PDF fetches nothing")


# -- what the PDF shows beside the plan ------------------------------------------------------------------
@dataclass(frozen=True)
class ChildFacts:
    """The child as the PDF names them: no identity number, no birth date, no id."""

    first_name: str
    full_name: str
    age: int | None

    @classmethod
    def of(cls, child: Child) -> ChildFacts:
        return cls(child.given_name, child.full_name, age_in_years(child.birth_date, today()))


@dataclass(frozen=True)
class LatestReview:
    """The latest review the viewer may see: its date, the wheel of the ratings the viewer may see, and
    the ratings withheld from this viewer (staff only, and only where ``ReviewView`` lists them)."""

    held_on: date
    wheel: wheel.Wheel
    withheld: tuple[WithheldRating, ...] = ()
    shows_ratings_withheld_from_guardians: bool = False  # staff only: a shown rating is withheld from guardians


@dataclass(frozen=True)
class PrintedFor:
    viewer: str  # the viewer's name (and, for staff, the acting agency)
    printed_on: date


# -- rendering ---------------------------------------------------------------------------------------------
def _css_string(text: str) -> str:
    """A CSS string literal holding ``text`` (quotes, backslashes and line breaks escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("\r", "")
    return f'"{escaped}"'


def _page_counter_content() -> str:
    """The translated "Page 1 of 3" as a CSS ``content`` value, the numbers as page counters."""
    words = _("Page %(page)s of %(pages)s", page=_PAGE, pages=_PAGES)
    parts: list[str] = []
    for piece in re.split(f"({_PAGE}|{_PAGES})", words):
        if piece == _PAGE:
            parts.append("counter(page)")
        elif piece == _PAGES:
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def _has_items_withheld_from_guardians(view: PlanView) -> bool:
    return any(need.withheld_from_guardians for need in view.needs) or any(
        action.withheld_from_guardians for action in view.actions
    )


def render_plan_pdf(
    view: PlanView,
    child: ChildFacts,
    review: LatestReview | None,
    printed_for: PrintedFor,
    locale: str | None = None,
) -> bytes:
    """The plan as the viewer may see it, as PDF bytes, in ``locale`` (default: the request's)."""

    with force_locale(locale) if locale else nullcontext():
        language = str(get_locale() or "sv")
        printed_on = format_date(printed_for.printed_on, "d MMMM y")
        stylesheet = render_template("childplan/plan_pdf.css", areas=AREAS, page_counter=_page_counter_content())
        html = render_template(
            "childplan/plan_pdf.html",
            plan=view,
            child=child,
            review=review,
            language=language,
            footer=_(
                "%(child)s · printed %(date)s for %(viewer)s",
                child=child.first_name,
                date=printed_on,
                viewer=printed_for.viewer,
            ),
            printed_on=printed_on,
            today=printed_for.printed_on,
            status_labels=STATUS_LABELS,
            closed_statuses=CLOSED_STATUSES,
            close_reasons=CLOSE_REASON_LABELS,
            areas={area.code: area for area in AREAS},
            withheld_reasons=WITHHELD_REASONS,
            withheld_from_guardians_inside=_has_items_withheld_from_guardians(view)
            or (review is not None and review.shows_ratings_withheld_from_guardians),
        )
    document = HTML(string=html, base_url=None, url_fetcher=refuse_every_url)
    return document.write_pdf(stylesheets=[CSS(string=stylesheet, url_fetcher=refuse_every_url)])


# -- the latest review, for each kind of viewer ----------------------------------------------------------------
def latest_review_for_staff(access: ChildAccess, plan: Plan) -> LatestReview | None:
    """The newest review of the plan, as ``ReviewView`` decides each rating for this member of staff; None
    when there is none, or when the Plan tab would not list the reviews to this viewer."""
    listed = reviews_listed(access, plan)
    if not listed:
        return None
    newest_id, _held_on = listed[0]
    seen = ReviewView.for_actor(access, plan, newest_id)
    if seen is None:
        return None
    # only professional ratings (an agency's record) can be withheld from guardians: compare them by area and
    # agency with the agencies' ratings this viewer is shown, so a hidden one never raises the warning
    withheld_from_guardians = set(
        db.session.execute(
            select(Rating.area, Agency.name)
            .join(Review, Review.id == Rating.review_id)
            .join(Agency, Agency.id == Rating.agency_id)
            .where(
                Review.plan_id == plan.id,
                Review.public_id == newest_id,
                Rating.is_withheld_from_guardians.is_(True),
            )
        ).tuples()
    )
    shown = {(rating.area, rating.agency) for rating in seen.agency_ratings}
    return LatestReview(seen.held_on, seen.wheel, tuple(seen.withheld), bool(shown & withheld_from_guardians))


def latest_review_for_family(plan: Plan, viewer_kind: str) -> LatestReview | None:
    """The newest review for a family viewer: every rating except, for a guardian, those withheld from
    guardians (RULES.md §6). One statement."""
    newest = db.session.scalar(
        select(Review)
        .where(Review.plan_id == plan.id)
        .options(selectinload(Review.ratings).raiseload("*"), raiseload("*"))
        .order_by(Review.held_on.desc(), Review.id.desc())
        .limit(1)
    )
    if newest is None:
        return None
    shown: dict[tuple[str, str], wheel.Rating] = {}
    for rating in sorted(newest.ratings, key=lambda found: found.id):
        if viewer_kind == GUARDIAN_VIEWER and rating.is_withheld_from_guardians:
            continue
        shown.setdefault((rating.area, rating.voice), wheel.Rating(rating.area, rating.scale, rating.voice))
    return LatestReview(newest.held_on, wheel.build_wheel(shown.values()))


# -- one call per kind of viewer -------------------------------------------------------------------------------
def staff_plan_pdf(access: ChildAccess, plan: Plan, locale: str | None = None) -> bytes:
    """The PDF for a member of staff who reached the child through ``get_child_or_404``."""
    actor = access.actor
    view = PlanView.for_actor(plan, access)
    viewer = actor.display_name
    if actor.acting_agency is not None:
        viewer = f"{viewer} ({actor.acting_agency.name})"
    return render_plan_pdf(
        view,
        ChildFacts.of(access.child),
        latest_review_for_staff(access, plan),
        PrintedFor(viewer, today()),
        locale,
    )


def family_plan_pdf(
    plan: Plan, child: Child, viewer_kind: str, guardian_id: int | None = None, locale: str | None = None
) -> bytes:
    """The PDF for a guardian (``guardian_id``) or the young person, whose access the caller established
    (custody / the young person's own login) and whose download the caller audits."""
    view = PlanView.for_family(plan, child, viewer_kind, guardian_id)
    if viewer_kind == YOUNG_PERSON_VIEWER:
        viewer = child.full_name
    else:
        guardian = db.session.get(Guardian, guardian_id)
        viewer = guardian.full_name if guardian is not None else ""
    return render_plan_pdf(
        view, ChildFacts.of(child), latest_review_for_family(plan, viewer_kind), PrintedFor(viewer, today()), locale
    )


def pdf_filename(child: ChildFacts, printed_on: date) -> str:
    """``plan-<first name>-<date>.pdf`` in plain ASCII (accents folded, anything else dropped)."""
    folded = unicodedata.normalize("NFKD", child.first_name).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-") or "child"
    return f"plan-{name[:40]}-{printed_on.isoformat()}.pdf"
