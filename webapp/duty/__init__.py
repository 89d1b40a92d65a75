from flask import Blueprint

bp = Blueprint("duty", __name__, url_prefix="/duty")
