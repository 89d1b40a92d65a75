"""`GET /healthz`: is this node able to serve? Used by load balancers and `make run` checks."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from webapp.access.base import public
from webapp.extensions import db
from webapp.jobs import queue_status

bp = Blueprint("health", __name__)


def database_status() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 — health reports any failure, it never raises
        db.session.rollback()
        return {"ok": False, "engine": db.engine.dialect.name, "error": type(error).__name__}
    return {"ok": True, "engine": db.engine.dialect.name}


@bp.route("/healthz")
@public
def healthz():
    checks = {"database": database_status(), "jobs": queue_status()}
    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503
