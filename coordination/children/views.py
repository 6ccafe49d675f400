"""The children a staff member may see: search (by name, and by identity number through a POST) and
the child page. Every child is reached through the access core; out of scope is 404."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import or_

from childplan.compass import AREAS
from coordination import audit
from coordination.access import (
    Actor,
    ChildAccess,
    find_child_by_identity_number,
    get_child_or_404,
    identity_lookup_allowed,
    relations_for_children,
    visible_children,
)
from coordination.children.activity import ChildActivity
from coordination.children.family import family_child_rows
from coordination.children.forms import IdentityNumberSearchForm
from coordination.children.models import Child
from coordination.children.operations import number_hash
from coordination.children.view import WITHHELD_BECAUSE, WITHHELD_REASONS, ChildSummary, ChildView, summarise
from coordination.clock import today
from coordination.identity_numbers import InvalidIdentityNumber, parse_identity_number
from coordination.paging import Page, page_number, paginate
from coordination.policies import current_actor, policy, signed_in_actor
from coordination.registration.operations import pending_links_to_decide


@dataclass(frozen=True)
class OverviewSection:
    """A section another package adds to the Overview (the Child's Plan in brief): a template and its
    values, decided by that package through the access core for the viewer."""

    template: str
    values: Mapping[str, object]


# Builders of Overview sections, each ``(access) -> OverviewSection | None``, registered once at import by the
# package that owns the section (coordination imports nothing of the packages above it but the leaf
# childplan/compass.py; coordination/app.py imports childplan.views.overview); rendered in order.
OVERVIEW_SECTIONS: list[Callable[[ChildAccess], OverviewSection | None]] = []


def register_overview_section(
    build: Callable[[ChildAccess], OverviewSection | None],
) -> Callable[[ChildAccess], OverviewSection | None]:
    OVERVIEW_SECTIONS.append(build)
    return build


children = Blueprint("children", __name__)

HOME_TEMPLATES = {
    "staff": "home/staff.html",
    "agency_admin": "home/staff.html",
    "platform_admin": "home/platform_admin.html",
    "analyst": "home/analyst.html",
    "guardian": "home/guardian.html",
    "young_person": "home/young_person.html",
}

MAX_QUERY_LENGTH = 100
NUMBER_ERRORS = {
    "format": lambda: _("Enter 10 or 12 digits: YYYYMMDD-NNNN."),
    "date": lambda: _("Check the identity number: the date in it does not exist."),
    "check_digit": lambda: _("Check the identity number: the last digit does not match."),
}


def children_page(actor: Actor, query: str) -> tuple[Page[Child], list[ChildSummary]]:
    """A page of the children the actor may see, optionally filtered by name, sorted by name."""
    statement = visible_children(actor)
    words = query.split()[:5]
    for word in words:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        statement = statement.where(or_(Child.given_name.ilike(pattern), Child.family_name.ilike(pattern)))
    statement = statement.order_by(Child.family_name, Child.given_name, Child.id)
    page = paginate(statement, page_number())
    relations = relations_for_children(actor, [child.id for child in page.items])
    family_basis = "custody" if actor.kind == "guardian" else "young_person"
    for child in page.items:
        related = relations.get(child.id)
        basis = related[0].legal_basis if related else family_basis
        audit.note_read(
            actor.audit_actor(),
            "list_child",
            child_id=child.id,
            object_type="child",
            object_id=child.public_id,
            legal_basis=basis,
        )
    return page, summarise(page.items, relations)


@children.get("/search")
@policy("staff")
def search() -> ResponseReturnValue:
    actor = signed_in_actor()
    query = (request.args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    page, rows = children_page(actor, query) if query else (None, [])
    return render_template(
        "children/search.html", query=query, page=page, rows=rows, number_form=IdentityNumberSearchForm()
    )


@children.post("/search")
@policy("staff")
def search_by_number() -> ResponseReturnValue:
    """By identity number: a POST (never a URL), rate-limited and audited; the answer is the same for
    an unknown number and for one that is known but out of the viewer's scope."""
    actor = signed_in_actor()
    form = IdentityNumberSearchForm()
    rows: list = []
    searched = False
    if form.validate_on_submit():
        try:
            number = parse_identity_number(form.identity_number.data or "", today=today())
        except InvalidIdentityNumber as error:
            form.identity_number.errors = [NUMBER_ERRORS[error.reason]()]
        else:
            if not identity_lookup_allowed(actor):
                abort(429)
            child = find_child_by_identity_number(actor, number_hash(number))
            searched = True
            form.identity_number.data = ""  # the answer must not differ, and the number need not stay on screen
            if child is not None:
                rows = summarise([child], relations_for_children(actor, [child.id]))
    status = 422 if form.errors else 200
    return (
        render_template(
            "children/search.html", query="", page=None, rows=rows, number_form=form, searched_number=searched
        ),
        status,
    )


@children.get("/children/<child_id>")
@policy("staff")  # the staff child page; families get their own pages (/family/…, a later issue)
def overview(child_id: str) -> ResponseReturnValue:
    actor = current_actor()
    assert actor is not None
    access = get_child_or_404(actor, child_id, action="view_child_overview")
    view = ChildView.for_actor(access)
    sections = [section for build in OVERVIEW_SECTIONS if (section := build(access)) is not None]
    return render_template(
        "children/overview.html",
        sections=sections,
        child=view,
        activity=ChildActivity.for_actor(access),
        compass_by_code={area.code: area for area in AREAS},
        tabs=child_tabs(view.public_id, "overview"),
        withheld_reasons=WITHHELD_REASONS,
        withheld_because=WITHHELD_BECAUSE,
        pending_links=len(pending_links_to_decide(actor, access)),
    )


def child_tabs(child_id: str, current: str) -> list[dict[str, object]]:
    """The child's tabs in UX.md's order; a tab the viewer may not open is not shown."""

    tabs = [
        ("overview", _("Overview"), "children.overview"),
        ("chronology", _("Chronology"), "chronology.index"),
        ("team", _("Team"), "teams.index"),
        ("plan", _("Plan"), "plan.index"),
        ("consent", _("Consent"), "consent.tab"),
    ]
    return [
        {"key": key, "label": label, "url": url_for(endpoint, child_id=child_id), "current": key == current}
        for key, label, endpoint in tabs
        if endpoint in current_app.view_functions
    ]


@children.get("/")
@policy("authenticated")
def home() -> ResponseReturnValue:
    """My children: the children I have a relation to (staff) or in my custody (guardians)."""

    actor = current_actor()
    assert actor is not None
    context: dict[str, object] = {}
    if actor.kind in ("staff", "guardian", "young_person"):
        query = (request.args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
        page, rows = children_page(actor, query)
        context = {"query": query, "page": page, "rows": rows}
        if actor.kind != "staff":
            context["family_rows"] = family_rows(actor, page.items)
    return render_template(HOME_TEMPLATES[actor.home_kind], actor=actor, **context)


def family_rows(actor: Actor, children: Sequence[Child]) -> list[dict[str, object]]:
    """For a guardian or young person: each child with whom to call. A protected identity or a
    restricted custody shows the neutral switchboard number instead (RULES.md §7)."""

    return family_child_rows(actor, children)
