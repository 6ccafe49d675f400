"""The demo's persona picker: one click logs in as a demo persona. The blueprint is registered only in
demo mode, and ``demo_personas`` lists nobody outside it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from agencies.models import Membership, StaffPerson
from coordination.auth import begin_login
from coordination.database import db
from coordination.demo.ekby import PERSONAS
from coordination.form_writes import commit
from coordination.forms import DemoLoginForm
from coordination.labels import ACTOR_KIND_LABELS
from coordination.models import Account
from coordination.policies import policy

demo = Blueprint("demo", __name__, url_prefix="/demo")


def demo_personas() -> list[Account]:
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


@demo.post("/login/<username>")
@policy("demo")
def login_as(username: str) -> ResponseReturnValue:
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
    commit()
    return redirect(url_for("children.home"))
