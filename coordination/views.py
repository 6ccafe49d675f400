"""The app shell's pages: login, logout, language, acting agency, health. The start page (my children)
is ``coordination.children.views.home``; the demo's persona picker is ``coordination.demo.views``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import text

from coordination.audit import record_write
from coordination.auth import begin_login, check_login, end_session
from coordination.database import db
from coordination.form_writes import commit
from coordination.forms import LanguageForm, LoginForm
from coordination.policies import current_actor, policy, signed_in_actor

main = Blueprint("main", __name__)
auth = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a local path may be a redirect target (no open redirects)."""
    if not target or len(target) > 500:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@main.get("/healthz")
@policy("public")
def healthz() -> ResponseReturnValue:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - the answer is the point
        current_app.logger.exception("health check: the database does not answer")
        return "database unavailable\n", 503, {"Content-Type": "text/plain; charset=utf-8"}
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@main.post("/language")
@policy("public")
def set_language() -> ResponseReturnValue:
    form = LanguageForm()
    target = safe_next(form.next.data) or url_for("children.home")
    if not form.validate_on_submit():
        flash(_("Choose Svenska or English."), "error")
        return redirect(target)
    session["language"] = form.language.data
    actor = current_actor()
    if actor is not None:
        actor.account.language = form.language.data
        commit()
    return redirect(target)


@main.post("/acting-agency")
@policy("staff")
def switch_agency() -> ResponseReturnValue:
    """Staff in several agencies act for one at a time; every audit row names the acting agency."""
    actor = signed_in_actor()
    staff_person = actor.account.staff_person
    assert staff_person is not None  # the policy "staff" admits only staff, who act as their person
    wanted = (request.form.get("agency") or "")[:64]
    membership = next(
        (
            m
            for m in sorted(staff_person.memberships, key=lambda m: m.unit.name)
            if m.ended_at is None and m.agency.public_id == wanted
        ),
        None,
    )
    if membership is None:
        abort(404)
    current_user.login_session.acting_membership_id = membership.id
    record_write(actor.audit_actor(), "switch_acting_agency", detail={"to_agency_id": membership.agency_id})
    commit()
    flash(_("You now act for %(agency)s.", agency=membership.agency.name), "info")
    return redirect(url_for("children.home"))


# -- login and logout --------------------------------------------------------------------------------
@auth.route("/login", methods=["GET", "POST"])
@policy("public")
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("children.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    error: str | None = None
    if form.validate_on_submit():
        result = check_login(form.username.data or "", form.password.data or "")
        if result.account is not None:
            begin_login(result.account)
            commit()
            return redirect(safe_next(form.next.data) or url_for("children.home"))
        commit()  # the back-off state
        if result.error == "blocked":
            minutes = max(1, (result.retry_after_seconds + 59) // 60)
            error = _("Too many attempts. Wait %(minutes)s minutes and try again.", minutes=minutes)
        else:
            error = _("The username or password is wrong.")
        form.password.data = ""
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@auth.post("/logout")
@policy("public")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        record_write(current_user.actor.audit_actor(), "logout")
        end_session(current_user.token)
        commit()
    logout_user()
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


def session_expired_notice() -> None:
    if g.get("session_expired"):
        flash(_("You were logged out because you were inactive for a while. Log in again to continue."), "info")
