"""Sign-in rules: password check, throttling per account and per address, revoking sessions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from webapp.auth.models import LoginFailure
from webapp.extensions import db
from webapp.org.models import User
from webapp.timeutil import utcnow


class SignInError(Exception):
    """Base for the reasons a sign-in is refused."""


class BadCredentials(SignInError):
    pass


class Throttled(SignInError):
    def __init__(self, retry_after: timedelta):
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


@dataclass(frozen=True)
class ThrottlePolicy:
    max_per_account: int
    max_per_address: int
    window: timedelta


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _retry_after(
    condition, limit: int, policy: ThrottlePolicy, now: datetime
) -> timedelta | None:
    """When `limit` failures match `condition` within the window, how long until the oldest expires."""
    since = now - policy.window
    recent = (
        select(LoginFailure.at)
        .where(condition, LoginFailure.at > since)
        .order_by(LoginFailure.at.desc())
        .limit(limit)
    )
    times = db.session.scalars(recent).all()
    if len(times) < limit:
        return None
    return times[-1] + policy.window - now


def authenticate(username: str, password: str, address: str, policy: ThrottlePolicy) -> User:
    """Return the user for these credentials, or raise BadCredentials / Throttled.

    The throttle is checked before the password so a correct guess during a lockout is refused too.
    """
    username = normalise_username(username)
    now = utcnow()
    waits = [
        _retry_after(LoginFailure.username == username, policy.max_per_account, policy, now),
        _retry_after(LoginFailure.address == address, policy.max_per_address, policy, now),
    ]
    waits = [w for w in waits if w is not None]
    if waits:
        raise Throttled(max(waits))

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_enabled or not user.check_password(password):
        db.session.add(LoginFailure(username=username[:64], address=address[:64], at=now))
        db.session.flush()
        raise BadCredentials()

    db.session.execute(
        delete(LoginFailure).where(
            (LoginFailure.username == username) | (LoginFailure.at <= now - policy.window)
        )
    )
    return user


def revoke_all_sessions(user: User) -> None:
    """Sign the user out on every device (e.g. a lost phone): old sessions and cookies stop working."""
    user.session_generation += 1
    db.session.flush()


def load_user_from_session_id(session_id: str) -> User | None:
    """Resolve flask-login's stored id `"<user id>.<generation>"`; a stale generation is refused."""
    user_id, _, generation = session_id.partition(".")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_generation != int(generation):
        return None
    return user
