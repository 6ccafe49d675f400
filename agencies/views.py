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
from sqlalchemy import func, select

from agencies import access
from agencies.forms import (
    AgencyForm,
    ChildContactForm,
    DeactivateForm,
    MembershipForm,
    NewStaffForm,
    RolesForm,
    SettingsForm,
    StaffForm,
    StaffSearchForm,
    UnitForm,
    or_none,
)
from agencies.models import Agency, Membership, StaffPerson, Unit
from agencies.operations import (
    AgencyData,
    StaffData,
    add_membership,
    change_roles,
    create_agency,
    create_staff_person,
    create_unit,
    deactivate_staff_person,
    end_agency,
    end_membership,
    end_unit,
    update_agency,
    update_staff_person,
    update_unit,
)
from coordination import audit, settings
from coordination.access import links_awaiting_agency_admin_statement
from coordination.children.models import Child, RoleAssignment, age_in_years
from coordination.children.operations import assign_child_contact, create_staff_account
from coordination.clock import today
from coordination.database import db
from coordination.errors import OperationError
from coordination.extensions import login_manager
from coordination.form_writes import commit, write_and_commit
from coordination.labels import AGENCY_KIND_LABELS
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
    status: int | None = 200
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
    return render_template("admin/staff_list.html", form=form, page=page, search=form.q.data or ""), status or 422


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


@admin.route("/staff/new", methods=["GET", "POST"])
@policy("platform_admin")
def new_staff_person() -> ResponseReturnValue:
    actor = signed_in_actor()
    form = NewStaffForm()
    status: int | None = 200
    if form.validate_on_submit():
        made: list[StaffPerson] = []

        def write() -> None:
            person = create_staff_person(actor, _staff_data(form))
            create_staff_account(actor, person, form.username.data or "", None)
            made.append(person)

        status = write_and_commit(form, write, _field_error)
        if status is None:
            flash(_("%(name)s is created. Add their first membership.", name=made[0].full_name), "info")
            return redirect(url_for("admin.new_membership", public_id=made[0].public_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/staff_form.html", form=form, person=None), status or 422


def _staff_data(form: StaffForm) -> StaffData:
    return StaffData(
        given_name=form.given_name.data or "",
        family_name=form.family_name.data or "",
        title=or_none(form.title.data),
        email=or_none(form.email.data),
        phone=or_none(form.phone.data),
        employee_id=or_none(form.employee_id.data),
    )


@admin.route("/staff/<public_id>/edit", methods=["GET", "POST"])
@policy("platform_admin")
def edit_staff_person(public_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_staff_person_or_404(actor, public_id)
    form = StaffForm(formdata=None, obj=person) if request.method == "GET" else StaffForm()
    status: int | None = 200
    if form.validate_on_submit():
        changed: list[str] = []
        status = write_and_commit(
            form, lambda: changed.extend(update_staff_person(actor, person, _staff_data(form))), _field_error
        )
        if status is None:
            flash(_("The details are saved.") if changed else _("Nothing was changed."), "info")
            return redirect(url_for("admin.staff_person", public_id=person.public_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/staff_form.html", form=form, person=person), status or 422


@admin.route("/staff/<public_id>/memberships/new", methods=["GET", "POST"])
@policy("platform_admin")
def new_membership(public_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_staff_person_or_404(actor, public_id)
    return _new_membership(actor, person, "admin", url_for("admin.staff_person", public_id=person.public_id))


@admin.route("/staff/<public_id>/memberships/<unit_id>", methods=["GET", "POST"])
@policy("platform_admin")
def membership(public_id: str, unit_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_staff_person_or_404(actor, public_id)
    found = access.get_current_membership_or_404(actor, person, unit_id)
    return _roles(actor, found, "admin", url_for("admin.staff_person", public_id=person.public_id))


@admin.route("/staff/<public_id>/memberships/<unit_id>/end", methods=["GET", "POST"])
@policy("platform_admin")
def end_membership_page(public_id: str, unit_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_staff_person_or_404(actor, public_id)
    found = access.get_current_membership_or_404(actor, person, unit_id)
    return _end_membership(actor, found, url_for("admin.staff_person", public_id=person.public_id))


# -- platform admin: agencies ---------------------------------------------------------------------
@admin.get("/agencies")
@policy("platform_admin")
def agencies() -> ResponseReturnValue:
    actor = signed_in_actor()
    found = db.session.scalars(access.agencies_with_units(actor)).all()
    unadministered = db.session.scalars(access.agencies_without_agency_admin(actor)).all()
    return render_template(
        "admin/agencies.html", agencies=found, unadministered=unadministered, level_labels=LEVEL_LABELS
    )


def _agency_form(**kwargs: Any) -> AgencyForm:
    return AgencyForm(**kwargs).with_choices(AGENCY_KIND_LABELS, LEVEL_LABELS)


def _agency_data(form: AgencyForm) -> AgencyData:
    return AgencyData(
        name=form.name.data or "", kind=form.kind.data, level=form.level.data, phone=or_none(form.phone.data)
    )


@admin.route("/agencies/new", methods=["GET", "POST"])
@policy("platform_admin")
def new_agency() -> ResponseReturnValue:
    actor = signed_in_actor()
    form = _agency_form()
    status: int | None = 200
    if form.validate_on_submit():
        made: list[Agency] = []
        status = write_and_commit(form, lambda: made.append(create_agency(actor, _agency_data(form))), _field_error)
        if status is None:
            flash(_("The agency %(name)s is created. Give it its first unit.", name=made[0].name), "info")
            return redirect(url_for("admin.new_unit", agency_id=made[0].public_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/agency_form.html", form=form, agency=None), status or 422


@admin.get("/agencies/<agency_id>")
@policy("platform_admin")
def agency_page(agency_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    found = access.get_agency_or_404(actor, agency_id)
    admins = db.session.scalar(
        select(func.count(func.distinct(Membership.staff_person_id)))
        .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
        .where(
            Membership.agency_id == found.id,
            Membership.is_agency_admin.is_(True),
            Membership.ended_at.is_(None),
            StaffPerson.is_active.is_(True),
        )
    )
    return render_template("admin/agency.html", agency=found, level_labels=LEVEL_LABELS, admins=admins or 0)


@admin.route("/agencies/<agency_id>/edit", methods=["GET", "POST"])
@policy("platform_admin")
def edit_agency(agency_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    found = access.get_agency_or_404(actor, agency_id)
    if found.ended_at is not None:
        return _ended(url_for("admin.agency_page", agency_id=found.public_id))
    form = _agency_form(formdata=None, obj=found) if request.method == "GET" else _agency_form()
    status: int | None = 200
    if form.validate_on_submit():
        changed: list[str] = []
        status = write_and_commit(
            form, lambda: changed.extend(update_agency(actor, found, _agency_data(form))), _field_error
        )
        if status is None:
            flash(_("The agency is saved.") if changed else _("Nothing was changed."), "info")
            return redirect(url_for("admin.agency_page", agency_id=found.public_id), 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/agency_form.html", form=form, agency=found), status or 422


@admin.route("/agencies/<agency_id>/end", methods=["GET", "POST"])
@policy("platform_admin")
def end_agency_page(agency_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    found = access.get_agency_or_404(actor, agency_id)
    back = url_for("admin.agency_page", agency_id=found.public_id)
    if found.ended_at is not None:
        return _ended(back)
    return _confirm_end(
        actor,
        lambda: end_agency(actor, found),
        access.responsibilities(agency_id=found.id),
        title=_("End the agency %(name)s?", name=found.name),
        what=_("agency"),
        back=back,
        done=_("The agency %(name)s has ended.", name=found.name),
        consequences=[
            _("The agency and its units stay in the record (who did what, and when), marked as ended."),
            _("Nobody can be made a member of it or of its units any more."),
        ],
    )


@admin.route("/agencies/<agency_id>/units/new", methods=["GET", "POST"])
@policy("platform_admin")
def new_unit(agency_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    found = access.get_agency_or_404(actor, agency_id)
    back = url_for("admin.agency_page", agency_id=found.public_id)
    if found.ended_at is not None:
        return _ended(back)
    return _unit_form(actor, found, None, back)


@admin.route("/units/<unit_id>/edit", methods=["GET", "POST"])
@policy("platform_admin")
def edit_unit(unit_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    unit = access.get_unit_or_404(actor, unit_id)
    back = url_for("admin.agency_page", agency_id=unit.agency.public_id)
    if unit.ended_at is not None:
        return _ended(back)
    return _unit_form(actor, unit.agency, unit, back)


@admin.route("/units/<unit_id>/end", methods=["GET", "POST"])
@policy("platform_admin")
def end_unit_page(unit_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    unit = access.get_unit_or_404(actor, unit_id)
    return _end_unit(actor, unit, url_for("admin.agency_page", agency_id=unit.agency.public_id))


# -- shared by the platform admin's and the agency admin's pages ---------------------------------------
# The operations' refusals (English, for the CLI and the audit) as the pages say them.
OPERATION_MESSAGES = {
    "Unknown kind of agency": _l("Choose a kind from the list"),
    "Unknown level": _l("Choose a level from the list"),
    "An agency with that name exists": _l("Another agency has that name. Choose another name."),
    "The agency already has a unit with that name": _l("The agency has a unit with that name. Choose another."),
    "Another person has that employee id": _l("Another person has that employee id."),
    "Choose at least one role": _l("Choose at least one role"),
    "Only social services staff can have the intake role": _l("Only social services staff can have the intake role"),
    "The person is already a member of that unit": _l("The person is already a member of that unit"),
    "The person is deactivated": _l("The person is deactivated, so they cannot be given a membership."),
    "The unit has ended": _l("The unit has ended. Choose another."),
    "The agency has ended": _l("The agency has ended, so it can no longer be changed."),
    "That username is taken": _l("That username is taken. Choose another."),
    "Enter a username of at most 150 characters": _l("Use at most %(max)d characters", max=150),
    "The unit still has members or open responsibilities": _l(
        "The unit still has members or open responsibilities. Nothing was changed."
    ),
    "The agency still has members or open responsibilities": _l(
        "The agency still has members or open responsibilities. Nothing was changed."
    ),
    "An agency keeps at least one unit": _l("An agency keeps at least one unit: end the agency instead."),
    "The membership has ended already": _l("The membership has ended already. Nothing was changed."),
}


def _field_error(form: Any, error: OperationError) -> None:
    """A refusal beside its field (the operation names it), else above the form."""
    message = OPERATION_MESSAGES.get(error.message, _("That could not be saved. Nothing was changed."))
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*list(field.errors or []), str(message)]
    else:
        form.form_errors.append(str(message))


def _ended(back: str) -> ResponseReturnValue:
    flash(_("That has ended, so it can no longer be changed."), "info")
    return redirect(back, 303)


def _unit_form(actor: Any, owner: Agency, unit: Unit | None, back: str) -> ResponseReturnValue:
    form = UnitForm(formdata=None, obj=unit) if request.method == "GET" else UnitForm()
    status: int | None = 200
    if form.validate_on_submit():
        changed: list[object] = []

        def write() -> None:
            if unit is None:
                changed.append(create_unit(actor, owner, form.name.data or "", or_none(form.phone.data)))
            else:
                changed.extend(update_unit(actor, unit, form.name.data or "", or_none(form.phone.data)))

        status = write_and_commit(form, write, _field_error)
        if status is None:
            if unit is None:
                flash(_("The unit %(name)s is created.", name=form.name.data), "info")
            else:
                flash(_("The unit is saved.") if changed else _("Nothing was changed."), "info")
            return redirect(back, 303)
    elif request.method == "POST":
        status = 422
    return render_template("admin/unit_form.html", form=form, agency=owner, unit=unit, back=back), status or 422


def _end_unit(actor: Any, unit: Unit, back: str) -> ResponseReturnValue:
    if unit.ended_at is not None:
        return _ended(back)
    others = sum(1 for other in unit.agency.units if other.id != unit.id and other.ended_at is None)
    return _confirm_end(
        actor,
        lambda: end_unit(actor, unit),
        access.responsibilities(unit_id=unit.id),
        title=_("End the unit %(name)s?", name=unit.name),
        what=_("unit"),
        back=back,
        done=_("The unit %(name)s has ended.", name=unit.name),
        consequences=[
            _("The unit stays in the record (who did what, and when), marked as ended."),
            _("Nobody can be made a member of it any more."),
        ],
        last_unit=not others,
    )


def _new_membership(actor: Any, person: StaffPerson, side: str, back: str) -> ResponseReturnValue:
    units = access.unit_choices(actor)
    form = MembershipForm().with_units(units, with_agency=side == "admin")
    if request.method == "GET":
        form.practitioner.data = True
    status: int | None = 200
    if form.validate_on_submit():
        unit = next((u for u in units if u.public_id == form.unit.data), None)
        if unit is None:  # the choices are the units the actor may use; the select checked it already
            abort(404)

        def write() -> None:
            add_membership(
                actor,
                person,
                unit,
                practitioner=bool(form.practitioner.data),
                agency_admin=bool(form.agency_admin.data),
                intake=bool(form.intake.data),
            )

        status = write_and_commit(form, write, _field_error)
        if status is None:
            flash(_("%(name)s is now a member of %(unit)s.", name=person.full_name, unit=unit.name), "info")
            return redirect(back, 303)
    elif request.method == "POST":
        status = 422
    return render_template(
        "admin/membership_form.html", form=form, person=person, membership=None, back=back
    ), status or 422


def _roles(actor: Any, found: Membership, side: str, back: str) -> ResponseReturnValue:
    form = RolesForm(formdata=None) if request.method == "GET" else RolesForm()
    if request.method == "GET":
        form.practitioner.data = found.is_practitioner
        form.agency_admin.data = found.is_agency_admin
        form.intake.data = found.is_intake
    status: int | None = 200
    if form.validate_on_submit():
        changed: list[bool] = []

        def write() -> None:
            changed.append(
                change_roles(
                    actor,
                    found,
                    practitioner=bool(form.practitioner.data),
                    agency_admin=bool(form.agency_admin.data),
                    intake=bool(form.intake.data),
                )
            )

        status = write_and_commit(form, write, _field_error)
        if status is None:
            flash(_("The roles are saved.") if changed[0] else _("Nothing was changed."), "info")
            return redirect(back, 303)
    elif request.method == "POST":
        status = 422
    return render_template(
        "admin/membership_form.html",
        form=form,
        person=found.staff_person,
        membership=found,
        back=back,
        end_url=f"{request.path}/end",
    ), status or 422


def _end_membership(actor: Any, found: Membership, back: str) -> ResponseReturnValue:
    person = found.staff_person
    still_here = any(
        m.agency_id == found.agency_id and m.ended_at is None and m.id != found.id for m in person.memberships
    )
    duties = db.session.scalar(
        select(func.count()).where(
            RoleAssignment.staff_person_id == person.id,
            RoleAssignment.agency_id == found.agency_id,
            RoleAssignment.role == "child_contact",
            RoleAssignment.ended_at.is_(None),
        )
    )
    consequences = [
        _(
            "%(name)s is no longer a member of %(unit)s; the membership stays in the record.",
            name=person.full_name,
            unit=found.unit.name,
        )
    ]
    if duties and not still_here:
        consequences.append(
            ngettext(
                "%(num)d Child Contact duty goes on the agency admin's list of duties that need reassigning.",
                "%(num)d Child Contact duties go on the agency admin's list of duties that need reassigning.",
                duties,
            )
        )
    if found.is_agency_admin:
        consequences.append(_("If nobody else is agency admin there, nobody will approve the agency's link requests."))
    return _confirm_end(
        actor,
        lambda: end_membership(actor, found),
        access.Responsibilities(),
        title=_("End %(name)s's membership of %(unit)s?", name=person.full_name, unit=found.unit.name),
        what=_("membership"),
        back=back,
        done=_("%(name)s is no longer a member of %(unit)s.", name=person.full_name, unit=found.unit.name),
        consequences=consequences,
    )


def _confirm_end(
    actor: Any,
    write: Callable[[], object],
    carried: access.Responsibilities,
    *,
    title: str,
    what: str,
    back: str,
    done: str,
    consequences: list[str],
    last_unit: bool = False,
) -> ResponseReturnValue:
    """The confirmation page before ending (nothing irreversible without it): what still blocks it, in
    counts, or what ending does; the POST ends it through the operation, which checks the same again."""
    form = DeactivateForm()
    status: int | None = 200
    blocked = carried.any or last_unit
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)  # the form has no field but its CSRF token, which CSRFProtect checked already
        if not blocked:
            status = write_and_commit(form, write, _field_error) or 200
            if status == 200:
                flash(done, "info")
                return redirect(back, 303)
        else:
            status = 409
    return render_template(
        "admin/end.html",
        form=form,
        title=title,
        what=what,
        back=back,
        carried=carried,
        blocked=blocked,
        last_unit=last_unit,
        consequences=consequences,
        action=request.path,
    ), status or 422


# -- platform admin: settings ---------------------------------------------------------------------
@admin.route("/settings", methods=["GET", "POST"])
@policy("platform_admin")
def settings_page() -> ResponseReturnValue:
    """The run-time settings: shown with their values in force; a change is validated as a whole (one
    refused field stores nothing), stored as an override, audited old → new, in force from the next
    request."""
    actor = signed_in_actor()
    form = SettingsForm()
    fields = form.fields_by_key()
    status: int | None = 200
    if request.method == "GET":
        for key, field in fields.items():
            field.data = str(settings.effective(key))
    elif form.validate_on_submit():
        values = {}
        for key, field in fields.items():
            try:
                values[key] = settings.validated(key, field.data)
            except OperationError:
                field.errors = [str(settings.MESSAGES[key])]
        if len(values) == len(fields):
            changed: list[str] = []

            def write() -> None:
                changed.extend(
                    key for key, value in values.items() if settings.change_setting(actor.audit_actor(), key, value)
                )

            status = write_and_commit(form, write, lambda _form, _error: None) or 200
            if status == 200:
                flash(_("The settings are saved.") if changed else _("Nothing was changed."), "info")
                return redirect(url_for("admin.settings_page"), 303)
        else:
            status = 422
    else:
        abort(400)  # only the CSRF token can fail here, and CSRFProtect checked it already
    defaults = {key: settings.configured(key) for key in fields}
    return render_template("admin/settings.html", form=form, defaults=defaults, keys=settings), status or 422


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


# the agency's own staff and units (RULES.md §1: the agency admin manages them; another agency's: 404)
@agency.get("/staff")
@policy("agency_admin")
def own_staff() -> ResponseReturnValue:
    actor = signed_in_actor()
    form = StaffSearchForm(formdata=request.args)
    status: int | None = 200
    page = None
    if form.validate():
        search = (form.q.data or "").strip()
        page = access.paginate(
            access.agency_staff(actor, search),
            access.page_number(request.args.get("page")),
            access.AGENCY_STAFF_LOADING,
        )
    else:
        status = 422
    agency_id = actor.acting_agency.id if actor.acting_agency else None
    return render_template(
        "agency/staff.html", form=form, page=page, search=form.q.data or "", agency_id=agency_id
    ), status or 422


@agency.get("/staff/<public_id>")
@policy("agency_admin")
def own_staff_person(public_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_agency_staff_person_or_404(actor, public_id)
    return render_template(
        "agency/staff_person.html", person=person, memberships=access.memberships_here(actor, person)
    )


@agency.route("/staff/<public_id>/memberships/new", methods=["GET", "POST"])
@policy("agency_admin")
def own_new_membership(public_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_agency_staff_person_or_404(actor, public_id)
    return _new_membership(actor, person, "agency", url_for("agency.own_staff_person", public_id=person.public_id))


@agency.route("/staff/<public_id>/memberships/<unit_id>", methods=["GET", "POST"])
@policy("agency_admin")
def own_membership(public_id: str, unit_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_agency_staff_person_or_404(actor, public_id)
    found = access.get_current_membership_or_404(actor, person, unit_id)
    return _roles(actor, found, "agency", url_for("agency.own_staff_person", public_id=person.public_id))


@agency.route("/staff/<public_id>/memberships/<unit_id>/end", methods=["GET", "POST"])
@policy("agency_admin")
def own_end_membership(public_id: str, unit_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    person = access.get_agency_staff_person_or_404(actor, public_id)
    found = access.get_current_membership_or_404(actor, person, unit_id)
    return _end_membership(actor, found, url_for("agency.own_staff_person", public_id=person.public_id))


@agency.get("/units")
@policy("agency_admin")
def own_units() -> ResponseReturnValue:
    actor = signed_in_actor()
    units = db.session.scalars(access.agency_units(actor)).all()
    return render_template("agency/units.html", units=units)


@agency.route("/units/new", methods=["GET", "POST"])
@policy("agency_admin")
def own_new_unit() -> ResponseReturnValue:
    actor = signed_in_actor()
    owner = actor.acting_agency
    if owner is None:  # the blueprint lets in agency admins only, who always act for an agency
        abort(404)
    return _unit_form(actor, owner, None, url_for("agency.own_units"))


@agency.route("/units/<unit_id>/edit", methods=["GET", "POST"])
@policy("agency_admin")
def own_edit_unit(unit_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    unit = access.get_unit_or_404(actor, unit_id)
    if unit.ended_at is not None:
        return _ended(url_for("agency.own_units"))
    return _unit_form(actor, unit.agency, unit, url_for("agency.own_units"))


@agency.route("/units/<unit_id>/end", methods=["GET", "POST"])
@policy("agency_admin")
def own_end_unit(unit_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    unit = access.get_unit_or_404(actor, unit_id)
    return _end_unit(actor, unit, url_for("agency.own_units"))


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
