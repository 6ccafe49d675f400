"""Every endpoint declares its access policy, and the declaration is enforced here (a meta-test walks
``app.url_map`` and fails on any endpoint without one).

public          anyone (login page, health, language, static files)
authenticated   any logged-in actor
staff           staff acting for an agency
child           staff or family, and the view reaches the child through access.get_child_or_404
agency_admin    staff whose acting membership holds the agency admin role
platform_admin  platform administrators
demo            demo mode only (the blueprint is not even registered outside it)
Out of scope is 404, never 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, request
from flask_login import current_user

from coordination.access import Actor, mask_digits
from coordination.audit import note_denied
from coordination.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

POLICIES = ("public", "authenticated", "staff", "child", "agency_admin", "platform_admin", "demo")


def current_actor() -> Actor | None:
    """The request's actor (the one way views ask who is calling), None when nobody is logged in."""
    return current_user.actor if current_user and current_user.is_authenticated else None


def signed_in_actor() -> Actor:
    """The actor of a view whose policy admits only logged-in callers: ``@policy`` has already refused
    everyone else, so this never fails there (it answers 404 if called without such a policy)."""
    actor = current_actor()
    if actor is None:
        abort(404)
    return actor


def _allowed(name: str) -> bool:
    if name in ("public", "demo"):
        return True
    actor = current_actor()
    if actor is None:
        return False
    if name == "authenticated":
        return True
    if name == "staff":
        return actor.kind == "staff" and actor.acting_agency is not None
    if name == "child":
        return actor.kind in ("staff", "guardian", "young_person")
    if name == "agency_admin":
        return actor.kind == "staff" and actor.is_agency_admin
    if name == "platform_admin":
        return actor.kind == "platform_admin"
    return False


def _audit_denial(name: str) -> None:
    """A logged-in caller outside the policy: the attempt is audited (RULES.md §9), naming the child
    id from the address when there is one (digit runs masked)."""
    actor = signed_in_actor()
    object_id = (request.view_args or {}).get("child_id")
    note_denied(
        actor.audit_actor(),
        f"open:{request.endpoint}",
        object_type="child" if object_id else None,
        object_id=mask_digits(str(object_id)[:64]) if object_id else None,
        detail={"policy": name},
    )


def policy(name: str) -> Callable[[F], F]:
    """Declare and enforce who may call a view. Anonymous callers of a non-public view are sent to
    the login page; logged-in callers outside the policy get 404."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if name not in ("public", "demo") and current_actor() is None:
                return login_manager.unauthorized()
            if not _allowed(name):
                _audit_denial(name)
                abort(404)
            return view(*args, **kwargs)

        wrapper.bk_policy = name  # type: ignore[attr-defined]  # a marker on the function object, read by the policy checks
        return cast(F, wrapper)

    return decorate


def policy_of(view: Callable[..., Any]) -> str | None:
    return getattr(view, "bk_policy", None)
