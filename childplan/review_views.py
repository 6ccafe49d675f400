"""Reviews of the Child's Plan: compass ratings from every voice, and the wheel.

``/children/<child_id>/plan/reviews/new`` (GET form, POST): the plan keeper records a review; anyone else
who reached the child gets 404 (audited). ``/children/<child_id>/plan/reviews/<review_id>``: the review as
the viewer may see it (``childplan.reviews.ReviewView``), looked up by its public id AND the child's plan.
Forms work without JavaScript; a refusal shows the form again (422) with every choice kept; one commit per
request."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from childplan import wheel
from childplan.compass import AREAS
from childplan.models import Plan
from childplan.operations.common import is_keeper, plan_keeper
from childplan.reviews import (
    COMMENT_MAX,
    NOTE_MAX,
    RatingData,
    ReviewData,
    ReviewView,
    comment_field,
    rating_field,
    record_review,
)
from coordination import audit
from coordination.access import STAFF, ChildAccess, get_child_or_404, refuse_404
from coordination.consent_view import ChildHeading
from coordination.database import db
from coordination.errors import OperationError
from coordination.policies import policy
from coordination.views import current_actor

reviews = Blueprint("reviews", __name__)

NEW_PAGE = "plan_review_new_page"
VIEW_REVIEW = "view_plan_review"
MAX_ID_LENGTH = 64


def _rating_choices() -> list[tuple[str, object]]:
    return [("", _l("Not rated")), *((str(scale), f"{scale} – {wheel.RATING_WORDS[scale]}") for scale in wheel.SCALE)]


class ReviewForm(FlaskForm):
    """When the review was held, a note, and per area and voice a rating (1–5 or not rated) and a comment.
    The rating fields are added below, one per area and voice; the choice is checked by the operation
    (so a value outside 1–5 is refused next to its field)."""

    held_on = DateField(_l("Date of the review"), validators=[InputRequired(_l("Enter the date of the review"))])
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("Write at most %(max)d characters"))],
    )


for _area in AREAS:
    for _voice in wheel.VOICES:
        setattr(
            ReviewForm,
            rating_field(_area.code, _voice),
            SelectField(
                _l("%(area)s: %(voice)s", area=_area.label, voice=wheel.VOICE_LABELS[_voice]),
                choices=[],
                validate_choice=False,
                default="",
            ),
        )
        setattr(
            ReviewForm,
            comment_field(_area.code, _voice),
            TextAreaField(
                _l("Comment"),
                validators=[Optional(), Length(max=COMMENT_MAX, message=_l("Write at most %(max)d characters"))],
            ),
        )


def _form() -> ReviewForm:
    form = ReviewForm()
    choices = _rating_choices()
    for area in AREAS:
        for voice in wheel.VOICES:
            form[rating_field(area.code, voice)].choices = choices
    return form


def _ratings(form: ReviewForm) -> list[RatingData]:
    """The cells with a rating or a comment; a value that is not a whole number is refused at its field."""
    ratings = []
    for area in AREAS:
        for voice in wheel.VOICES:
            raw = (form[rating_field(area.code, voice)].data or "").strip()
            comment = form[comment_field(area.code, voice)].data
            if not raw and not (comment or "").strip():
                continue
            if raw and not raw.lstrip("-").isdigit():
                raise OperationError(_("Choose a rating from 1 to 5"), rating_field(area.code, voice))
            ratings.append(RatingData(area.code, voice, int(raw) if raw else None, comment))
    return ratings


def _staff_access(child_id: str, action: str) -> ChildAccess:
    actor = current_actor()
    if actor is None:
        abort(404)
    if actor.kind != STAFF or actor.acting_agency is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            object_type="child",
            object_id=(child_id or "")[:MAX_ID_LENGTH],
            detail={"reason": "not_staff"},
        )
        abort(404)
    return get_child_or_404(actor, child_id, action=action)


def _plan_of(access: ChildAccess, action: str) -> Plan:
    plan = db.session.scalar(select(Plan).where(Plan.child_id == access.child.id))
    if plan is None:
        refuse_404(access, action, "no_plan")
    return plan


def _keeper_access(child_id: str) -> tuple[ChildAccess, Plan]:
    """The plan keeper of the child's active plan; anyone else who reached the child: 404 (audited)."""
    access = _staff_access(child_id, NEW_PAGE)
    if not is_keeper(access.actor, plan_keeper(access.child.id)):
        refuse_404(access, NEW_PAGE, "not_plan_keeper")
    plan = _plan_of(access, NEW_PAGE)
    if plan.status != "active":
        refuse_404(access, NEW_PAGE, "plan_closed")
    return access, plan


def _render_form(access: ChildAccess, form: ReviewForm, status: int = 200):  # type: ignore[no-untyped-def]
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
def new(child_id: str):  # type: ignore[no-untyped-def]
    access, _plan = _keeper_access(child_id)
    return _render_form(access, _form())


@reviews.post("/children/<child_id>/plan/reviews/new")
@policy("staff")
def create(child_id: str):  # type: ignore[no-untyped-def]
    access, plan = _keeper_access(child_id)
    form = _form()
    if not form.validate_on_submit():
        return _render_form(access, form, 422)
    try:
        review = record_review(
            access.actor, plan, ReviewData(held_on=form.held_on.data, note=form.note.data, ratings=_ratings(form))
        )
        review_id = review.public_id
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        target = form._fields.get(error.field) if error.field else None
        if target is not None:
            target.errors = [*list(target.errors or ()), error.message]
        else:
            form.form_errors.append(error.message)
        return _render_form(access, form, 422)
    flash(_("The review is recorded."), "success")
    return redirect(url_for("reviews.show", child_id=child_id, review_id=review_id))


@reviews.get("/children/<child_id>/plan/reviews/<review_id>")
@policy("staff")
def show(child_id: str, review_id: str):  # type: ignore[no-untyped-def]
    access = _staff_access(child_id, VIEW_REVIEW)
    plan = _plan_of(access, VIEW_REVIEW)
    view = ReviewView.for_actor(access, plan, review_id[:MAX_ID_LENGTH])
    if view is None:
        audit.note_denied(
            access.actor.audit_actor(),
            VIEW_REVIEW,
            child_id=access.child.id,
            object_type="plan_review",
            object_id=review_id[:MAX_ID_LENGTH],
            detail={"reason": "not_found"},
        )
        abort(404)
    audit.note_read(
        access.actor.audit_actor(),
        VIEW_REVIEW,
        child_id=access.child.id,
        object_type="plan_review",
        object_id=view.public_id,
        legal_basis=access.legal_basis,
    )
    return render_template(
        "childplan/review.html",
        child=ChildHeading.of(access),
        review=view,
        is_keeper=is_keeper(access.actor, plan_keeper(access.child.id)) and plan.status == "active",
        new_url=url_for("reviews.new", child_id=access.child.public_id),
    )
