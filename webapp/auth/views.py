from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.access import home_endpoint
from webapp.audit.services import record as audit
from webapp.auth import bp, totp
from webapp.auth.devices import describe as describe_device
from webapp.auth.devices import session_id_from_form
from webapp.auth.forms import CodeForm, LanguageForm, LoginForm, PasswordForm
from webapp.auth.services import (
    BadCredentials,
    Throttled,
    ThrottlePolicy,
    active_sessions,
    authenticate,
    count_attempt,
    end_session,
    forget_attempts,
    normalise_username,
    revoke_all_sessions,
    start_session,
    wipe_claim,
)
from webapp.extensions import db
from webapp.org.models import User
from webapp.rendering import never_stored, render_page, see_other
from webapp.timeutil import utcnow

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
            if user.totp_secret:
                # The password was right; the session starts only after the second factor.
                session["two_factor"] = {"user": user.id, "at": utcnow().timestamp(),
                                         "remember": bool(form.remember.data), "next": form.next.data}
                return redirect(url_for("auth.login_code"), code=303)
            return _signed_in(user, form.remember.data, form.next.data)
    elif form.is_submitted():
        status = 422
    # A phone revoked as lost, back at the sign-in page: say why in one line.
    wiped = request.args.get("wiped") == "1" or wipe_claim() is not None
    return render_page("auth/login.html", block="login_form", status=status, form=form, wiped=wiped)


def _signed_in(user, remember: bool, next_url: str | None, **detail):
    address = request.remote_addr or ""
    start_session(user, request.user_agent.string, address)
    login_user(user, remember=remember)
    audit(user, "sign_in", "user", user.id, address, **detail)
    db.session.commit()
    response = redirect(_safe_next(next_url) or url_for(home_endpoint(user)), code=303)
    _remember_device(response, user.username)
    return response


TWO_FACTOR_MINUTES = 5


def _throttled(form, key: str) -> bool:
    """Count one guess against `key`; past the limit, say so on the form (the caller answers 429)."""
    try:
        count_attempt(key, current_app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT"], _throttle_policy())
    except Throttled as throttled:
        form.form_errors.append(_("Too many failed sign-ins. Try again in %(minutes)d minutes.",
                                  minutes=throttled.minutes))
        return True
    return False


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    pending = session.get("two_factor")
    if not isinstance(pending, dict) or utcnow().timestamp() - pending.get("at", 0) > TWO_FACTOR_MINUTES * 60:
        session.pop("two_factor", None)
        return redirect(url_for("auth.login"), code=303)
    user = db.session.get(User, pending["user"])
    if user is None or not user.is_enabled or not user.totp_secret:
        session.pop("two_factor", None)
        return redirect(url_for("auth.login"), code=303)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        key = f"totp:{user.id}"
        if _throttled(form, key):
            status = 429
        else:
            if totp.accept_code(user, form.code.data, utcnow()):
                session.pop("two_factor", None)
                response = _signed_in(user, pending.get("remember", False), pending.get("next"),
                                      two_factor=True)
                forget_attempts(key)  # after the commit: its own transaction must not wait for ours
                return response
            audit(None, "two_factor_failed", "user", user.id, request.remote_addr or "")
            db.session.commit()
            form.code.errors.append(_("That code is not right, or was already used. Try the next one."))
            status = 422
    elif form.is_submitted():
        status = 422
    return never_stored(render_page("auth/login_code.html", block="code_form", status=status, form=form))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    user = current_user._get_current_object()
    if not totp.may_enrol(user):
        abort(403)
    if user.totp_secret:
        return redirect(url_for("auth.account"))
    secret = session.get("totp_enrol") or totp.new_secret()
    session["totp_enrol"] = secret
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if totp.enable(user, secret, form.code.data, utcnow()):
            session.pop("totp_enrol", None)
            audit(user, "two_factor_enabled", "user", user.id, request.remote_addr or "")
            db.session.commit()
            flash(_("Second factor on: sign-ins now also ask for a code from your app."), "success")
            return see_other(url_for("auth.account"))
        form.code.errors.append(_("That code is not right. Check the phone's clock and try the next one."))
        status = 422
    elif form.is_submitted():
        status = 422
    return never_stored(render_page("auth/two_factor.html", block="code_form", status=status, form=form,
                                    qr=totp.enrolment_qr(user, secret), secret=secret))


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
    user = current_user._get_current_object()
    return render_page("auth/account.html", sessions=active_sessions(user),
                       this_session=getattr(user, "session_row_id", None), describe=describe_device)


@bp.route("/account/devices/revoke", methods=["POST"])
@login_required
def revoke_device():
    """"This phone is lost": end one of my other sessions; that phone wipes itself on return."""
    from webapp.org.services import revoke_lost_phone

    user = current_user._get_current_object()
    session_id = session_id_from_form()
    if session_id is None:
        return render_page("errors/error.html", status=422, code=422,
                           message=_("Choose a device from the list."))
    if session_id == getattr(user, "session_row_id", None):
        return render_page("errors/error.html", status=422, code=422,
                           message=_("This is the device you are using: sign out instead."))
    if not revoke_lost_phone(user, session_id, actor=user, address=request.remote_addr or ""):
        return render_page("errors/error.html", status=404, code=404,
                           message=_("That device is not signed in any more."))
    db.session.commit()
    flash(_("That device is signed out. When it next reaches the station it sends what it still "
            "holds, then deletes Beatbook's data."), "success")
    return see_other(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change my own password: my other devices are signed out, this one stays."""
    from webapp.org.services import OrgError
    from webapp.org.services import change_password as set_new_password
    from webapp.org.views import _error_text

    user = current_user._get_current_object()
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        key = f"account:{user.username}"  # guessing the current password is throttled like sign-in
        if _throttled(form, key):
            status = 429
        else:
            if not user.check_password(form.current.data):
                form.current.errors.append(_("Wrong password."))
                status = 422
            else:
                try:
                    set_new_password(user, form.new.data, actor=user, address=request.remote_addr or "")
                except OrgError as error:
                    db.session.rollback()
                    form.new.errors.append(_error_text(error.message))
                    status = 422
                else:
                    db.session.commit()
                    forget_attempts(key)  # after the commit: its own transaction must not wait for ours
                    flash(_("Password changed. Your other devices have been signed out."), "success")
                    return see_other(url_for("auth.account"))
    elif form.is_submitted():
        status = 422
    return never_stored(render_page("auth/password.html", block="password_form", status=status, form=form))


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
        "lang", form.lang.data, max_age=LANGUAGE_COOKIE_DAYS * 86400, samesite="Lax", httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response
