from flask import Blueprint

from webapp.home.seen import arrived_at, is_new, progress_changed_at

bp = Blueprint("home", __name__, url_prefix="/home")
# Rows of any feature's list mark themselves "new" on a home with them (their macros are imported
# without context, so these are globals).
for helper in (is_new, arrived_at, progress_changed_at):
    bp.add_app_template_global(helper)
