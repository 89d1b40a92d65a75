"""At-risk minors: the youth team's sealed assistance profiles, their sessions, outreach events."""

from flask import Blueprint

bp = Blueprint("youth", __name__, url_prefix="/youth")
