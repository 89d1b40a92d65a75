"""Return visits (回访): after a lead is settled, someone goes back to check it stays settled."""

from flask import Blueprint

bp = Blueprint("returnvisits", __name__, url_prefix="/return-visits")
