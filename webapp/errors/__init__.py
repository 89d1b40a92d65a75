"""Error pages in both languages, in both response shapes."""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from webapp.extensions import db
from webapp.rendering import render_page


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Reload the page and try again."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist, or you may not see it."),
        405: _("That action is not allowed here."),
        413: _("The upload is too large."),
        422: _("Some of the information is not valid."),
        429: _("Too many requests. Wait a moment and try again."),
        500: _("Something went wrong on our side. Your data is safe; try again shortly."),
    }


def render_error(code: int, message: str | None = None):
    return render_page(
        "errors/error.html", status=code, code=code, message=message or _messages().get(code, "")
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if request.path == "/sync":  # the outbox reads JSON: it keeps its items and asks for a new token
            return jsonify(error="csrf"), 400
        return render_error(400, _("This form has expired or was not sent from Beatbook. "
                                   "Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if request.path == "/sync":  # the outbox reads JSON (see /api/openapi.json)
            return jsonify(error=error.name.lower().replace(" ", "_"), detail=error.description), error.code
        return render_error(error.code)

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        # SQLite under a burst of writers: ask the client to come back (the outbox retries a 503).
        db.session.rollback()
        if "database is locked" not in str(error.orig):
            raise error
        response = render_error(503, _("The station's database is busy. Try again in a moment."))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()  # a half-done unit of work must not leak into the error page
        return render_error(500)
