"""Beatbook: the Flask application factory.

Features are imported inside the factory's functions, not at the top: every `webapp.<feature>`
module imports this package first, so a module-level import of a feature here would be a loop.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.assets import asset_url, serve_static
from webapp.config import load_config
from webapp.extensions import babel, compress, csrf, db, htmx, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Each feature's plug-ins, one line each: importing a module registers what it brings — event
# receivers, sync kinds, notification kinds, sweep steps (see docs/architecture.md). Order
# matters for the sweep: lead rules first, then re-sending lost pushes (as it always ran).
PLUGINS = (
    "webapp.notify.services",  # receives notices and person_disabled; before anyone raises one
    "webapp.leads.alerts",
    "webapp.leads.sweep",
    "webapp.leads.sync",
    "webapp.visits.sync",
    "webapp.duty.dispatch",  # 110 dispute calls to the mediator on duty; its sweep step passes them on
    "webapp.youth.sync",
    "webapp.dv.alerts",
    "webapp.dv.sweep",
    "webapp.dv.sync",
    "webapp.returnvisits.alerts",
    "webapp.returnvisits.sync",
    "webapp.leads.mediation",  # hears mediation's case_concluded and takes the lead's step
    "webapp.mediation.services",  # mediation's notification kinds
    "webapp.mediation.sweep",
    "webapp.notify.sweep",
    "webapp.audit.anchors",
    "webapp.exports.jobs",  # the export job, its inbox kind and the sweep step deleting expired files
    "webapp.govfeed.listeners",  # a de-identified feed entry per lead event; numbers them each minute
    "webapp.govfeed.tasks",  # after the numbering: batches the newly numbered entries for the webhook
)


def load_plugins() -> None:
    for module in PLUGINS:
        importlib.import_module(module)


# Only our own files run or style a page: no inline script or style, nothing from elsewhere
# (JSON data islands are not scripts). Photos previewed from the outbox are blob: URLs.
# Scripts, styles, fetches, fonts, the manifest and workers fall back to default-src: naming each
# again as 'self' only weighed ~110 bytes on every document a phone downloads.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "img-src 'self' data: blob:", "object-src 'none'", "base-uri 'self'",
    "form-action 'self'", "frame-ancestors 'none'",
))

# Files a page or the worker loads (versioned, immutable): no document-policy headers on them.
SUBRESOURCE_ENDPOINTS = frozenset({"static", "offline.module"})


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app; `test_config` overrides the environment-derived settings."""
    load_dotenv(PROJECT_ROOT / ".env")
    instance_path = Path(os.environ.get("BEATBOOK_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    instance_path.mkdir(parents=True, exist_ok=True)
    app.jinja_env.trim_blocks = True  # smaller pages for phones on weak links
    app.jinja_env.lstrip_blocks = True

    app.config.from_mapping(load_config(instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    if app.config["BEATBOOK_PROXIES"]:
        # Only as many hops as there are proxies: an address a client forged further left is ignored.
        hops = app.config["BEATBOOK_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.view_functions["static"] = serve_static
    from webapp.fields import IdConverter

    app.url_map.converters["int"] = IdConverter
    _init_extensions(app)
    from webapp.notify.vapid import load_keys

    app.extensions["beatbook_vapid"] = load_keys(instance_path)
    load_plugins()
    _register_blueprints(app)
    _register_cli(app)
    from webapp import edge

    edge.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, default_translation_directories="translations")

    from webapp.auth.services import load_user_from_session_id

    login_manager.init_app(app)
    login_manager.user_loader(load_user_from_session_id)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page explains itself; no flash noise
    # "basic", not "strong": a phone on patrol changes IP between cells; a changed fingerprint
    # marks the session non-fresh instead of signing the officer out mid-shift.
    login_manager.session_protection = "basic"

    # Helpers as globals, not context: imported macros see globals only.
    from webapp import dates
    from webapp.leads.labels import template_helpers
    from webapp.offline.texts import offline_text
    from webapp.offline.views import worker_version
    from webapp.org.labels import community_kind_label, role_label
    from webapp.youth.codes import template_helpers as youth_helpers

    app.jinja_env.globals.update(
        asset_url=asset_url, worker_version=worker_version, offline_text=offline_text, role_label=role_label,
        community_kind_label=community_kind_label,
        **template_helpers(), **youth_helpers(), **dates.template_helpers(),
    )
    app.jinja_env.filters.update(dates.template_filters())

    from webapp.layout import navigation_for
    from webapp.notify.services import unread_count

    @app.context_processor
    def inject_layout_context() -> dict:
        return {
            "unread_count": unread_count(current_user) if current_user.is_authenticated else 0,
            "asset_url": asset_url,
            "role_label": role_label,
            "community_kind_label": community_kind_label,
            "nav_items": navigation_for(current_user),
            "locales": app.config["BEATBOOK_LOCALES"],
            "current_locale": _select_locale(),
        }

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # The policy headers govern documents and the worker; on a stylesheet, script, icon or a
        # JSON answer (the worker's /sync/session on every first visit) they do nothing but cost
        # ~250-330 bytes each on a phone's first visit.
        if response.mimetype == "text/html" or (request.endpoint not in SUBRESOURCE_ENDPOINTS
                                                and response.mimetype != "application/json"):
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if app.config["BEATBOOK_HTTPS"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # WAL lets the web workers read while one writes; foreign keys are off by default in SQLite.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Writers queue for the one write lock. 5 s was too short on a busy 2-core machine: fifty
        # warning letters issued at once (each renders its PDF holding the lock, as its number is
        # printed on it) or a few phones' photo batches queue longer, and the last ones failed
        # "database is locked". 20 s stays under gunicorn's 30 s worker timeout.
        cursor.execute("PRAGMA busy_timeout=20000")
        cursor.close()
        # The driver opens a transaction before the first write; make that BEGIN IMMEDIATE, so
        # a second writer waits for the lock (busy_timeout) instead of failing at once.
        dbapi_connection.isolation_level = "IMMEDIATE"


def _select_locale() -> str:
    """The signed-in person's choice, else the language cookie, else zh-CN."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = current_app.config["BEATBOOK_LOCALES"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    chosen = request.cookies.get("lang") or session.get("lang")
    if chosen in supported:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _register_blueprints(app: Flask) -> None:
    # Importing a feature's views module attaches its routes to the feature's blueprint.
    from webapp import health
    from webapp.audit import views as audit_views
    from webapp.auth import views as auth_views
    from webapp.duty import views as duty_views
    from webapp.dv import views as dv_views
    from webapp.errors import register_error_handlers
    from webapp.experts import views as expert_views
    from webapp.exports import views as export_views
    from webapp.govfeed import views as govfeed_views
    from webapp.home import views as home_views
    from webapp.leads import views as lead_views
    from webapp.mediation import views as mediation_views
    from webapp.notify import views as notify_views
    from webapp.offline import views as offline_views
    from webapp.org import views as org_views
    from webapp.reports import views as report_views
    from webapp.residents import views as resident_views
    from webapp.returnvisits import views as return_visit_views
    from webapp.sync import views as sync_views
    from webapp.visits import views as visit_views
    from webapp.youth import views as youth_views

    for module in (auth_views, home_views, org_views, lead_views, visit_views, notify_views, sync_views,
                   offline_views, health, audit_views, duty_views, expert_views, youth_views, dv_views,
                   return_visit_views, resident_views, mediation_views, export_views, report_views,
                   govfeed_views):
        app.register_blueprint(module.bp)
    register_error_handlers(app)


def _register_cli(app: Flask) -> None:
    from webapp.cli import register_commands

    register_commands(app)
