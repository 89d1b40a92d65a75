"""Online acceptance for residents (网上受理): a public page, no sign-in, opened from the station's
WeChat official account; a dispute filed there becomes a lead with source "online"."""

from flask import Blueprint

bp = Blueprint("residents", __name__, url_prefix="/online")
