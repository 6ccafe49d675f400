"""Reviews of the Child's Plan: compass ratings from every voice, and the wheel.

``/children/<child_id>/plan/reviews/new`` (GET form, POST): the plan keeper records a review; anyone else
who reached the child gets 404 (audited). ``/children/<child_id>/plan/reviews/<review_id>``: the review as
the viewer may see it (``childplan.review_view.ReviewView``), looked up by its public id AND the child's plan.
On it, staff of another agency on the child's team add their agency's professional ratings
(``…/<review_id>/ratings``), and the owning agency's staff withhold one of their agency's ratings from
guardians (``…/<review_id>/ratings/<area>/withhold``, a required reason); anyone else: 404, audited.
Forms work without JavaScript; a refusal shows the form again (422) with every choice kept; one commit per
request."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from childplan import wheel
from childplan.access import get_keeper_or_404, get_plan_or_404, get_review_or_404, may_add_ratings
from childplan.compass import AREAS
from childplan.forms import AgencyRatingsForm, ReviewForm, WithholdForm, agency_ratings_form, review_form
from childplan.models import Plan, Review
from childplan.operations import mark_withheld_from_guardians
from childplan.operations.reviews import (
    RatingData,
    ReviewData,
    add_agency_ratings,
    comment_field,
    rating_field,
    record_review,
)
from childplan.review_view import ReviewView, own_professional_rating, review_of
from childplan.views.blueprints import reviews
from childplan.wheel import PROFESSIONALS
from coordination import audit
from coordination.access import ChildAccess, get_child_or_404, is_keeper, plan_keeper, refuse_404
from coordination.consent.forms import apply_operation_error
from coordination.consent.view import ChildHeading
from coordination.errors import OperationError
from coordination.form_writes import write_and_commit
from coordination.policies import policy, signed_in_actor

NEW_PAGE = "plan_review_new_page"
VIEW_REVIEW = "view_plan_review"
MAX_ID_LENGTH = 64


def _ratings(form: FlaskForm, voices: tuple[str, ...] = wheel.VOICES) -> list[RatingData]:
    """The cells with a rating or a comment; a value that is not a whole number is refused at its field."""
    ratings = []
    for area in AREAS:
        for voice in voices:
            raw = (form[rating_field(area.code, voice)].data or "").strip()
            comment = form[comment_field(area.code, voice)].data
            if not raw and not (comment or "").strip():
                continue
            if raw and not re.fullmatch(r"-?[0-9]{1,6}", raw):
                raise OperationError(_("Choose a rating from 1 to 5"), rating_field(area.code, voice))
            ratings.append(RatingData(area.code, voice, int(raw) if raw else None, comment))
    return ratings


def _render_form(access: ChildAccess, form: ReviewForm, status: int = 200) -> ResponseReturnValue:
    rows = [
        {
            "code": area.code,
            "label": area.label,
            "css_class": area.css_class,
            "cells": [
                {
                    "voice": voice,
                    "rating": form[rating_field(area.code, voice)],
                    "comment": form[comment_field(area.code, voice)],
                }
                for voice in wheel.VOICES
            ],
        }
        for area in AREAS
    ]
    return (
        render_template(
            "childplan/review_new.html",
            child=ChildHeading.of(access),
            form=form,
            rows=rows,
            voices=[(voice, wheel.VOICE_LABELS[voice]) for voice in wheel.VOICES],
            action_url=url_for("reviews.create", child_id=access.child.public_id),
        ),
        status,
    )


@reviews.get("/children/<child_id>/plan/reviews/new")
@policy("staff")
def new(child_id: str) -> ResponseReturnValue:
    access = get_child_or_404(signed_in_actor(), child_id, action=NEW_PAGE)
    get_keeper_or_404(access, NEW_PAGE)
    if get_plan_or_404(access, NEW_PAGE).status != "active":
        refuse_404(access, NEW_PAGE, "plan_closed")
    return _render_form(access, review_form())


@reviews.post("/children/<child_id>/plan/reviews/new")
@policy("staff")
def create(child_id: str) -> ResponseReturnValue:
    access = get_child_or_404(signed_in_actor(), child_id, action=NEW_PAGE)
    get_keeper_or_404(access, NEW_PAGE)
    plan = get_plan_or_404(access, NEW_PAGE)
    if plan.status != "active":
        refuse_404(access, NEW_PAGE, "plan_closed")
    form = review_form()
    if not form.validate_on_submit():
        return _render_form(access, form, 422)
    recorded: list[Review] = []

    def write() -> None:
        data = ReviewData(held_on=form.held_on.data, note=form.note.data, ratings=_ratings(form))
        recorded.append(record_review(access.actor, plan, data))

    status = write_and_commit(form, write, apply_operation_error)
    if status:
        return _render_form(access, form, status)
    review_id = recorded[0].public_id
    flash(_("The review is recorded."), "success")
    return redirect(url_for("reviews.show", child_id=child_id, review_id=review_id))


def _withhold_prefix(area: str) -> str:
    return f"withhold-{area}-"


def _render_review(
    access: ChildAccess,
    plan: Plan,
    view: ReviewView,
    *,
    agency_form: AgencyRatingsForm | None = None,
    withhold_form: WithholdForm | None = None,
    withhold_area: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    may_add = may_add_ratings(access, plan)

    def offered(code: str) -> bool:
        """An area the agency has not rated yet, or one the refused form holds input or a message for."""
        if code not in view.own_rated_areas:
            return True
        if agency_form is None:
            return False
        fields = (agency_form[rating_field(code, PROFESSIONALS)], agency_form[comment_field(code, PROFESSIONALS)])
        return any(field.data or field.errors for field in fields)

    unrated = [area for area in AREAS if offered(area.code)]
    rows = []
    if may_add and unrated:
        agency_form = agency_form or agency_ratings_form(from_request=False)
        rows = [
            {
                "code": area.code,
                "label": area.label,
                "css_class": area.css_class,
                "rating": agency_form[rating_field(area.code, PROFESSIONALS)],
                "comment": agency_form[comment_field(area.code, PROFESSIONALS)],
            }
            for area in unrated
        ]

    def withhold_form_for(area: str) -> WithholdForm:
        if withhold_form is not None and withhold_area == area:
            return withhold_form
        return WithholdForm(prefix=_withhold_prefix(area), formdata=None)

    return (
        render_template(
            "childplan/review.html",
            child=ChildHeading.of(access),
            review=view,
            is_keeper=is_keeper(access.actor, plan_keeper(access.child.id)) and plan.status == "active",
            new_url=url_for("reviews.new", child_id=access.child.public_id),
            agency_form=agency_form if rows else None,
            agency_rows=rows,
            may_withhold=plan.status == "active",
            withhold_form_for=withhold_form_for,
        ),
        status,
    )


@reviews.get("/children/<child_id>/plan/reviews/<review_id>")
@policy("staff")
def show(child_id: str, review_id: str) -> ResponseReturnValue:
    access = get_child_or_404(signed_in_actor(), child_id, action=VIEW_REVIEW)
    plan, view = get_review_or_404(access, review_id, VIEW_REVIEW)
    audit.note_read(
        access.actor.audit_actor(),
        VIEW_REVIEW,
        child_id=access.child.id,
        object_type="plan_review",
        object_id=view.public_id,
        legal_basis=access.legal_basis,
    )
    return _render_review(access, plan, view)


@reviews.post("/children/<child_id>/plan/reviews/<review_id>/ratings")
@policy("staff")
def add_ratings(child_id: str, review_id: str) -> ResponseReturnValue:
    """Staff of an agency on the child's team add their agency's professional ratings to the review."""
    action = "add_plan_review_ratings"
    access = get_child_or_404(signed_in_actor(), child_id, action=action)
    plan, view = get_review_or_404(access, review_id, action)
    if not may_add_ratings(access, plan):
        refuse_404(access, action, "agency_not_on_team")
    review = review_of(access, plan, view.public_id)
    assert review is not None
    form = agency_ratings_form()
    if not form.validate_on_submit():
        return _render_review(access, plan, view, agency_form=form, status=422)
    status = write_and_commit(
        form,
        lambda: add_agency_ratings(access.actor, plan, review, _ratings(form, (PROFESSIONALS,))),
        apply_operation_error,
    )
    if status:
        view = ReviewView.for_actor(access, plan, view.public_id) or view
        return _render_review(access, plan, view, agency_form=form, status=status)
    flash(_("Your agency's ratings are added to the review."), "success")
    return redirect(url_for("reviews.show", child_id=child_id, review_id=view.public_id))


@reviews.post("/children/<child_id>/plan/reviews/<review_id>/ratings/<area>/withhold")
@policy("staff")
def withhold_rating(child_id: str, review_id: str, area: str) -> ResponseReturnValue:
    """Staff of the agency whose professional rating it is withhold it from guardians, with a reason."""
    action = "withhold_plan_rating"
    access = get_child_or_404(signed_in_actor(), child_id, action=action)
    plan, view = get_review_or_404(access, review_id, action)
    wanted = (area or "")[:MAX_ID_LENGTH]
    rating = own_professional_rating(access, plan, view.public_id, wanted)
    if rating is None or plan.status != "active":
        audit.note_denied(
            access.actor.audit_actor(),
            action,
            child_id=access.child.id,
            object_type="plan_rating",
            object_id=f"{view.public_id}:{wanted}"[:MAX_ID_LENGTH],
            detail={"reason": "not_a_rating_of_your_agency"},
        )
        abort(404)
    form = WithholdForm(prefix=_withhold_prefix(rating.area))
    if not form.validate_on_submit():
        return _render_review(access, plan, view, withhold_form=form, withhold_area=rating.area, status=422)
    status = write_and_commit(
        form, lambda: mark_withheld_from_guardians(access.actor, rating, form.reason.data), apply_operation_error
    )
    if status:
        return _render_review(access, plan, view, withhold_form=form, withhold_area=wanted, status=status)
    flash(_("Withheld from guardians. They will not see it in any channel."))
    return redirect(url_for("reviews.show", child_id=child_id, review_id=view.public_id))
