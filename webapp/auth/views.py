from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.access import home_endpoint
from webapp.audit.services import record as audit
from webapp.auth import bp
from webapp.auth.forms import LanguageForm, LoginForm
from webapp.auth.services import (
    BadCredentials,
    Throttled,
    ThrottlePolicy,
    authenticate,
    end_session,
    normalise_username,
    revoke_all_sessions,
    start_session,
)
from webapp.extensions import db
from webapp.rendering import render_page

LANGUAGE_COOKIE_DAYS = 365
DEVICE_COOKIE = "known_device"
DEVICE_COOKIE_DAYS = 365


def _device_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="beatbook-known-device")


def _known_device(username: str) -> str | None:
    """The device id from this browser's signed cookie, when it signed in as `username` before."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _device_signer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != normalise_username(username):
        return None
    return str(data.get("d", ""))[:64] or None


def _remember_device(response, username: str) -> None:
    device = _known_device(username) or secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE, _device_signer().dumps({"u": username, "d": device}),
        max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def _throttle_policy() -> ThrottlePolicy:
    config = current_app.config
    return ThrottlePolicy(
        max_per_account=config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        max_per_address=config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window=timedelta(minutes=config["BEATBOOK_LOGIN_THROTTLE_MINUTES"]),
    )


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect after sign-in is a phishing tool."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(home_endpoint(current_user)))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or ""
        try:
            user = authenticate(form.username.data, form.password.data, address, _throttle_policy(),
                                known_device=_known_device(form.username.data))
        except Throttled as throttled:
            form.form_errors.append(
                _("Too many failed sign-ins. Try again in %(minutes)d minutes.",
                  minutes=throttled.minutes)
            )
            status = 429
        except BadCredentials as bad:
            audit(None, "sign_in_failed", "user", bad.user.id if bad.user else 0, address,
                  username=normalise_username(form.username.data)[:64])
            db.session.commit()  # the entry must stay even though the request fails
            form.form_errors.append(_("Wrong user name or password."))
            status = 422
        else:
            start_session(user, request.user_agent.string, address)
            login_user(user, remember=form.remember.data)
            audit(user, "sign_in", "user", user.id, address)
            db.session.commit()
            response = redirect(_safe_next(form.next.data) or url_for(home_endpoint(user)), code=303)
            _remember_device(response, user.username)
            return response
    elif form.is_submitted():
        status = 422
    return render_page("auth/login.html", block="login_form", status=status, form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = current_user._get_current_object()
    end_session(user)
    audit(user, "sign_out", "user", user.id, request.remote_addr or "")
    db.session.commit()
    logout_user()
    # The login page then clears this person's cached pages and data from the phone.
    return redirect(url_for("auth.login", signed_out=1), code=303)


@bp.route("/account")
@login_required
def account():
    return render_page("auth/account.html")


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    user = current_user._get_current_object()
    revoke_all_sessions(user)
    audit(user, "sign_out_everywhere", "user", user.id, request.remote_addr or "")
    db.session.commit()
    logout_user()
    flash(_("You have been signed out on every device."), "success")
    return redirect(url_for("auth.login", signed_out=1), code=303)


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit() or form.lang.data not in current_app.config["BEATBOOK_LOCALES"]:
        return render_page("errors/error.html", status=422, code=422,
                           message=_("Unknown language."))
    if current_user.is_authenticated:
        current_user.locale = form.lang.data
        db.session.commit()
    response = redirect(_safe_next(form.next.data) or url_for("auth.index"), code=303)
    response.set_cookie(
        "lang", form.lang.data, max_age=LANGUAGE_COOKIE_DAYS * 86400, samesite="Lax", httponly=True
    )
    return response
