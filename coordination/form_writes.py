"""The request's one commit: one write from a form, committed or refused (what the form pages of every
domain package share), or a write with no form to show again. Views commit only through here (a test
holds every other ``db.session.commit()`` to the shell: auth, the CLIs, the demo loader)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError

from coordination.database import db
from coordination.errors import OperationError, StaleRecord


def write_and_commit(
    form: FlaskForm,
    write: Callable[[], object],
    apply_error: Callable[[FlaskForm, OperationError], None],
    concurrent_message: str | None = None,
) -> int | None:
    """Run one write and commit it. None on success; otherwise the status of the page shown again with
        nothing written: 409 when the record changed meanwhile (``StaleRecord``) or at the same moment (a
        constraint; ``concurrent_message`` says what to do then, when the page knows better than the default),
    422 with the refusal placed by ``apply_error`` next to its field."""
    try:
        write()
        db.session.commit()
    except StaleRecord as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return 409
    except OperationError as error:
        db.session.rollback()
        apply_error(form, error)
        return 422
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(
            concurrent_message or _("Someone changed this at the same moment, so nothing was saved. Try again.")
        )
        return 409
    return None


def commit() -> None:
    """Commit the request's write when there is no form to show again on a refusal (marking an item read,
    choosing a language): the view has already decided it may."""
    db.session.commit()
