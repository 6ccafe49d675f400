"""Administration pages: the platform admin's staff and agency lists (``/admin``, no child data) and
the agency admin's pages (``/agency``: children without a Child Contact, Child Contact duties to
reassign, requests to link a unit to a child that the admin decides).

Each view declares its policy (``coordination.policies``); each blueprint also checks it before any
view runs, so that the refusal (404: out of scope is 404, never 403) is audited. Every list comes
from ``agencies.access`` (scoped in SQL); every write goes through the operations, which audit
themselves; every child shown is an audited read (``agency_administration``), written after the
request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from agencies import access
from agencies.forms import ChildContactForm, DeactivateForm, StaffSearchForm
from agencies.models import Membership, StaffPerson
from agencies.operations import deactivate_staff_person
from coordination import audit
from coordination.access import links_awaiting_agency_admin_statement
from coordination.children.models import Child, RoleAssignment, age_in_years
from coordination.children.operations import assign_child_contact
from coordination.clock import today
from coordination.database import db
from coordination.errors import OperationError
from coordination.extensions import login_manager
from coordination.form_writes import commit
from coordination.policies import current_actor, policy, signed_in_actor
from coordination.registration.operations import LINK_LOADING

admin = Blueprint("admin", __name__, url_prefix="/admin")
agency = Blueprint("agency", __name__, url_prefix="/agency")

LEVEL_LABELS = {
    "municipality": _l("Municipality"),
    "region": _l("Region"),
    "state": _l("State"),
}
LIST_ACTION = "agency_admin_list"
LIST_BASIS = "agency_administration"


# -- who may come in ------------------------------------------------------------------------------
def _let_in(check: Callable[[Any], bool], denied_action: str) -> ResponseReturnValue | None:
    actor = current_actor()
    if actor is None:
        return login_manager.unauthorized()
    if not check(actor):
        audit.note_denied(actor.audit_actor(), denied_action, object_type="page", object_id=request.endpoint)
        abort(404)
    return None


@admin.before_request
def _platform_admins_only() -> ResponseReturnValue | None:
    return _let_in(access.is_platform_admin, "open_platform_admin_page")


@agency.before_request
def _agency_admins_only() -> ResponseReturnValue | None:
    return _let_in(access.is_agency_admin, "open_agency_admin_page")


# -- platform admin: staff ------------------------------------------------------------------------
@admin.get("/staff")
@policy("platform_admin")
def staff() -> ResponseReturnValue:
    actor = signed_in_actor()
    form = StaffSearchForm(formdata=request.args)
    status = 200
    page = None
    if form.validate():
        search = (form.q.data or "").strip()
        page = access.paginate(
            access.staff_people(actor, search),
            access.page_number(request.args.get("page")),
            access.STAFF_LIST_LOADING,
        )
    else:
        status = 422
    return render_template("admin/staff_list.html", form=form, page=page, search=form.q.data or ""), status


@admin.get("/staff/<public_id>")
@policy("platform_admin")
def staff_person(public_id: str) -> ResponseReturnValue:
    person = access.get_staff_person_or_404(signed_in_actor(), public_id)
    return render_template(
        "admin/staff_person.html",
        person=person,
        account=access.staff_account(signed_in_actor(), person),
        memberships=_memberships_in_order(person),
    )


def _memberships_in_order(person: StaffPerson) -> list[Membership]:
    return sorted(person.memberships, key=lambda m: (m.ended_at is not None, m.agency.name, m.unit.name))


@admin.route("/staff/<public_id>/deactivate", methods=["GET", "POST"])
@policy("platform_admin")
def deactivate(public_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_staff_person_or_404(signed_in_actor(), public_id)
    form = DeactivateForm()
    if request.method == "POST":
        if form.validate_on_submit():
            # Re-read the row under a lock (PostgreSQL; SQLite writes one request at a time) so that two
            # clicks cannot both deactivate.
            db.session.scalar(
                select(StaffPerson)
                .where(StaffPerson.id == person.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if person.is_active:
                open_roles = access.open_roles_by_agency(actor, person)
                try:
                    deactivate_staff_person(actor, person)
                except OperationError:
                    db.session.rollback()
                else:
                    commit()
                    flash(_deactivated_message(person, open_roles), "info")
                    return redirect(url_for("admin.staff_person", public_id=person.public_id), 303)
            return _already_deactivated(person)
        abort(400)  # the form has no field but its CSRF token, which CSRFProtect checked already
    if not person.is_active:
        return _already_deactivated(person, status=200)
    return render_template(
        "admin/deactivate.html", person=person, form=form, open_roles=access.open_roles_by_agency(actor, person)
    )


def _already_deactivated(person: StaffPerson, status: int = 409) -> ResponseReturnValue:
    return render_template(
        "admin/staff_person.html",
        person=person,
        account=access.staff_account(signed_in_actor(), person),
        memberships=_memberships_in_order(person),
        problem=_("%(name)s is already deactivated. Nothing was changed.", name=person.full_name),
    ), status


def _deactivated_message(person: StaffPerson, open_roles: list[access.OpenRoles]) -> str:
    message = _("%(name)s is deactivated and logged out everywhere.", name=person.full_name)
    duties = sum(roles.child_contacts for roles in open_roles)
    if duties:
        message += " " + ngettext(
            "%(num)d Child Contact duty is now on the agency admin's list of duties that need reassigning.",
            "%(num)d Child Contact duties are now on the agency admin's list of duties that need reassigning.",
            duties,
        )
    return message


# -- platform admin: agencies ---------------------------------------------------------------------
@admin.get("/agencies")
@policy("platform_admin")
def agencies() -> ResponseReturnValue:
    found = db.session.scalars(access.agencies_with_units(signed_in_actor())).all()
    return render_template("admin/agencies.html", agencies=found, level_labels=LEVEL_LABELS)


# -- agency admin ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChildLine:
    """What an agency admin may see of a child on a list: name and age, nothing else (RULES.md §2)."""

    public_id: str
    name: str
    age: int | None  # None: not born yet
    protected: bool  # protected identity: staff names around the child are withheld (RULES.md §7)

    @classmethod
    def of(cls, child: Child) -> ChildLine:
        return cls(
            public_id=child.public_id,
            name=child.full_name,
            age=age_in_years(child.birth_date, today()),
            protected=child.has_protected_identity,
        )


def _note_reads(actor: Any, children: list[Child], listed_as: str) -> None:
    seen: set[int] = set()
    for child in children:
        if child.id in seen:
            continue
        seen.add(child.id)
        audit.note_read(
            actor.audit_actor(),
            LIST_ACTION,
            child_id=child.id,
            object_type="child",
            object_id=child.public_id,
            legal_basis=LIST_BASIS,
            detail={"list": listed_as},
        )


@dataclass(frozen=True)
class FailedRow:
    """The row whose form was sent and refused: shown again with its message, the rest fresh."""

    section: str
    child_public_id: str
    child_name: str
    form: ChildContactForm

    def form_for(self, section: str, child_public_id: str) -> ChildContactForm | None:
        return self.form if (section, child_public_id) == (self.section, self.child_public_id) else None


def _people(actor: Any) -> list[Membership]:
    return access.one_per_person(db.session.scalars(access.agency_assignable_members(actor)).all())


@agency.get("/")
@policy("agency_admin")
def index() -> ResponseReturnValue:
    actor = signed_in_actor()
    return render_template(
        "agency/index.html",
        without_child_contact=access.count(access.agency_children_without_child_contact(actor)),
        needing_reassignment=access.count(access.child_contact_duties_needing_reassignment(actor)),
        duties=access.count(access.agency_child_contact_duties(actor)),
        links_to_decide=access.count(links_awaiting_agency_admin_statement(actor)),
    )


# children without a Child Contact
@agency.get("/children-without-child-contact")
@policy("agency_admin")
def children_without_child_contact() -> ResponseReturnValue:
    return _children_page(access.page_number(request.args.get("page")))


def _children_page(number: int, failed: FailedRow | None = None, status: int = 200) -> ResponseReturnValue:
    actor = signed_in_actor()
    page = access.paginate(access.agency_children_without_child_contact(actor), number)
    people = _people(actor)
    rows = []
    for child in page.items:
        form = (failed and failed.form_for("children", child.public_id)) or ChildContactForm(formdata=None)
        form.with_people(people)
        form.staff.id = f"staff-{child.public_id}"
        rows.append((ChildLine.of(child), form))
    _note_reads(actor, list(page.items), "without_child_contact")
    return render_template(
        "agency/children_without_child_contact.html",
        page=page,
        rows=rows,
        failed=failed,
        has_people=bool(people),
    ), status


@agency.post("/children-without-child-contact/<child_id>")
@policy("agency_admin")
def assign(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    number = access.page_number(request.args.get("page"))
    child = access.agency_child_without_child_contact_or_none(actor, child_id)
    if child is None:
        if access.agency_child_or_none(actor, child_id) is None:
            audit.note_denied(actor.audit_actor(), "assign_child_contact", object_type="child", object_id=child_id[:64])
            abort(404)
        flash(_("That child has a Child Contact now. Nothing was changed."), "info")
        return redirect(url_for("agency.children_without_child_contact", page=number), 303)
    form = ChildContactForm().with_people(_people(actor))
    form.staff.id = f"staff-{child.public_id}"
    if form.validate_on_submit():
        result = _assign(actor, child, form)
        if result is not None:
            flash(_("%(name)s is now the Child Contact.", name=result.full_name), "info")
            return redirect(url_for("agency.children_without_child_contact", page=number), 303)
    return _children_page(number, FailedRow("children", child.public_id, child.full_name, form), status=422)


def _assign(actor: Any, child: Child, form: ChildContactForm) -> StaffPerson | None:
    """Make the chosen person the child's Child Contact; a refusal becomes the field's message."""
    membership = access.agency_assignable_member_or_none(actor, form.staff.data)
    if membership is None:
        form.staff.errors = [_("Choose a person from the list")]
        return None
    try:
        assign_child_contact(
            actor,
            child,
            membership,
            assigned_by=actor.account.staff_person,
            reason="reassigned by the agency admin",
        )
    except OperationError as error:
        db.session.rollback()
        form.staff.errors = [_operation_message(error, membership)]
        return None
    commit()
    return membership.staff_person


def _operation_message(error: OperationError, membership: Membership) -> str:
    if error.message == "That person already has the role":
        return _("%(name)s is already the Child Contact. Choose someone else.", name=membership.staff_person.full_name)
    if error.message == "The person is not active in that agency":
        return _(
            "%(name)s is no longer active in the agency. Choose someone else.", name=membership.staff_person.full_name
        )
    return _("The Child Contact could not be changed. Nothing was saved.")


# reassigning Child Contact duties
SECTIONS = ("needs", "all")


@agency.get("/reassign")
@policy("agency_admin")
def reassign() -> ResponseReturnValue:
    return _reassign_page(*_reassign_pages())


def _reassign_pages() -> tuple[int, int]:
    return access.page_number(request.args.get("needs_page")), access.page_number(request.args.get("page"))


def _reassign_page(
    needs_number: int,
    all_number: int,
    failed: FailedRow | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    actor = signed_in_actor()
    needs = access.paginate(access.child_contact_duties_needing_reassignment(actor), needs_number, access.DUTY_LOADING)
    duties = access.paginate(access.agency_child_contact_duties(actor), all_number, access.DUTY_LOADING)
    people = _people(actor)

    def rows(
        page: access.Page[RoleAssignment], section: str
    ) -> list[tuple[RoleAssignment, ChildLine, ChildContactForm]]:
        made = []
        for duty in page.items:
            public_id = duty.child.public_id
            form = (failed and failed.form_for(section, public_id)) or ChildContactForm(formdata=None)
            # For a protected child the holder is withheld, so leaving them out of the choices would
            # name them by elimination: everyone is offered then.
            choices = (
                people
                if duty.child.has_protected_identity
                else [m for m in people if m.staff_person_id != duty.staff_person_id]
            )
            form.with_people(choices)
            form.staff.id = f"{section}-staff-{public_id}"
            made.append((duty, ChildLine.of(duty.child), form))
        return made

    _note_reads(actor, [duty.child for duty in needs.items], "needs_reassigning")
    _note_reads(actor, [duty.child for duty in duties.items], "child_contact_duties")
    return render_template(
        "agency/reassign.html",
        needs=needs,
        needs_rows=rows(needs, "needs"),
        duties=duties,
        duty_rows=rows(duties, "all"),
        failed=failed,
        has_people=bool(people),
        needs_number=needs.number,
        all_number=duties.number,
    ), status


@agency.post("/reassign/<child_id>")
@policy("agency_admin")
def reassign_duty(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    needs_number, all_number = _reassign_pages()
    section = request.args.get("section", "all") if request.args.get("section") in SECTIONS else "all"
    duty = access.agency_child_contact_duty_or_none(actor, child_id)
    if duty is None:
        audit.note_denied(actor.audit_actor(), "reassign_child_contact", object_type="child", object_id=child_id[:64])
        abort(404)
    form = ChildContactForm().with_people(_people(actor))
    form.staff.id = f"{section}-staff-{duty.child.public_id}"
    if form.validate_on_submit():
        result = _assign(actor, duty.child, form)
        if result is not None:
            flash(_("%(name)s is now the Child Contact.", name=result.full_name), "info")
            return redirect(url_for("agency.reassign", needs_page=needs_number, page=all_number), 303)
    failed = FailedRow(section, duty.child.public_id, duty.child.full_name, form)
    return _reassign_page(needs_number, all_number, failed, status=422)


# requests to link a unit to a child (RULES.md §5: without a Child Contact, the agency admin decides)
@dataclass(frozen=True)
class LinkLine:
    """A request on the admin's list: the child's name only, the unit that asked, and when."""

    child_public_id: str
    child_name: str
    unit_name: str
    agency_name: str
    requested_at: Any


@agency.get("/links")
@policy("agency_admin")
def links() -> ResponseReturnValue:
    """The pending links the acting agency admin decides (``coordination.access`` says which); each one
    is decided on the child's links page."""
    actor = signed_in_actor()
    page = access.paginate(
        links_awaiting_agency_admin_statement(actor), access.page_number(request.args.get("page")), LINK_LOADING
    )
    rows = [
        LinkLine(
            child_public_id=link.child.public_id,
            child_name=link.child.full_name,
            unit_name=link.unit.name,
            agency_name=link.unit.agency.name,
            requested_at=link.requested_at,
        )
        for link in page.items
    ]
    _note_reads(actor, [link.child for link in page.items], "links_to_decide")
    return render_template("agency/links.html", page=page, rows=rows)
