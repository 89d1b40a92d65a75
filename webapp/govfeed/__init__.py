"""The de-identified government feed (全量推送): what the liaison's system pulls about screened disputes."""

from flask import Blueprint

bp = Blueprint("govfeed", __name__)
