"""The application factory: configuration, extensions, blueprints (an explicit list), errors."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import coordination.all_models  # noqa: F401  (every mapper known before the first query)
import notifications
from coordination import audit, security
from coordination.access import Actor
from coordination.clock import Clock
from coordination.concerns.operations.unmatched import connect_listeners as connect_concern_listeners
from coordination.config import is_loopback_host, load_config
from coordination.database import db
from coordination.extensions import babel, csrf, htmx, login_manager
from coordination.logging_setup import configure_logging
from coordination.resources import static_dir, templates_dir, translations_dir
from coordination.security import WRITING_METHODS

log = logging.getLogger("barnkompass.app")


def _instance_path() -> Path:
    configured = os.environ.get("BARNKOMPASS_INSTANCE_PATH")
    if configured:
        return Path(configured).resolve()
    return Path.cwd() / "instance"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    instance_path = Path(str((config or {}).get("INSTANCE_PATH") or _instance_path()))
    app = Flask(
        "barnkompass",
        instance_path=str(instance_path),
        template_folder=str(templates_dir()),
        static_folder=str(static_dir()),
        static_url_path="/static",
    )
    settings = load_config(instance_path, config)
    app.config.update(settings)
    app.config.update(
        TESTING=settings["ENVIRONMENT"] == "test",
        SESSION_COOKIE_NAME="bk_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["ENVIRONMENT"] == "production",
        REMEMBER_COOKIE_DURATION=0,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server-side session
        WTF_CSRF_SSL_STRICT=settings["ENVIRONMENT"] == "production",
        BABEL_DEFAULT_LOCALE=settings["DEFAULT_LANGUAGE"],
        BABEL_DEFAULT_TIMEZONE=settings["TIME_ZONE"],
        BABEL_TRANSLATION_DIRECTORIES=str(translations_dir()),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    if settings["PROXY_HOPS"]:
        # Behind a TLS-terminating proxy: trust exactly this many hops for the client address and
        # scheme (so Secure cookies, CSRF's strict referrer check and HSTS see https).
        hops = int(settings["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]  # Werkzeug's documented way to wrap the WSGI app
    configure_logging(app)
    app.extensions["clock"] = Clock(settings["TIME_ZONE"])

    # First, so that every request gets its id before another hook can end it (a CSRF refusal is
    # raised by Flask-WTF's own before_request hook).
    security.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # the server-side session row is the protection
    import coordination.auth  # noqa: F401  (registers the user loader)

    audit.init_app(app)
    _register_blueprints(app)
    notifications.init_app(app)  # the inbox listens to the domain's signals
    connect_concern_listeners()  # concerns waiting for a Child Contact follow the assignment
    _register_request_hooks(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    from coordination.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from agencies.views import admin, agency
    from childplan.views import plan_blueprint, reviews_blueprint, worklist_blueprint
    from coordination.children.views import children
    from coordination.chronology.views import chronology
    from coordination.concerns.views.concern import concern
    from coordination.concerns.views.raising import concerns
    from coordination.consent.views import consent
    from coordination.demo.views import demo
    from coordination.registration.views import registration
    from coordination.reports.views import reports
    from coordination.teams.views import teams
    from coordination.views import auth, main
    from notifications.views import inbox

    blueprints = [main, auth, children]
    blueprints.append(admin)  # /admin: platform administration (no child data)
    blueprints.append(agency)  # /agency: agency administration
    blueprints.append(registration)  # /children/new, the receipt, pending links
    blueprints.append(consent)  # /children/<child_id>/consent: the Consent tab and its actions
    blueprints.append(concerns)  # /concerns/new, /children/<child_id>/concerns/new, /agency/concerns
    blueprints.append(concern)  # /children/<child_id>/concerns/<concern_id>, coordinator requests
    blueprints.append(reports)  # /reports/new, /reports/<report_id>, /intake
    blueprints.append(teams)  # /children/<child_id>/team, meetings
    blueprints.append(chronology)  # /children/<child_id>/chronology
    blueprints.append(inbox)  # /inbox
    blueprints.append(plan_blueprint)  # /children/<child_id>/plan: the Plan tab, versions, the PDF
    blueprints.append(worklist_blueprint)  # /worklist, /agency/actions
    blueprints.append(reviews_blueprint)  # /children/<child_id>/plan/reviews
    if app.config["DEMO_MODE"]:
        blueprints.append(demo)  # demo-only routes do not exist outside demo mode
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def _select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    actor = loaded_actor()
    if actor is not None and actor.account.language in languages:
        return actor.account.language
    language = session.get("language")
    if isinstance(language, str) and language in languages:
        return language
    return str(current_app.config["DEFAULT_LANGUAGE"])


def loaded_actor() -> Actor | None:
    """The actor if the request's user is already loaded; never loads it (error pages must not touch
    the database again when loading it is what failed)."""
    user = g.get("_login_user")
    return user.actor if user is not None and user.is_authenticated else None


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _load_user_first() -> None:
        from coordination.views import session_expired_notice

        if _has_nul_byte():
            abort(400)  # no field of ours can hold one, and PostgreSQL refuses it in a query
        if app.config["DEMO_MODE"] and (
            not is_loopback_host(request.remote_addr or "")
            or any(header in request.headers for header in ("X-Forwarded-For", "X-Forwarded-Host", "Forwarded"))
        ):
            abort(403)  # demo mode serves this machine only, never through a proxy
        if request.endpoint == "static":
            return
        _ = current_user.is_authenticated  # resolve the session row before the view runs
        session_expired_notice()


def _has_nul_byte() -> bool:
    if "\x00" in request.path:
        return True
    values = list(request.args.values())
    if request.method in WRITING_METHODS and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += list(request.form.values())
    return any("\x00" in value for value in values)


def _register_error_handlers(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood. Go back and try again."),
        404: lambda: _("The page you asked for does not exist, or you do not have access to it."),
        405: lambda: _("That is not something this page can do."),
        413: lambda: _("What you sent is too large."),
        429: lambda: _("Too many requests. Wait a moment and try again."),
        500: lambda: _(
            "Something went wrong on our side. Nothing you entered was saved. Try again, and "
            "if it happens again, contact support and give them the code below."
        ),
    }
    titles = {
        400: lambda: _("Something was wrong with the request"),
        404: lambda: _("Page not found"),
        405: lambda: _("Not allowed"),
        413: lambda: _("Too large"),
        429: lambda: _("Too many requests"),
        500: lambda: _("Something went wrong"),
    }

    def render_error(status: int, message: str | None = None) -> ResponseReturnValue:
        code = status if status in titles else (500 if status >= 500 else 400)
        return render_template(
            "error.html",
            status=status,
            title=titles[code](),
            message=message or messages[code](),
            request_id=g.get("request_id"),
        ), status

    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> ResponseReturnValue:
        return render_error(
            400,
            _(
                "The form had expired or was not sent from this site. Nothing was saved. "
                "Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        if error.code and error.code < 400:
            return error
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unhandled error: %s", type(error).__name__)
        db.end_request_session()
        try:
            return render_error(500)
        except Exception:  # noqa: BLE001 - the error page itself failed (e.g. the database is down)
            log.exception("the error page could not be rendered")
            text = "Något gick fel. Inget av det du skrev sparades. / Something went wrong. Nothing was saved.\n"
            return Response(text + f"{g.get('request_id', '')}\n", 500, mimetype="text/plain")


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from childplan.compass import AREAS
    from coordination import labels
    from coordination.demo.views import demo_personas, persona_description
    from coordination.forms import DemoLoginForm
    from coordination.navigation import nav_items

    @app.context_processor
    def _globals() -> dict[str, Any]:
        actor = loaded_actor()
        return {
            "current_actor": actor,
            "nav_items": nav_items(actor),
            "demo_mode": app.config["DEMO_MODE"],
            "current_language": str(get_locale() or app.config["DEFAULT_LANGUAGE"]),
            "compass_areas": AREAS,
            "labels": labels,
            "persona_description": persona_description,
            "demo_personas": demo_personas,  # nobody outside demo mode
            "demo_login_form": DemoLoginForm,
            "has_endpoint": app.view_functions.__contains__,
        }
