"""Exports: a filtered lead list or the monthly report as Excel (.xlsx) or CSV; large ones as a job."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
