"""The child page's Consent tab (``/children/<child_id>/consent``) and the Child Contact's consent
actions: record consent with the family, request it, withdraw it (or cancel a request), and record that
the young person is mature enough to decide for an agency (RULES.md §3, §4, §9).

Every page reaches the child through ``access.get_child_or_404`` (audited; out of scope is 404). The tab
is for staff with a relation; family viewers have their own consent page. The actions are for the
child's Child Contact only: anyone else — other staff with a relation included — gets 404, with the
refusal audited. A consent is looked up through the child (and only when the viewer may see it), never
by its id alone. Each action is a plain form (no JavaScript needed): the error summary, the message
next to the field, the input kept, 422 on a refusal; one commit per request; the writes are audited by
the operations in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from agencies.models import Agency, StaffPerson
from coordination.access import (
    Actor,
    ChildAccess,
    get_child_as_child_contact_or_404,
    get_child_or_404,
    may_know_other_agencies,
    staff_or_404,
)
from coordination.children.models import Custody, Guardian
from coordination.children.view import WITHHELD_REASONS
from coordination.children.views import child_tabs
from coordination.clock import today
from coordination.consent.access import get_consent_or_404
from coordination.consent.common import MAX_NOTE_LENGTH, YOUNG_PERSON, maturity_min_age
from coordination.consent.evaluation import CONSENT_STATUS_LABELS, consent_status, is_adult, young_person_decides
from coordination.consent.forms import (
    CANCEL_REQUEST,
    PURPOSE_HINTS,
    PURPOSE_LABELS,
    MaturityForm,
    RecordConsentForm,
    RequestConsentForm,
    WithdrawAreaForm,
    WithdrawConsentForm,
    apply_operation_error,
)
from coordination.consent.ledger import (
    ConsentData,
    GiverData,
    record_consent,
    record_maturity,
    request_consent,
    withdraw_consent,
    withdraw_consent_area,
)
from coordination.consent.models import ConsentText
from coordination.consent.texts import current_consent_text
from coordination.consent.view import ChildHeading, ConsentView, area_chips
from coordination.database import db
from coordination.errors import OperationError
from coordination.form_writes import write_and_commit
from coordination.labels import LANGUAGE_LABELS
from coordination.policies import policy, signed_in_actor

consent = Blueprint("consent", __name__)

# Audit actions of the reads (and refusals) on these pages; the writes are audited by the operations
# ("record_consent", "request_consent", "withdraw_consent", "withdraw_consent_area", "cancel_consent_request",
# "replace_consent", "record_maturity").
VIEW_TAB = "view_child_consent"
RECORD_PAGE = "consent_record_page"
REQUEST_PAGE = "consent_request_page"
WITHDRAW_PAGE = "consent_withdraw_page"
WITHDRAW_AREA_PAGE = "consent_withdraw_area_page"
MATURITY_PAGE = "consent_maturity_page"

MAX_ID_LENGTH = 64


def _concurrent_change() -> str:
    return _("Someone changed this at the same moment, so nothing was saved. Check the Consent tab and try again.")


def _child_contact_access(child_id: str, action: str) -> tuple[Actor, ChildAccess]:
    """The child's Child Contact only. Others with a relation see the tab but not the actions: 404."""
    actor = staff_or_404(signed_in_actor(), child_id, action)
    return actor, get_child_as_child_contact_or_404(actor, child_id, action)


def _recorder(actor: Actor) -> StaffPerson | None:
    return actor.account.staff_person


def _tab_url(child_id: str) -> str:
    return url_for("consent.tab", child_id=child_id)


def _may_see_others(actor: Actor, access: ChildAccess) -> bool:
    """Whether the viewer may see other agencies' consents (RULES.md §4): while their own agency holds a
    consent for coordination that is in effect."""
    return bool(may_know_other_agencies(access))


def _agency_hidden(actor: Actor, access: ChildAccess, agency_id: int) -> bool:
    """Whether the viewer may not see this agency's consents, requests and maturity assessments: then an
    action for it must never be refused because of them (the refusal would reveal them)."""
    own = actor.acting_agency
    assert own is not None
    return agency_id != own.id and not _may_see_others(actor, access)


# -- the tab ----------------------------------------------------------------------------------------------
@consent.get("/children/<child_id>/consent")
@policy("child")
def tab(child_id: str) -> ResponseReturnValue:
    actor = staff_or_404(signed_in_actor(), child_id, VIEW_TAB)
    access = get_child_or_404(actor, child_id, action=VIEW_TAB)
    view = ConsentView.for_actor(access)
    return render_template(
        "consent/tab.html",
        child=view,
        tabs=child_tabs(view.public_id, "consent"),
        withheld_reasons=WITHHELD_REASONS,
    )


# -- choices (plain values: a rollback after a refusal leaves nothing to reload) ---------------------------
@dataclass(frozen=True)
class AgencyChoice:
    id: int
    public_id: str
    name: str


def _all_agencies() -> list[AgencyChoice]:
    """Every agency, by name: the Child Contact records consent for other agencies (not child data)."""
    return [AgencyChoice(a.id, a.public_id, a.name) for a in db.session.scalars(select(Agency).order_by(Agency.name))]


def _agency_pairs(agencies: list[AgencyChoice]) -> list[tuple[str, object]]:
    return [("", _("Choose the agency")), *((a.public_id, a.name) for a in agencies)]


def _chosen_agency(agencies: list[AgencyChoice], public_id: str | None) -> AgencyChoice | None:
    return next((a for a in agencies if a.public_id == public_id), None)


@dataclass(frozen=True)
class GuardianChoice:
    id: int
    public_id: str
    name: str


def _custodial_guardians(child_id: int) -> list[GuardianChoice]:
    rows = db.session.execute(
        select(Guardian.id, Guardian.public_id, Guardian.given_name, Guardian.family_name)
        .join(Custody, Custody.guardian_id == Guardian.id)
        .where(Custody.child_id == child_id, Custody.ended_at.is_(None))
        .order_by(Guardian.family_name, Guardian.given_name, Guardian.id)
    )
    return [GuardianChoice(row.id, row.public_id, f"{row.given_name} {row.family_name}") for row in rows]


@dataclass(frozen=True)
class TextVersion:
    language: str
    label: str
    paragraphs: tuple[str, ...]


def _current_texts() -> tuple[int, list[TextVersion]]:
    """The current consent text's version and every language it exists in (Swedish first)."""
    current = current_consent_text(str(get_locale() or "sv"))
    texts = db.session.scalars(select(ConsentText).where(ConsentText.version == current.version)).all()
    order = {code: index for index, code in enumerate(LANGUAGE_LABELS)}
    versions = [
        TextVersion(
            text.language,
            str(LANGUAGE_LABELS.get(text.language, text.language)),
            tuple(part.strip() for part in text.body.split("\n\n") if part.strip()),
        )
        for text in sorted(texts, key=lambda t: order.get(t.language, 99))
    ]
    return current.version, versions


def _one_year_on(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


# -- record consent with the family ------------------------------------------------------------------------
@consent.route("/children/<child_id>/consent/record", methods=["GET", "POST"])
@policy("child")
def record(child_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, RECORD_PAGE)
    child, heading = access.child, ChildHeading.of(access)
    agencies = _all_agencies()
    guardians = _custodial_guardians(child.id)
    # Who decides (RULES.md §3): from 18 the young person alone, for every agency, so only they are
    # offered. Before that the guardians, and the young person where staff have recorded them as mature
    # enough to decide for an agency (and they are old enough for that to count) — offered only when the
    # viewer may see such an agency (their own, or others' while their agency holds consent, RULES.md
    # §4): an offer that names no agency would reveal an assessment the viewer may not see. The
    # operation refuses the young person for any other agency, next to the givers.
    picture, own = access.picture, actor.acting_agency
    assert own is not None
    day = today()
    adult = is_adult(child.birth_date, day)
    may_see_others = _may_see_others(actor, access)
    mature_names = [
        a.name
        for a in agencies
        if (a.id == own.id or may_see_others)
        and young_person_decides(
            a.id,
            picture.mature_agency_ids,
            day,
            birth_date=child.birth_date,
            maturity_min_age=maturity_min_age(),
        )
    ]
    givers: list[tuple[str, object]]
    if adult:
        givers = [(YOUNG_PERSON, _("%(name)s, 18 or older (decides for every agency)", name=child.given_name))]
    else:
        givers = [(g.public_id, g.name) for g in guardians]
        if mature_names:
            label = _(
                "%(name)s, the young person (decides for: %(agencies)s)",
                name=child.given_name,
                agencies=", ".join(mature_names),
            )
            givers.append((YOUNG_PERSON, label))
    version, texts = _current_texts()
    form = RecordConsentForm()
    form.set_choices(_agency_pairs(agencies), givers, [(t.language, t.label) for t in texts])

    def page(status: int = 200) -> ResponseReturnValue:
        return (
            render_template(
                "consent/record.html",
                child=heading,
                form=form,
                texts=texts,
                text_version=version,
                has_guardians=bool(guardians),
                is_adult=adult,
                young_person_key=YOUNG_PERSON,
                purpose_hints=PURPOSE_HINTS,
            ),
            status,
        )

    if request.method == "GET":
        chosen = _chosen_agency(agencies, request.args.get("agency"))
        if chosen is not None:
            form.agency.data = chosen.public_id
        form.valid_from.data = today()
        form.valid_until.data = _one_year_on(today())
        form.consent_text_version.data = version
        form.consent_text_language.data = "sv" if any(t.language == "sv" for t in texts) else None
        form.add_giver_blocks()
        for entry in form.givers.entries:
            entry.form.given_on.data = today()
        return page()
    if not form.validate_on_submit():
        return page(422)
    agency = _chosen_agency(agencies, form.agency.data)
    assert agency is not None  # the select accepts only offered agencies
    by_key: dict[str, int | None] = {g.public_id: g.id for g in guardians}
    by_key[YOUNG_PERSON] = None
    data = ConsentData(
        purposes=list(form.purposes.data or ()),
        areas=list(form.areas.data or ()),
        valid_from=form.valid_from.data,
        valid_until=form.valid_until.data,
        givers=[
            GiverData(by_key[block.giver], block.method, block.evidence_note, block.given_on)
            for block in form.given_blocks()
        ],
        consent_text_version=form.consent_text_version.data,
        consent_text_language=form.consent_text_language.data,
        recorded_by=_recorder(actor),
    )
    agency_row = db.session.get(Agency, agency.id)
    assert agency_row is not None  # chosen from the agencies just listed

    def write() -> None:
        record_consent(actor, child, agency_row, data, agency_hidden=_agency_hidden(actor, access, agency.id))

    status = write_and_commit(form, write, _apply_record_error, _concurrent_change())
    if status:
        return page(status)
    flash(_("Consent recorded for %(agency)s. It counts from the next page anyone opens.", agency=agency.name))
    return redirect(_tab_url(heading.public_id))


def _apply_record_error(form: RecordConsentForm, error: OperationError) -> None:
    """An operation's refusal next to its field; an evidence note's next to the note that is too long,
    or next to the young person's note when it is missing."""
    if error.field == "evidence_note":
        ticked = [entry.form for entry in form.givers.entries if entry.form.given.data]
        notes = [
            block.evidence_note for block in ticked if len((block.evidence_note.data or "").strip()) > MAX_NOTE_LENGTH
        ] or [
            block.evidence_note
            for block in ticked
            if block.giver.data == YOUNG_PERSON and not (block.evidence_note.data or "").strip()
        ]
        if notes:
            for field in notes:
                field.errors = [*list(field.errors or ()), error.message]
            return
    apply_operation_error(form, error)


# -- request consent ----------------------------------------------------------------------------------------
@consent.route("/children/<child_id>/consent/request", methods=["GET", "POST"])
@policy("child")
def request_page(child_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, REQUEST_PAGE)
    child, heading = access.child, ChildHeading.of(access)
    agencies = _all_agencies()
    form = RequestConsentForm()
    form.set_choices(_agency_pairs(agencies))

    def page(status: int = 200) -> ResponseReturnValue:
        return render_template("consent/request.html", child=heading, form=form, purpose_hints=PURPOSE_HINTS), status

    if request.method == "GET":
        chosen = _chosen_agency(agencies, request.args.get("agency"))
        if chosen is not None:
            form.agency.data = chosen.public_id
        form.valid_from.data = today()
        form.valid_until.data = _one_year_on(today())
        return page()
    if not form.validate_on_submit():
        return page(422)
    agency = _chosen_agency(agencies, form.agency.data)
    assert agency is not None
    agency_row = db.session.get(Agency, agency.id)
    assert agency_row is not None  # chosen from the agencies just listed

    def write() -> None:
        request_consent(
            actor,
            child,
            agency_row,
            list(form.purposes.data or ()),
            list(form.areas.data or ()),
            form.valid_from.data,
            form.valid_until.data,
            requested_by=_recorder(actor),
            agency_hidden=_agency_hidden(actor, access, agency.id),
        )

    status = write_and_commit(form, write, apply_operation_error, _concurrent_change())
    if status:
        return page(status)
    flash(_("Consent requested for %(agency)s. It gives no access until it is recorded.", agency=agency.name))
    return redirect(_tab_url(heading.public_id))


# -- withdraw a consent (or cancel a request) ---------------------------------------------------------------
@dataclass(frozen=True)
class ConsentSummary:
    """The consent being withdrawn, as the confirmation page shows it."""

    agency: str
    purpose_label: object
    status: str
    status_label: object
    areas: tuple
    valid_from: date
    valid_until: date | None
    is_request: bool
    is_withdrawn: bool


@consent.route("/children/<child_id>/consent/<consent_id>/withdraw", methods=["GET", "POST"])
@policy("child")
def withdraw(child_id: str, consent_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, WITHDRAW_PAGE)
    heading = ChildHeading.of(access)
    item = get_consent_or_404(actor, access, consent_id, WITHDRAW_PAGE)
    picture = access.picture
    status = consent_status(
        [item],
        set(picture.custodial_guardian_ids),
        set(picture.mature_agency_ids),
        today(),
        birth_date=access.child.birth_date,
        maturity_min_age=maturity_min_age(),
    )[(item.agency_id, item.purpose)]
    agency = db.session.get(Agency, item.agency_id)
    assert agency is not None
    is_request = item.recorded_at is None
    summary = ConsentSummary(
        agency=agency.name,
        purpose_label=PURPOSE_LABELS.get(item.purpose, item.purpose),
        status=status,
        status_label=CONSENT_STATUS_LABELS[status],
        areas=area_chips({a.area for a in item.areas}),
        valid_from=item.valid_from,
        valid_until=item.valid_until,
        is_request=is_request,
        is_withdrawn=item.state == "withdrawn",
    )
    by_key: dict[str, int | None] = {}
    choices: list[tuple[str, object]] = []
    if is_request:
        choices.append((CANCEL_REQUEST, _("Nobody: cancel the request")))
        by_key[CANCEL_REQUEST] = None
    else:
        guardian_ids = [g.guardian_id for g in item.givers if g.guardian_id is not None]
        names = {
            row.id: (row.public_id, f"{row.given_name} {row.family_name}")
            for row in db.session.execute(
                select(Guardian.id, Guardian.public_id, Guardian.given_name, Guardian.family_name).where(
                    Guardian.id.in_(guardian_ids)
                )
            )
        }
        for giver in sorted(item.givers, key=lambda g: (g.given_at, g.id or 0)):
            if giver.guardian_id is None:
                key, label = YOUNG_PERSON, _("The young person")
            else:
                key, label = names[giver.guardian_id]
            if giver.withdrawn_at is not None:
                label = _("%(name)s (has already withdrawn it)", name=label)
            choices.append((key, label))
            by_key[key] = giver.guardian_id
    form = WithdrawConsentForm()
    form.set_choices(choices)
    tab_url = _tab_url(heading.public_id)

    def page(status: int = 200) -> ResponseReturnValue:
        return (
            render_template(
                "consent/withdraw.html",
                child=heading,
                form=form,
                consent=summary,
                tab_url=tab_url,
                action_url=request.path,
            ),
            status,
        )

    if request.method == "GET":
        if len(choices) == 1:
            form.giver.data = choices[0][0]
        return page()
    if not form.validate_on_submit():
        return page(422)

    def write() -> None:
        withdraw_consent(actor, item, by_key.get(form.giver.data or ""), _recorder(actor))

    refused = write_and_commit(form, write, apply_operation_error, _concurrent_change())
    if refused:
        return page(refused)
    if is_request:
        flash(_("The request to %(agency)s was cancelled.", agency=summary.agency))
    else:
        flash(
            _(
                "Consent withdrawn: %(agency)s no longer has this consent, from the next page anyone opens.",
                agency=summary.agency,
            )
        )
    return redirect(tab_url)


# -- withdraw one area of a consent ------------------------------------------------------------------------
@consent.route("/children/<child_id>/consent/<consent_id>/withdraw-area", methods=["GET", "POST"])
@policy("child")
def withdraw_area(child_id: str, consent_id: str) -> ResponseReturnValue:
    """The confirmation page for withdrawing one area (irreversible: to give it again, record a wider
    consent). The Child Contact only; the consent through the child, as for a whole withdrawal."""
    actor, access = _child_contact_access(child_id, WITHDRAW_AREA_PAGE)
    heading = ChildHeading.of(access)
    item = get_consent_or_404(actor, access, consent_id, WITHDRAW_AREA_PAGE)
    picture = access.picture
    status = consent_status(
        [item],
        set(picture.custodial_guardian_ids),
        set(picture.mature_agency_ids),
        today(),
        birth_date=access.child.birth_date,
        maturity_min_age=maturity_min_age(),
    )[(item.agency_id, item.purpose)]
    agency = db.session.get(Agency, item.agency_id)
    assert agency is not None
    summary = ConsentSummary(
        agency=agency.name,
        purpose_label=PURPOSE_LABELS.get(item.purpose, item.purpose),
        status=status,
        status_label=CONSENT_STATUS_LABELS[status],
        areas=area_chips(item.area_codes),
        valid_from=item.valid_from,
        valid_until=item.valid_until,
        is_request=item.recorded_at is None,
        is_withdrawn=item.state == "withdrawn",
    )
    guardian_ids = [g.guardian_id for g in item.givers if g.guardian_id is not None]
    names = (
        {
            row.id: (row.public_id, f"{row.given_name} {row.family_name}")
            for row in db.session.execute(
                select(Guardian.id, Guardian.public_id, Guardian.given_name, Guardian.family_name).where(
                    Guardian.id.in_(guardian_ids)
                )
            )
        }
        if guardian_ids
        else {}
    )
    by_key: dict[str, int | None] = {}
    givers: list[tuple[str, object]] = []
    for giver in sorted(item.givers, key=lambda g: (g.given_at, g.id or 0)):
        if giver.withdrawn_at is not None:
            continue
        if giver.guardian_id is None:
            key, label = YOUNG_PERSON, _("The young person")
        else:
            key, label = names[giver.guardian_id]
        givers.append((key, label))
        by_key[key] = giver.guardian_id
    areas = [(chip.code, chip.label) for chip in summary.areas]
    possible = item.state == "recorded" and status in ("active", "expires_soon", "partial", "upcoming")
    possible = possible and len(areas) > 1 and bool(givers)
    form = WithdrawAreaForm()
    form.set_choices([("", _("Choose the area")), *areas], givers)
    tab_url = _tab_url(heading.public_id)

    def page(code: int = 200) -> ResponseReturnValue:
        return (
            render_template(
                "consent/withdraw_area.html",
                child=heading,
                form=form,
                consent=summary,
                possible=possible,
                tab_url=tab_url,
                action_url=request.path,
            ),
            code,
        )

    if request.method == "GET":
        if len(givers) == 1:
            form.giver.data = givers[0][0]
        chosen = request.args.get("area")
        if chosen in {code for code, _label in areas}:
            form.area.data = chosen
        return page()
    if not form.validate_on_submit():
        return page(422)
    area = form.area.data or ""
    label = next((str(lbl) for code, lbl in areas if code == area), area)

    def write() -> None:
        withdraw_consent_area(actor, item, area, by_key.get(form.giver.data or ""), _recorder(actor))

    refused = write_and_commit(form, write, apply_operation_error, _concurrent_change())
    if refused:
        return page(refused)
    flash(
        _(
            "Area withdrawn: from the next page anyone opens, %(agency)s no longer has consent for %(area)s. "
            "The consent goes on for its other areas.",
            agency=summary.agency,
            area=label,
        )
    )
    return redirect(tab_url)


# -- the young person decides ---------------------------------------------------------------------------
@consent.route("/children/<child_id>/consent/maturity", methods=["GET", "POST"])
@policy("child")
def maturity(child_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, MATURITY_PAGE)
    child, heading = access.child, ChildHeading.of(access)
    agencies = _all_agencies()
    own = actor.acting_agency
    assert own is not None
    may_see_others = _may_see_others(actor, access)
    decides_for = [
        a.name for a in agencies if a.id in access.picture.mature_agency_ids and (a.id == own.id or may_see_others)
    ]
    form = MaturityForm()
    form.set_choices(_agency_pairs(agencies))

    def page(status: int = 200) -> ResponseReturnValue:
        return (
            render_template("consent/maturity.html", child=heading, form=form, decides_for=decides_for),
            status,
        )

    if request.method == "GET":
        chosen = _chosen_agency(agencies, request.args.get("agency"))
        if chosen is not None:
            form.agency.data = chosen.public_id
        return page()
    if not form.validate_on_submit():
        return page(422)
    agency = _chosen_agency(agencies, form.agency.data)
    assert agency is not None
    agency_row = db.session.get(Agency, agency.id)
    assert agency_row is not None  # chosen from the agencies just listed

    def write() -> None:
        record_maturity(
            actor,
            child,
            agency_row,
            _recorder(actor),
            form.note.data,
            agency_hidden=_agency_hidden(actor, access, agency.id),
        )

    status = write_and_commit(form, write, apply_operation_error, _concurrent_change())
    if status:
        return page(status)
    flash(
        _(
            "Recorded: %(name)s decides about consent for %(agency)s from now on.",
            name=heading.name,
            agency=agency.name,
        )
    )
    return redirect(_tab_url(heading.public_id))
