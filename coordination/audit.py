"""The audit trail (RULES.md §9).

Writes are audited inside the write's own transaction (``record_write``). Reads and denied attempts are
collected during the request (``note_read``, ``note_denied``) and written after the request ends, after
its commit or rollback, in a transaction of their own and one INSERT statement — so a failed request keeps
them, and a page costs one audit statement however many reads and denials it notes. The table has no
foreign keys; rows are never updated or deleted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ParamSpec, Protocol, TypeVar, cast

from flask import Flask, Response, g, has_request_context
from sqlalchemy import insert

from coordination.clock import now
from coordination.database import db
from coordination.errors import OperationError
from coordination.model_base import Base
from coordination.models import AuditEvent

P = ParamSpec("P")
R = TypeVar("R")

_DIGIT_RUN = re.compile(r"\d[\d+-]{5,}\d")  # as coordination.security.loggable_path masks log lines
log = logging.getLogger(__name__)

LEGAL_BASES: tuple[str, ...] = (
    "consent",
    "duty_to_report",
    "own_agency_record",
    "relation_child_contact",
    "relation_support_coordinator",
    "relation_team",
    "relation_action_owner",
    "relation_unit",
    "custody",
    "young_person",
    "social_services_decision",
    "duty_to_provide_information",
    "agency_administration",
    "emergency",
    "platform_administration",
)


@dataclass(frozen=True)
class AuditActor:
    """Who did it: enough to write an audit row without a foreign key."""

    kind: str  # staff, platform_admin, analyst, guardian, young_person, system
    account_id: int | None = None
    staff_person_id: int | None = None
    acting_agency_id: int | None = None


SYSTEM = AuditActor(kind="system")


@dataclass
class _Pending:
    events: list[dict[str, Any]] = field(default_factory=list)


def _request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _row(
    actor: AuditActor,
    action: str,
    *,
    outcome: str,
    child_id: int | None,
    object_type: str | None,
    object_id: str | None,
    legal_basis: str | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    if legal_basis is not None and legal_basis not in LEGAL_BASES:
        raise ValueError(f"unknown legal basis {legal_basis!r}")
    return dict(
        occurred_at=now(),
        actor_kind=actor.kind,
        actor_account_id=actor.account_id,
        actor_staff_person_id=actor.staff_person_id,
        acting_agency_id=actor.acting_agency_id,
        action=action,
        outcome=outcome,
        child_id=child_id,
        object_type=object_type,
        object_id=object_id,
        legal_basis=legal_basis,
        request_id=_request_id(),
        detail=detail,
    )


def record_write(
    actor: AuditActor,
    action: str,
    *,
    child_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    legal_basis: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a write in the same transaction as the write itself."""
    db.session.add(
        AuditEvent(
            **_row(
                actor,
                action,
                outcome="allowed",
                child_id=child_id,
                object_type=object_type,
                object_id=object_id,
                legal_basis=legal_basis,
                detail=detail,
            )
        )
    )


def _pending() -> _Pending:
    pending = g.get("_bk_audit_pending")
    if pending is None:
        pending = g._bk_audit_pending = _Pending()
    return pending


def note_read(
    actor: AuditActor,
    action: str,
    *,
    child_id: int | None,
    object_type: str | None = None,
    object_id: str | None = None,
    legal_basis: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    _pending().events.append(
        _row(
            actor,
            action,
            outcome="allowed",
            child_id=child_id,
            object_type=object_type,
            object_id=object_id,
            legal_basis=legal_basis,
            detail=detail,
        )
    )


def note_denied(
    actor: AuditActor,
    action: str,
    *,
    child_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """A refused attempt. ``object_id`` is often what someone typed into an address: a long run of digits
    in it (an identity number) is masked, so the audit trail never stores one in clear."""
    _pending().events.append(
        _row(
            actor,
            action,
            outcome="denied",
            child_id=child_id,
            object_type=object_type,
            object_id=_DIGIT_RUN.sub("<digits>", object_id) if object_id else object_id,
            legal_basis=None,
            detail=detail,
        )
    )


def flush_pending() -> None:
    """Write the collected read and denial events in their own transaction."""
    pending: _Pending | None = g.pop("_bk_audit_pending", None)
    if not pending or not pending.events:
        return
    session = db.independent_session()
    try:
        # One INSERT (an executemany) for every row, whatever the count and the mix of reads and denials:
        # each row carries every column (``_row``), and ``render_nulls`` keeps its NULLs in the statement —
        # without it the ORM leaves out NULL columns and splits the batch by which columns are NULL.
        session.execute(insert(AuditEvent).execution_options(render_nulls=True), pending.events)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not write %d audit events", len(pending.events))
        raise
    finally:
        session.close()


def init_app(app: Flask) -> None:
    @app.after_request
    def _write_audit_before_sending(response: Response) -> Response:
        # The view has committed what it wanted; the rest of its transaction is rolled back. Then
        # what was read or denied is written in a transaction of its own, before the response
        # leaves: a page whose reads cannot be audited is not sent (the error page is).
        db.end_request_session()
        flush_pending()
        return response

    @app.teardown_request
    def _end_request(_exc: BaseException | None) -> None:
        # Whatever did not reach after_request (a failure while sending): same order, but the
        # response is gone, so a failure can only be logged.
        db.end_request_session()
        try:
            flush_pending()
        except Exception:  # noqa: BLE001 - logged in flush_pending
            pass


class Acting(Protocol):
    """Anyone an operation is done by (a person's ``Actor``, the platform's ``SystemActor``)."""

    def audit_actor(self) -> AuditActor: ...


def refusals_audited(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an operation ``verb_noun(actor, …)``: when it refuses (``OperationError``), the attempt
    is noted as a denial that is written after the request — after its rollback — so a refused or
    rolled-back write still leaves its trail (RULES.md §9)."""

    def decorate(operation: Callable[P, R]) -> Callable[P, R]:
        @wraps(operation)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return operation(*args, **kwargs)
            except OperationError as error:
                if has_request_context():
                    actor = cast(Acting, args[0])  # every audited operation takes its actor first
                    note_denied(
                        actor.audit_actor(),
                        action,
                        child_id=_child_id_among([*args[1:], *kwargs.values()]),
                        detail={"refused": error.field or "form"},
                    )
                raise

        return wrapper

    return decorate


def _child_id_among(values: list[Any]) -> int | None:
    """The child an operation's arguments name: the child itself (a row of the ``child`` table: the shell
    names no domain class), or the first object with a ``child_id``."""
    for value in values:
        if isinstance(value, Base) and getattr(value, "__tablename__", None) == "child":
            return int(getattr(value, "id"))  # noqa: B009 - the shell names no domain class
        child_id = getattr(value, "child_id", None)
        if isinstance(child_id, int):
            return child_id
    return None
