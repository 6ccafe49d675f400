"""Logging in and out, server-side sessions, timeouts and login back-off.

The Flask session cookie carries only an opaque session token (and the CSRF token); the
``login_session`` row it points at is checked on every request, so logout and deactivation end a
session at once. There is no remember-me cookie. Idle timeout and absolute lifetime come from
configuration (30 min / 12 h). Failed logins back off per username, known or not, with the state in
the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import current_app, g, has_app_context, request, session
from flask_login import UserMixin, login_user
from sqlalchemy import Executable, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from agencies.models import Membership, StaffPerson
from coordination.access import Actor
from coordination.audit import AuditActor, record_write
from coordination.clock import now
from coordination.database import db, writing
from coordination.extensions import login_manager
from coordination.models import Account, LoginSession, LoginThrottle

V = TypeVar("V", bound=Callable[..., Any])

# Compared against when the username is unknown, so both paths cost the same (one per hash method).
_DUMMY_HASHES: dict[str, str] = {}
_TOUCH_EVERY = timedelta(seconds=60)
MAX_USERNAME_LENGTH = 150
MAX_PASSWORD_LENGTH = 1024


class SessionUser(UserMixin):
    """What Flask-Login holds for a request: the session row's token and the actor."""

    def __init__(self, token: str, login_session: LoginSession, actor: Actor) -> None:
        self.token = token
        self.login_session = login_session
        self.actor = actor

    def get_id(self) -> str:
        return self.token


def _hash_method() -> str:
    return str(current_app.config["PASSWORD_HASH_METHOD"]) if has_app_context() else "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())  # scrypt


def _dummy_hash() -> str:
    method = _hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _DUMMY_HASHES[method]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _username_key(username: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, username.strip().lower().encode(), hashlib.sha256).hexdigest()


def demo_logins_allowed() -> bool:
    config = current_app.config
    return bool(config["DEMO_MODE"] or (config["ENVIRONMENT"] == "test" and config["ALLOW_DEMO_LOGINS_IN_TEST"]))


def family_passwords_allowed() -> bool:
    config = current_app.config
    return bool(config["DEMO_MODE"] or config["ENVIRONMENT"] == "test")


# -- the outcome of a login attempt ---------------------------------------------------------------------
@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    error: str | None  # "invalid", "blocked", "not_allowed"
    retry_after_seconds: int = 0


def account_may_log_in(account: Account) -> bool:
    if not account.is_active:
        return False
    if account.staff_person is not None and not account.staff_person.is_active:
        return False
    if account.is_demo and not demo_logins_allowed():
        return False
    if account.kind in ("guardian", "young_person") and not family_passwords_allowed():
        return False
    if account.kind == "staff" and default_membership(account) is None:
        return False  # staff act for an agency; without a current membership they act for nobody
    return True


def check_login(username: str, password: str) -> LoginResult:
    """Check a username and password with back-off. Writes only the back-off state."""
    moment = now()
    key = _username_key(username[:MAX_USERNAME_LENGTH])
    throttle = _locked_throttle(key)
    if throttle is not None and throttle.blocked_until is not None and throttle.blocked_until > moment:
        wait = int((throttle.blocked_until - moment).total_seconds()) + 1
        return LoginResult(None, "blocked", wait)
    lookup = username.strip().lower()[:MAX_USERNAME_LENGTH]
    # A NUL byte can be in no username, and PostgreSQL refuses it in a query: unknown, not a 500.
    account = None if "\x00" in lookup else db.session.scalar(select(Account).where(Account.username == lookup))
    password_ok = check_password_hash(
        account.password_hash if account and account.password_hash else _dummy_hash(), password[:MAX_PASSWORD_LENGTH]
    )
    if account is not None and password_ok and account.password_hash and account_may_log_in(account):
        db.session.delete(throttle)
        return LoginResult(account, None)
    throttle.failures += 1
    throttle.last_failure_at = moment
    free = current_app.config["LOGIN_FREE_ATTEMPTS"]
    if throttle.failures >= free:
        delay = min(2 ** (throttle.failures - free), current_app.config["LOGIN_MAX_DELAY_SECONDS"])
        throttle.blocked_until = moment + timedelta(seconds=delay)
    return LoginResult(None, "invalid")


def _locked_throttle(key: str) -> LoginThrottle:
    """The back-off row for a username, created if missing and locked for this transaction, so that
    parallel attempts are counted one after the other (FOR UPDATE on PostgreSQL; on SQLite the
    request's BEGIN IMMEDIATE already serialises writers)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(LoginThrottle)
        .values(username_key=key, failures=0)
        .on_conflict_do_nothing(index_elements=["username_key"])
    )
    throttle = db.session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.username_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert throttle is not None
    return throttle


def default_membership(account: Account) -> Membership | None:
    if account.staff_person is None:
        return None
    current = [m for m in account.staff_person.memberships if m.ended_at is None]
    current.sort(key=lambda m: (m.agency.name, m.unit.name))
    return current[0] if current else None


def start_session(account: Account) -> str:
    """Create a fresh server-side session (renewed at every login) and return its token."""
    moment = now()
    token = secrets.token_urlsafe(32)
    membership = default_membership(account)
    db.session.add(
        LoginSession(
            token_hash=_token_hash(token),
            account_id=account.id,
            acting_membership_id=membership.id if membership else None,
            created_at=moment,
            last_seen_at=moment,
        )
    )
    record_write(
        AuditActor(
            kind=account.kind,
            account_id=account.id,
            staff_person_id=account.staff_person_id,
            acting_agency_id=membership.agency_id if membership else None,
        ),
        "login",
        legal_basis=None,
    )
    return token


def end_session(token: str) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))


def end_all_sessions(account_id: int) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.account_id == account_id))


# Everything an Actor needs, in two statements: the session row joined with its account and person,
# then the person's memberships joined with their units and agencies.
_ACTOR_LOADING = joinedload(LoginSession.account).options(
    joinedload(Account.staff_person)
    .selectinload(StaffPerson.memberships)
    .options(joinedload(Membership.unit), joinedload(Membership.agency)),
    joinedload(Account.guardian),
    joinedload(Account.child),
    joinedload(Account.platform_admin),
    joinedload(Account.analyst),
)


def _load_actor(login_session: LoginSession) -> Actor | None:
    account = login_session.account
    if not account_may_log_in(account):
        return None
    if account.kind != "staff":
        return Actor(account=account, acting_agency=None, memberships=())
    if account.staff_person is None:  # a staff account always has its person (account_may_log_in)
        return None
    memberships = [m for m in account.staff_person.memberships if m.ended_at is None]
    acting = next((m for m in memberships if m.id == login_session.acting_membership_id), None)
    if acting is None and login_session.acting_membership_id is None:
        acting = default_membership(account)
    if acting is None:
        # The acting membership ended: never switch agency silently (RULES.md §1); the session ends.
        return None  # staff without a current membership act for nobody
    in_agency = tuple(sorted((m for m in memberships if m.agency_id == acting.agency_id), key=lambda m: m.unit.name))
    return Actor(account=account, acting_agency=acting.agency, memberships=in_agency)


@login_manager.user_loader
def load_user(token: str) -> SessionUser | None:
    if not isinstance(token, str) or len(token) > 100:
        return None
    login_session = db.session.scalar(
        select(LoginSession).where(LoginSession.token_hash == _token_hash(token)).options(_ACTOR_LOADING)
    )
    if login_session is None:
        return None
    moment = now()
    config = current_app.config
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    if moment - login_session.last_seen_at > idle or moment - login_session.created_at > absolute:
        _bookkeeping(delete(LoginSession).where(LoginSession.id == login_session.id))
        g.session_expired = True
        return None
    actor = _load_actor(login_session)
    if actor is None:
        _bookkeeping(delete(LoginSession).where(LoginSession.id == login_session.id))
        return None
    polling = bool(request.endpoint and getattr(current_app.view_functions.get(request.endpoint), "bk_polling", False))
    if not polling and moment - login_session.last_seen_at >= _TOUCH_EVERY:
        _bookkeeping(update(LoginSession).where(LoginSession.id == login_session.id).values(last_seen_at=moment))
        set_committed_value(login_session, "last_seen_at", moment)
    return SessionUser(token, login_session, actor)


def _bookkeeping(statement: Executable) -> None:
    """Session housekeeping (touch, expiry) in a short write transaction of its own: the reading
    transaction that found the session is ended first, so that a GET never upgrades a read to a write
    (SQLITE_BUSY); the write then starts with BEGIN IMMEDIATE. This runs before the view, so the
    view's own work still commits once."""
    db.session.commit()
    with writing():
        db.session.execute(statement)
        db.session.commit()


def polling(view: V) -> V:
    """Mark a polling endpoint: it neither extends the session nor writes audit rows."""
    view.bk_polling = True  # type: ignore[attr-defined]  # a marker on the function object
    return view


def begin_login(account: Account) -> None:
    """Renew the Flask session at login (no fixation) and put the new token in it."""

    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    token = start_session(account)
    login_session = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    if login_session is None:  # start_session has just written it; this is only a backstop
        raise RuntimeError("a login without its session")
    actor = _load_actor(login_session)
    if actor is None:  # account_may_log_in was checked first; this is only a backstop
        raise RuntimeError("a login without an actor")
    login_user(SessionUser(token, login_session, actor), remember=False)
