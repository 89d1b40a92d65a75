from flask import Blueprint

from webapp.home.seen import is_new

bp = Blueprint("home", __name__, url_prefix="/home")
# Rows of any feature's list mark themselves "new" on a home with it (their macros are imported
# without context, so it is a global).
bp.add_app_template_global(is_new, "is_new")
