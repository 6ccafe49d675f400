"""The Child's Plan in figures: SQL statements per request and how long the pages and the PDF take.

    .venv/bin/python -m tests.benchmarks.plan_benchmark                 # SQLite (``make bench``)
    .venv/bin/python -m tests.benchmarks.plan_benchmark --postgresql    # on PostgreSQL instead
                                                    # (make bench BENCH_ARGS=--postgresql)

It builds a throwaway database of its own — a SQLite file in a temporary folder, or with ``--postgresql`` a
database named ``barnkompass_bench_<random>`` on the server at ``BARNKOMPASS_TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), dropped again at the end — migrates it and loads the
demo the way the test suite does (tests/conftest.py). Then Omar's plan (johan keeps it) is grown to 10, 100
and 1000 actions owned by karin (BUP) and each page is requested through Flask's test client as the persona
who would open it: the Plan tab as johan (keeper) and lars (team member), karin's worklist and the BUP
agency view as bodil (every status), the diff from the demo's last version to one published after growing,
and the PDF as johan at the demo's size and at 100 actions. Statements are counted with an SQLAlchemy
``before_cursor_execute`` listener (savepoints aside, as in the suite's ``count_queries``); times are the
median of a few warmed-up requests. Figures, not a pass/fail: the tests assert the statement counts.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine, make_url

from agencies.models import Membership
from childplan.models import Action, ActionArea, Need, Plan, PlanVersion
from childplan.operations import publish_version
from coordination.access import Actor
from coordination.children.models import Child
from coordination.clock import now, today
from coordination.database import db as database
from coordination.demo.loader import load_demo
from coordination.migrate import upgrade
from coordination.models import Account
from tests.conftest import make_test_app
from tests.helpers import login
from tests.teams.support import BUP, agency, membership

PG_URL = os.environ.get("BARNKOMPASS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_PREFIX = "barnkompass_bench_"
PLAN_SIZES = (10, 100, 1000)
WORKLIST_SIZES = (100, 1000)
PDF_REPEATS = 3
BUP_UNIT = "BUP öppenvårdsmottagning"
AREAS = ("healthy", "nurtured", "safe", "included")
UNCOUNTED = ("SAVEPOINT", "RELEASE", "ROLLBACK TO")
_WORKLIST_TOTAL = re.compile(r'data-count="(\d+)"')


def repeats(size: int) -> int:
    """Fewer requests at the largest size keeps one run within a few minutes on two cores."""
    return 3 if size >= 1000 else 5


# -- the throwaway database -------------------------------------------------------------------------------------
@dataclass
class BenchDatabase:
    kind: str
    url: str
    server_version: str


def _pg_url(database_name: str) -> str:
    url = make_url(PG_URL).set(database=database_name, drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _pg_admin() -> Engine:
    return create_engine(_pg_url(make_url(PG_URL).database or "postgres"), isolation_level="AUTOCOMMIT")


@contextmanager
def bench_database(kind: str, workdir: Path) -> Iterator[BenchDatabase]:
    """A database of our own: a SQLite file under ``workdir``, or a PostgreSQL database that only this run
    creates and drops (named ``barnkompass_bench_<random>``)."""
    if kind == "sqlite":
        yield BenchDatabase(kind, f"sqlite:///{workdir / 'bench.sqlite'}", f"SQLite {sqlite3.sqlite_version}")
        return
    name = f"{BENCH_PREFIX}{secrets.token_hex(4)}"
    admin = _pg_admin()
    try:
        with admin.connect() as connection:
            server = connection.execute(text("SHOW server_version")).scalar()
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield BenchDatabase(kind, _pg_url(name), f"PostgreSQL {server}")
        finally:
            assert name.startswith(BENCH_PREFIX), "the benchmark drops only its own database"
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def demo_app(url: str, workdir: Path) -> Flask:
    """Migrate, load the demo through its operations and commit (as tests/conftest.py builds its template)."""
    upgrade(url)
    app = make_test_app(url, workdir / "instance", LOG_FILE=str(workdir / "barnkompass-bench.log"))
    with app.app_context():
        load_demo()
        database.session.commit()
    return app


# -- counting and timing ------------------------------------------------------------------------------------------
class StatementCounter:
    """Counts the statements the app sends while ``counting`` is on."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.on = False
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, _conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if self.on and not statement.lstrip().upper().startswith(UNCOUNTED):
            self.statements += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.statements, self.on = 0, True
        try:
            yield
        finally:
            self.on = False


@dataclass(frozen=True)
class Measurement:
    statements: int
    median_ms: float
    runs: int
    size_kb: float
    body: bytes


def measure(counter: StatementCounter, client: FlaskClient, path: str, runs: int) -> Measurement:
    """One warm-up request, then ``runs`` requests: the statements of the last and the median time."""
    warm = client.get(path)
    if warm.status_code != 200:
        raise SystemExit(f"GET {path} answered {warm.status_code}")
    times: list[float] = []
    statements = 0
    body = b""
    for _ in range(runs):
        with counter.counting():
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
        statements, body = counter.statements, response.data
    return Measurement(statements, statistics.median(times), runs, len(body) / 1024, body)


# -- Omar's plan, grown -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Omar:
    child_public_id: str
    plan_id: int
    first_version_id: str  # the demo's last published version: the diff's left side


def find_omar(app: Flask) -> Omar:
    with app.app_context():
        child = database.session.scalars(select(Child).where(Child.given_name == "Omar")).one()
        plan = database.session.scalars(select(Plan).where(Plan.child_id == child.id)).one()
        last = database.session.scalars(
            select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.number.desc()).limit(1)
        ).one()
        return Omar(child.public_id, plan.id, last.public_id)


def action_count(app: Flask, omar: Omar) -> int:
    with app.app_context():
        return database.session.scalar(select(func.count(Action.id)).where(Action.plan_id == omar.plan_id)) or 0


def grow_plan(app: Flask, omar: Omar, size: int) -> None:
    """Add actions owned by karin (BUP, her unit and herself) until Omar's plan holds ``size``, inserted in
    bulk as tests/childplan/test_plan_page.py does; they serve the plan's BUP need where there is one."""
    missing = size - action_count(app, omar)
    if missing <= 0:
        return
    with app.app_context():
        plan = database.session.get(Plan, omar.plan_id)
        assert plan is not None
        karin = membership("Karin", BUP, BUP_UNIT)
        bup = agency(BUP)
        need_id = database.session.scalar(
            select(Need.id).where(Need.plan_id == plan.id, Need.agency_id == bup.id).order_by(Need.id).limit(1)
        )
        moment, day = now(), today()
        database.session.add_all(
            Action(
                plan_id=plan.id,
                child_id=plan.child_id,
                need_id=need_id if index % 2 else None,
                what=f"Benchmark action {index}: a talk about sleep and mornings",
                owner_agency_id=bup.id,
                owner_unit_id=karin.unit_id,
                owner_person_id=karin.staff_person_id,
                starts_on=day - timedelta(days=30),
                due_on=day + timedelta(days=index % 60 - 20),
                status="in_progress" if index % 3 else "planned",
                is_withheld_from_guardians=False,
                version=1,
                created_at=moment,
                changed_at=moment,
                areas=[ActionArea(area=AREAS[index % len(AREAS)])],
            )
            for index in range(missing)
        )
        database.session.commit()


def _actor_of(username: str) -> Actor:
    account = database.session.scalars(select(Account).where(Account.username == username)).one()
    memberships = tuple(
        database.session.scalars(
            select(Membership).where(
                Membership.staff_person_id == account.staff_person_id, Membership.ended_at.is_(None)
            )
        )
    )
    acting = memberships[0].agency
    return Actor(account, acting, tuple(m for m in memberships if m.agency_id == acting.id))


def publish(app: Flask, omar: Omar) -> str:
    """johan publishes the grown plan as a new version; returns its public id."""
    with app.test_request_context():
        plan = database.session.get(Plan, omar.plan_id)
        assert plan is not None
        version = publish_version(_actor_of("johan"), plan)
        database.session.commit()
        return version.public_id


# -- the run -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    page: str
    viewer: str
    actions: int
    rows: str
    measurement: Measurement


def run(app: Flask) -> tuple[list[Row], list[Row]]:
    counter = StatementCounter(app.extensions["database"].engine)
    clients: dict[str, FlaskClient] = {}
    for username in ("johan", "lars", "karin", "bodil"):
        clients[username] = app.test_client()
        if login(clients[username], username).status_code != 302:
            raise SystemExit(f"{username} could not log in")
    omar = find_omar(app)
    plan_path = f"/children/{omar.child_public_id}/plan"
    pdf_path = f"/children/{omar.child_public_id}/plan.pdf"
    pages: list[Row] = []
    pdfs: list[Row] = []

    def step(label: str, work: Callable[[], Row]) -> None:
        print(f"  … {label}", file=sys.stderr, flush=True)
        row = work()
        (pdfs if row.page == "PDF" else pages).append(row)

    def pdf_row() -> Row:
        size = action_count(app, omar)
        return Row("PDF", "johan", size, "", measure(counter, clients["johan"], pdf_path, PDF_REPEATS))

    step(f"PDF at {action_count(app, omar)} actions", pdf_row)
    for size in PLAN_SIZES:
        grow_plan(app, omar, size)
        for username in ("johan", "lars"):
            step(
                f"Plan tab as {username} at {size}",
                lambda username=username, size=size: Row(
                    "Plan tab", username, size, "", measure(counter, clients[username], plan_path, repeats(size))
                ),
            )
        if size in WORKLIST_SIZES:
            for username, path in (
                ("karin", "/worklist?status=all"),
                ("bodil", "/worklist?view=agency&status=all"),
            ):

                def worklist_row(username: str = username, path: str = path, size: int = size) -> Row:
                    measured = measure(counter, clients[username], path, repeats(size))
                    total = _WORKLIST_TOTAL.search(measured.body.decode())
                    return Row("Worklist", username, size, total.group(1) if total else "?", measured)

                step(f"worklist as {username} at {size}", worklist_row)
        newest = publish(app, omar)
        diff_path = f"{plan_path}/versions/{omar.first_version_id}...{newest}"
        step(
            f"versions diff at {size}",
            lambda size=size, diff_path=diff_path: Row(
                "Versions diff", "johan", size, "", measure(counter, clients["johan"], diff_path, repeats(size))
            ),
        )
        if size == 100:
            step("PDF at 100 actions", pdf_row)
    return pages, pdfs


def table(headings: tuple[str, ...], lines: list[tuple[str, ...]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(headings, *lines, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True))]
        )

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headings), rule, *(line(cells) for cells in lines)])


def report(kind_version: str, pages: list[Row], pdfs: list[Row], seconds: float) -> str:
    page_lines = [
        (
            row.page,
            row.viewer,
            str(row.actions),
            row.rows or "-",
            str(row.measurement.statements),
            f"{row.measurement.median_ms:.0f}",
            str(row.measurement.runs),
        )
        for row in pages
    ]
    pdf_lines = [
        (
            row.page,
            row.viewer,
            str(row.actions),
            f"{row.measurement.median_ms / 1000:.2f}",
            f"{row.measurement.size_kb:.0f}",
            str(row.measurement.runs),
        )
        for row in pdfs
    ]
    return "\n".join(
        [
            "",
            f"The Child's Plan — Omar's plan grown, on {kind_version}",
            "",
            table(("page", "viewer", "actions", "listed", "statements", "median ms", "runs"), page_lines),
            "",
            table(("print", "viewer", "actions", "median s", "KB", "runs"), pdf_lines),
            "",
            "listed: the worklist's total (karin's actions, or all of BUP's in bodil's agency view), paged.",
            "SQLite counts two statements more than PostgreSQL on every page: the explicit BEGINs of its connections.",
            f"Whole run {seconds:.0f} s (database built, demo loaded, every request).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgresql", action="store_true", help="run on a PostgreSQL database of its own")
    kind = "postgresql" if parser.parse_args(argv).postgresql else "sqlite"
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), {os.cpu_count()} CPUs")
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="barnkompass-bench-") as folder,
        bench_database(kind, Path(folder)) as bench,
    ):
        print(f"Database: {bench.server_version}", flush=True)
        print("Building the database and loading the demo …", file=sys.stderr, flush=True)
        app = demo_app(bench.url, Path(folder))
        try:
            pages, pdfs = run(app)
        finally:
            app.extensions["database"].engine.dispose()
    print(report(bench.server_version, pages, pdfs, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
