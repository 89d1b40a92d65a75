"""Sign-in rules: password check, throttling, and server-side sessions that can be revoked."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, g
from flask_login import current_user
from sqlalchemy import case, inspect, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.auth.events import sessions_revoked
from webapp.auth.models import LoginThrottle, UserSession
from webapp.extensions import db, insert_for
from webapp.org.events import person_disabled
from webapp.org.models import Role, User
from webapp.timeutil import utcnow


class SignInError(Exception):
    """Base for the reasons a sign-in is refused."""


class BadCredentials(SignInError):
    def __init__(self, user: User | None = None):
        super().__init__()
        self.user = user  # the account that was tried, when it exists (for the audit log)


class Throttled(SignInError):
    def __init__(self, retry_after: timedelta):
        super().__init__(retry_after)
        self.retry_after = max(retry_after, timedelta(seconds=1))

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))


@dataclass(frozen=True)
class ThrottlePolicy:
    """`max_per_*` failures pass freely; from then on each failure makes the next attempt wait,
    `first_delay` doubling up to `window`. Failures older than `window` are forgotten."""

    max_per_account: int
    max_per_address: int
    window: timedelta
    first_delay: timedelta = timedelta(seconds=30)

    def delay(self, failures: int, free: int) -> timedelta | None:
        if failures < free:
            return None
        return min(self.first_delay * 2 ** min(failures - free, 20), self.window)


def normalise_username(username: str) -> str:
    return username.strip().lower()


# --- throttle ---------------------------------------------------------------------------------
# Every attempt is counted as a failure *before* the password is checked, by one conditional
# UPDATE … RETURNING that only succeeds while the key is not blocked; a success gives the count
# back. Parallel guesses therefore each get their own number and none passes the limit. The
# counting runs in its own short transaction, committed at once: it must count even when the
# request fails, and it must be visible to the parallel requests before their passwords are checked.


# Not `now`: a parallel attempt that started a moment earlier must not find the row "blocked".
NEVER_BLOCKED = datetime(2000, 1, 1, tzinfo=UTC)


def _claim(connection, key: str, free: int, policy: ThrottlePolicy, now: datetime) -> None:
    """Count one attempt against `key`, or raise Throttled while the key waits."""
    table = LoginThrottle.__table__
    fresh = table.c.last_failure_at > now - policy.window
    claim = (
        update(table)
        .where(table.c.key == key, table.c.blocked_until <= now)
        .values(failures=case((fresh, table.c.failures + 1), else_=1), last_failure_at=now)
        .returning(table.c.failures)
    )
    failures = connection.scalar(claim)
    if failures is None:
        created = connection.scalar(
            insert_for(connection.dialect.name)(table)
            .values(key=key, failures=1, last_failure_at=now, blocked_until=NEVER_BLOCKED)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.failures)
        )
        # Not created: the row exists, blocked or made by a parallel attempt a moment ago.
        failures = 1 if created is not None else connection.scalar(claim)
    if failures is None:
        blocked_until = connection.scalar(select(table.c.blocked_until).where(table.c.key == key))
        raise Throttled((blocked_until or now) - now)
    delay = policy.delay(failures, free)
    if delay is not None:
        connection.execute(update(table).where(table.c.key == key).values(blocked_until=now + delay))


def _give_back(connection, key: str, forget: bool) -> None:
    """A successful attempt: forget the account's failures, or return the address's count."""
    table = LoginThrottle.__table__
    if forget:
        connection.execute(table.delete().where(table.c.key == key))
    else:
        connection.execute(
            update(table).where(table.c.key == key, table.c.failures > 0)
            .values(failures=table.c.failures - 1)
        )


def count_attempt(key: str, free: int, policy: ThrottlePolicy) -> None:
    """Count an attempt at some other secret (a second-factor code); raise Throttled while waiting."""
    with db.engine.begin() as connection:
        _claim(connection, key[:160], free, policy, utcnow())


def give_back_attempt(key: str) -> None:
    """An attempt that turned out right: take it off the key's count (the others stay)."""
    with db.engine.begin() as connection:
        _give_back(connection, key[:160], forget=False)


def forget_attempts(key: str) -> None:
    with db.engine.begin() as connection:
        _give_back(connection, key[:160], forget=True)


def _account_key(username: str, known_device: str | None) -> str:
    # A device the person signed in from before has its own count, so a stranger guessing at the
    # account delays strangers only, never the owner's own phone.
    return f"device:{known_device}"[:160] if known_device else f"account:{username}"[:160]


# --- passwords --------------------------------------------------------------------------------

_dummy_hashes: dict[str, str] = {}


def _dummy_hash(method: str) -> str:
    """A hash made the same way as real ones, to spend the same time on unknown user names."""
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def authenticate(username: str, password: str, address: str, policy: ThrottlePolicy,
                 known_device: str | None = None) -> User:
    """Return the user for these credentials, or raise BadCredentials / Throttled.

    The throttle is checked before the password, so a correct guess while waiting is refused too.
    Unknown and disabled accounts cost the same time as real ones (no user-name oracle).
    """
    username = normalise_username(username)
    now = utcnow()
    account_key = _account_key(username, known_device)
    address_key = f"address:{address}"[:160]
    with db.engine.begin() as connection:
        _claim(connection, account_key, policy.max_per_account, policy, now)
    try:
        with db.engine.begin() as connection:
            _claim(connection, address_key, policy.max_per_address, policy, now)
    except Throttled:
        with db.engine.begin() as connection:
            _give_back(connection, account_key, forget=False)
        raise

    user = db.session.scalar(select(User).where(User.username == username))
    method = current_app.config["BEATBOOK_PASSWORD_METHOD"]
    if user is None:
        check_password_hash(_dummy_hash(method), password)
        raise BadCredentials()
    if not user.check_password(password) or not user.is_enabled:
        raise BadCredentials(user)

    with db.engine.begin() as connection:
        _give_back(connection, account_key, forget=True)
        _give_back(connection, address_key, forget=False)
    return user


# --- sessions ---------------------------------------------------------------------------------
# flask-login keeps `get_id()` in the session cookie and in the remember cookie. Ours is
# "<user id>.<session token>": the token names a `user_session` row, so revoking the row ends the
# session cookie and the remember cookie alike, on this device only or on all of them.

PRIVILEGED_ROLES = (Role.SUPERVISOR, Role.ADMIN)
TOUCH_EVERY = timedelta(minutes=1)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, user_agent: str = "", address: str = "") -> UserSession:
    """Open a server-side session for `user`; `user.get_id()` then names it."""
    token = secrets.token_urlsafe(32)
    row = UserSession(token_hash=_token_hash(token), user_id=user.id, user_agent=user_agent[:200],
                      address=address[:64])
    db.session.add(row)
    db.session.flush()
    user.session_token = token
    user.session_row_id = row.id
    return row


def end_session(user: User) -> None:
    """Sign out this device: its session and remember cookies stop working."""
    row_id = getattr(user, "session_row_id", None)
    if row_id is not None:
        db.session.execute(
            update(UserSession).where(UserSession.id == row_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        sessions_revoked.send(user, session_ids=[row_id], everywhere=False, kept=None)


@person_disabled.connect
def _end_the_sessions_of_a_disabled_person(user: User, **_) -> None:
    revoke_all_sessions(user)


def revoke_all_sessions(user: User, keep_current: bool = False) -> int:
    """Sign the user out on every device (a lost phone, a changed password). Returns how many."""
    statement = update(UserSession).where(UserSession.user_id == user.id,
                                          UserSession.revoked_at.is_(None))
    current = getattr(user, "session_row_id", None)
    kept = current if keep_current else None
    if kept is not None:
        statement = statement.where(UserSession.id != kept)
    ended = list(db.session.scalars(statement.values(revoked_at=utcnow()).returning(UserSession.id)))
    # Kept as a plain counter of "signed out everywhere", shown nowhere; the rows decide.
    user.session_generation += 1
    db.session.flush()
    sessions_revoked.send(user, session_ids=ended, everywhere=True, kept=kept)
    return len(ended)


def revoke_device(user: User, session_id: int, now: datetime | None = None) -> UserSession | None:
    """A lost phone: end one live session of `user` and ask that phone to wipe itself.

    The row is kept, marked (`revoked_at`, `wipe_requested_at`): when the phone next reaches the
    server it may still send what it recorded before `revoked_at`, then it is told to wipe.
    None when the session is not `user`'s or already ended."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        return None
    row.revoked_at = row.wipe_requested_at = now or utcnow()
    db.session.flush()
    sessions_revoked.send(user, session_ids=[row.id], everywhere=False, kept=None)
    return row


@dataclass(frozen=True)
class WipeClaim:
    """This request carries a session revoked as a lost phone (its cookie or remember cookie)."""

    session_id: int
    user_id: int
    revoked_at: datetime


def wipe_claim() -> WipeClaim | None:
    """The lost-phone session this request's cookies name, if any (read after flask-login has
    tried them, i.e. after `current_user` was looked at and found signed out)."""
    return g.get("beatbook_wipe")


def active_sessions(user: User) -> list[UserSession]:
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
    ))


def signed_in_user_id() -> int | None:
    """Who this request was made for, without reloading them: after the request's commit the user
    record is expired, and asking it would cost two statements per page just to name its id."""
    user = current_user._get_current_object()
    return inspect(user).identity[0] if isinstance(user, User) else None


def load_user_from_session_id(session_id: str) -> User | None:
    """Resolve flask-login's stored id; a revoked, idle or unknown session is refused.

    Bookkeeping (last seen, an idle session's end) is written in its own short transaction, and
    at most once a minute per session: reading a page must not depend on the request committing.
    """
    user_id, _, token = session_id.partition(".")
    if not user_id.isdigit() or len(user_id) > 18 or not token:
        return None
    # The session, its person and their roles in one statement: this runs on every signed-in
    # request, and three statements were over a third of a plain page's CPU.
    found = db.session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _token_hash(token), UserSession.user_id == int(user_id))
        .options(joinedload(User.role_grants))
    ).unique().first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None:
        if row.wipe_requested_at is not None:
            g.beatbook_wipe = WipeClaim(row.id, row.user_id, row.revoked_at)
        return None
    if not user.is_enabled:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["BEATBOOK_IDLE_MINUTES"])
    if user.has_role(*PRIVILEGED_ROLES) and now - row.last_seen_at > idle:
        with db.engine.begin() as connection:
            connection.execute(update(UserSession).where(UserSession.id == row.id)
                               .values(revoked_at=now))
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        with db.engine.begin() as connection:
            connection.execute(update(UserSession).where(UserSession.id == row.id)
                               .values(last_seen_at=now))
    user.session_token = token
    user.session_row_id = row.id
    return user

