"""A second factor for supervisors and admins: time-based one-time codes (RFC 6238) from any
authenticator app, enrolled by scanning a QR code."""

from __future__ import annotations

from datetime import datetime

import pyotp
import segno

from webapp.extensions import db
from webapp.org.models import Role, User

TWO_FACTOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)
STEP_SECONDS = 30


def may_enrol(user: User) -> bool:
    return user.is_authenticated and user.has_role(*TWO_FACTOR_ROLES)


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment_qr(user: User, secret: str, issuer: str = "Beatbook") -> str:
    """The otpauth:// link as a QR code, an SVG data URI (an <img>, so the CSP stays strict)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step `code` belongs to: this one, or one either side (a phone's clock drifts)."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in (current, current - 1, current + 1):
        if totp.at(step * STEP_SECONDS) == code:
            return step
    return None


def accept_code(user: User, code: str, now: datetime) -> bool:
    """Check a sign-in code; a code already used (or an older one) is refused."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    db.session.flush()
    return True


def enable(user: User, secret: str, code: str, now: datetime) -> bool:
    """Turn the second factor on once the person proves their app makes the right codes."""
    step = _matching_step(secret, code, now)
    if step is None:
        return False
    user.totp_secret, user.totp_last_step = secret, step
    db.session.flush()
    return True


def disable(user: User) -> None:
    user.totp_secret, user.totp_last_step = None, None
    db.session.flush()
