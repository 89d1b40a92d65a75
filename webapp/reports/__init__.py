"""The station's dashboard: figures for a period, server-drawn SVG charts with their tables, the grid
map."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
