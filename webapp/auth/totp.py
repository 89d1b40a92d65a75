"""A second factor for supervisors and admins: time-based one-time codes (RFC 6238) from any
authenticator app, enrolled by scanning a QR code."""

from __future__ import annotations

import base64
import logging
import os
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from webapp.extensions import db
from webapp.org.models import Role, User

TWO_FACTOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)
STEP_SECONDS = 30
SEALED_PREFIX = "v1:"
log = logging.getLogger(__name__)


def _cipher(secret_key: str) -> AESGCM:
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"beatbook totp secret")
    return AESGCM(key.derive(secret_key.encode()))


def seal_secret(secret: str, user_id: int, secret_key: str) -> str:
    """A TOTP secret as stored: AES-GCM under a key derived from SECRET_KEY, bound to its person
    (a copied database, or a secret moved to another person's row, yields no working codes)."""
    nonce = os.urandom(12)
    sealed = _cipher(secret_key).encrypt(nonce, secret.encode(), str(user_id).encode())
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_secret(stored: str, user_id: int, secret_key: str) -> str | None:
    """The secret, or None when it cannot be opened (another SECRET_KEY, another person's row)."""
    if not stored.startswith(SEALED_PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(stored.removeprefix(SEALED_PREFIX))
        return _cipher(secret_key).decrypt(raw[:12], raw[12:], str(user_id).encode()).decode()
    except (ValueError, InvalidTag):
        log.warning("TOTP secret of user %s cannot be opened: SECRET_KEY changed?", user_id)
        return None


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
    secret = user.totp_secret and open_secret(user.totp_secret, user.id, current_app.config["SECRET_KEY"])
    if not secret:
        return False
    step = _matching_step(secret, code, now)
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
    user.totp_secret = seal_secret(secret, user.id, current_app.config["SECRET_KEY"])
    user.totp_last_step = step
    db.session.flush()
    return True


def disable(user: User) -> None:
    user.totp_secret, user.totp_last_step = None, None
    db.session.flush()
