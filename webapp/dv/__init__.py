"""The domestic-violence task force's work: warning letters (告诫书), their delivery, follow-up visits
(查访) and the figures. Everything here sits inside the DV compartment (webapp/access/dv.py)."""

from flask import Blueprint

bp = Blueprint("dv", __name__, url_prefix="/dv")
