"""Demo devices: the officer's desk PC still signed in, and an old phone revoked as lost.

The rows never match a real cookie: a session token is looked up by its SHA-256 hex digest, and
these rows hold a marker that is no digest, so nobody can sign in through them. Loading twice
adds nothing (the marker names the row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from webapp.auth.models import UserSession
from webapp.extensions import db
from webapp.org.models import User
from webapp.timeutil import utcnow

DESK_PC = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36")
OLD_PHONE = ("Mozilla/5.0 (Linux; Android 12; HUAWEI P40) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/118.0.0.0 Mobile Safari/537.36")


@dataclass(frozen=True)
class DemoDevice:
    username: str
    key: str
    user_agent: str
    signed_in_hours_ago: int
    lost_hours_ago: int | None = None  # revoked as lost this long ago


DEVICES = (
    DemoDevice("officer", "desk-pc", DESK_PC, signed_in_hours_ago=6),
    DemoDevice("officer", "old-phone", OLD_PHONE, signed_in_hours_ago=24 * 9, lost_hours_ago=24 * 2),
)


def load_demo_devices(users: dict[str, User]) -> int:
    now, added = utcnow(), 0
    for device in DEVICES:
        marker = f"demo-{device.username}-{device.key}"
        if db.session.scalar(select(UserSession.id).where(UserSession.token_hash == marker)) is not None:
            continue
        signed_in = now - timedelta(hours=device.signed_in_hours_ago)
        row = UserSession(token_hash=marker, user_id=users[device.username].id, user_agent=device.user_agent,
                          created_at=signed_in, last_seen_at=signed_in + timedelta(hours=1))
        if device.lost_hours_ago is not None:
            row.revoked_at = row.wipe_requested_at = now - timedelta(hours=device.lost_hours_ago)
        db.session.add(row)
        added += 1
    db.session.flush()
    return added
