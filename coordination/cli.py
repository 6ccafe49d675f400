"""The ``barnkompass`` command: a Flask CLI group with the app's own commands.

``barnkompass db upgrade`` · ``barnkompass seed-demo`` · ``barnkompass create-admin`` ·
``barnkompass demo-needs-reload`` · ``barnkompass serve`` (plus Flask's own ``run``, ``shell``, ``routes``).
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from sqlalchemy import inspect, select

from coordination.config import is_loopback_host


def _create_app() -> Flask:
    from coordination.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, load_dotenv=False)
def main() -> None:
    """Barnkompass: one team around the child."""


# Flask's own `run` is left out on purpose: `serve` is the one way to start the development server,
# and it refuses to listen beyond this machine in demo mode.
main.add_command(shell_command)
main.add_command(routes_command)


def register_commands(app: Flask) -> None:
    from agencies.cli import agency_group, staff_group, unit_group

    app.cli.add_command(db_group)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_admin)
    app.cli.add_command(demo_needs_reload)
    app.cli.add_command(serve)
    app.cli.add_command(agency_group)
    app.cli.add_command(unit_group)
    app.cli.add_command(staff_group)


@click.group("db", help="Database migrations (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    from coordination.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("The database is up to date.")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from coordination.migrate import revision

    revision(current_app.config["DATABASE_URL"], message)


def database_is_empty() -> bool:
    from agencies.models import Agency
    from coordination.children.models import Child
    from coordination.database import db
    from coordination.models import Account

    return all(db.session.scalar(select(model.id).limit(1)) is None for model in (Agency, Account, Child))


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo municipality Ekby into an empty database."""
    from coordination.database import db
    from coordination.demo.loader import load_demo

    if not current_app.config["DEMO_MODE"] and current_app.config["ENVIRONMENT"] != "test":
        raise click.ClickException("seed-demo needs demo mode (BARNKOMPASS_DEMO_MODE=true).")
    if not database_is_empty():
        raise click.ClickException("The database already holds data; seed-demo only fills an empty database.")
    summary = load_demo()
    db.session.commit()
    click.echo(f"Loaded the demo: {summary}")


DEMO_FRESH_EXIT_CODE = 10


@click.command("demo-needs-reload")
@with_appcontext
def demo_needs_reload() -> None:
    """Exit 0 when the demo must be (re)loaded — no database, no demo, more than a day old, loaded
    under an older schema or by an older loader — and 10 when it is fresh. Any other exit code is an error."""
    from alembic.script import ScriptDirectory

    from coordination.clock import now
    from coordination.database import db
    from coordination.demo.loader import STORY, loaded_at, loaded_schema, loaded_story
    from coordination.migrate import alembic_config

    engine = db.engine
    if "setting" not in inspect(engine).get_table_names():
        click.echo("no database yet")
        sys.exit(0)
    moment = loaded_at()
    if moment is None:
        click.echo("no demo data")
        sys.exit(0)
    if now() - moment > timedelta(days=1):
        click.echo("the demo is more than a day old")
        sys.exit(0)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if loaded_schema() != head:
        click.echo("the demo was loaded under an older schema")
        sys.exit(0)
    if loaded_story() != STORY:
        click.echo("the demo was loaded by an older loader (parts of the story are missing)")
        sys.exit(0)
    click.echo("the demo is fresh")
    sys.exit(DEMO_FRESH_EXIT_CODE)


@click.command("create-admin")
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.option("--email", default=None)
@with_appcontext
def create_admin(username: str, name: str, email: str | None) -> None:
    """Create a platform administrator. The password comes from BARNKOMPASS_ADMIN_PASSWORD or a prompt."""
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.operations import create_platform_admin
    from coordination.database import db
    from coordination.errors import OperationError

    password = os.environ.get("BARNKOMPASS_ADMIN_PASSWORD")
    if not password:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat the password: "):
            raise click.ClickException("The passwords differ.")
    if len(password) < 12:
        raise click.ClickException("Use a password of at least 12 characters.")
    try:
        create_platform_admin(SYSTEM_ACTOR, name, username, password, email=email)
    except OperationError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created the platform administrator {username.strip().lower()}.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve with the development server. Demo mode refuses to listen beyond this machine."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the LocalProxy (Flask documents it)
    if app.config["DEMO_MODE"] and not is_loopback_host(host):
        raise click.ClickException("Demo mode only listens on this machine (127.0.0.1).")
    # Werkzeug's access log prints whole request lines, query strings included: keep it to warnings.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    click.echo(f"Barnkompass on http://{host}:{port}/  (stop with Ctrl+C)")
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
