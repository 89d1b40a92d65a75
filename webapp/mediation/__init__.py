"""Mediation: cases opened from accepted leads, sessions, method guides, agreements, figures."""

from flask import Blueprint

bp = Blueprint("mediation", __name__, url_prefix="/mediation")
