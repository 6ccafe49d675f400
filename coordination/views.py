"""The app shell's pages: home per kind of actor, login, logout, language, health, and the demo picker."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from agencies.models import Membership, StaffPerson
from coordination.access import Actor
from coordination.audit import record_write
from coordination.auth import begin_login, check_login, end_session
from coordination.children.family import family_child_rows
from coordination.children.views import MAX_QUERY_LENGTH, children_page
from coordination.database import db
from coordination.demo.ekby import PERSONAS
from coordination.forms import DemoLoginForm, LanguageForm, LoginForm
from coordination.labels import ACTOR_KIND_LABELS
from coordination.models import Account
from coordination.policies import current_actor, policy

main = Blueprint("main", __name__)
auth = Blueprint("auth", __name__)
demo = Blueprint("demo", __name__, url_prefix="/demo")

HOME_TEMPLATES = {
    "staff": "home/staff.html",
    "agency_admin": "home/staff.html",
    "platform_admin": "home/platform_admin.html",
    "analyst": "home/analyst.html",
    "guardian": "home/guardian.html",
    "young_person": "home/young_person.html",
}


def safe_next(target: str | None) -> str | None:
    """Only a local path may be a redirect target (no open redirects)."""
    if not target or len(target) > 500:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@main.get("/")
@policy("authenticated")
def home() -> str:
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


def family_rows(actor: Actor, children: list) -> list[dict[str, object]]:  # type: ignore[type-arg]
    """For a guardian or young person: each child with whom to call. A protected identity or a
    restricted custody shows the neutral switchboard number instead (RULES.md §7)."""

    return family_child_rows(actor, children)


@main.get("/healthz")
@policy("public")
def healthz() -> tuple[str, int, dict[str, str]]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - the answer is the point
        current_app.logger.exception("health check: the database does not answer")
        return "database unavailable\n", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@main.post("/language")
@policy("public")
def set_language():  # type: ignore[no-untyped-def]
    form = LanguageForm()
    target = safe_next(form.next.data) or url_for("main.home")
    if not form.validate_on_submit():
        flash(_("Choose Svenska or English."), "error")
        return redirect(target)
    session["language"] = form.language.data
    actor = current_actor()
    if actor is not None:
        actor.account.language = form.language.data
        db.session.commit()
    return redirect(target)


@main.post("/acting-agency")
@policy("staff")
def switch_agency():  # type: ignore[no-untyped-def]
    """Staff in several agencies act for one at a time; every audit row names the acting agency."""
    actor = current_actor()
    assert actor is not None
    wanted = (request.form.get("agency") or "")[:64]
    membership = next(
        (
            m
            for m in sorted(actor.account.staff_person.memberships, key=lambda m: m.unit.name)
            if m.ended_at is None and m.agency.public_id == wanted
        ),
        None,
    )
    if membership is None:
        abort(404)
    current_user.login_session.acting_membership_id = membership.id
    record_write(actor.audit_actor(), "switch_acting_agency", detail={"to_agency_id": membership.agency_id})
    db.session.commit()
    flash(_("You now act for %(agency)s.", agency=membership.agency.name), "info")
    return redirect(url_for("main.home"))


# -- login and logout --------------------------------------------------------------------------------
def _personas() -> list[Account]:
    if not current_app.config["DEMO_MODE"]:
        return []

    accounts = db.session.scalars(
        select(Account)
        .where(Account.is_demo.is_(True), Account.is_active.is_(True))
        .options(
            selectinload(Account.staff_person).selectinload(StaffPerson.memberships).selectinload(Membership.agency),
            selectinload(Account.guardian),
            selectinload(Account.child),
            selectinload(Account.platform_admin),
            selectinload(Account.analyst),
        )
    )
    order = {username: index for index, username in enumerate(PERSONAS)}
    return sorted(accounts, key=lambda account: (order.get(account.username, len(order)), account.username))


def persona_description(account: Account) -> str:
    """One line that says who a demo persona is, for the persona picker."""

    if account.staff_person is not None:
        person = account.staff_person
        agencies = sorted({m.agency.name for m in person.memberships if m.ended_at is None})
        return f"{person.full_name}, {person.title or ''} – {', '.join(agencies)}".replace(", –", " –")
    if account.guardian is not None:
        return f"{account.guardian.full_name} – {ACTOR_KIND_LABELS['guardian']}"
    if account.child is not None:
        return f"{account.child.full_name} – {ACTOR_KIND_LABELS['young_person']}"
    if account.platform_admin is not None:
        return str(ACTOR_KIND_LABELS["platform_admin"])
    if account.analyst is not None:
        return f"{account.analyst.name} – {ACTOR_KIND_LABELS['analyst']}"
    return account.username


@auth.route("/login", methods=["GET", "POST"])
@policy("public")
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    error: str | None = None
    if form.validate_on_submit():
        result = check_login(form.username.data or "", form.password.data or "")
        if result.account is not None:
            begin_login(result.account)
            db.session.commit()
            return redirect(safe_next(form.next.data) or url_for("main.home"))
        db.session.commit()  # the back-off state
        if result.error == "blocked":
            minutes = max(1, (result.retry_after_seconds + 59) // 60)
            error = _("Too many attempts. Wait %(minutes)s minutes and try again.", minutes=minutes)
        else:
            error = _("The username or password is wrong.")
        form.password.data = ""
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/login.html", form=form, error=error, personas=_personas(), demo_form=DemoLoginForm()
    ), status


@auth.post("/logout")
@policy("public")
def logout():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        record_write(current_user.actor.audit_actor(), "logout")
        end_session(current_user.token)
        db.session.commit()
    logout_user()
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@demo.post("/login/<username>")
@policy("demo")
def login_as(username: str):  # type: ignore[no-untyped-def]
    """The demo persona picker: one click logs in as a demo persona. Registered only in demo mode."""
    form = DemoLoginForm()
    if not form.validate_on_submit():
        abort(400)
    account = db.session.scalar(
        select(Account).where(
            Account.username == username[:150], Account.is_demo.is_(True), Account.is_active.is_(True)
        )
    )
    if account is None:
        abort(404)
    begin_login(account)
    db.session.commit()
    return redirect(url_for("main.home"))


def session_expired_notice() -> None:
    if g.get("session_expired"):
        flash(_("You were logged out because you were inactive for a while. Log in again to continue."), "info")
