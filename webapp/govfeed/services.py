"""The feed: entries made in the lead's own transaction, numbered by one writer at a time, read by
cursor; pull tokens (hashed, revocable) and the response signature. Services flush, never commit."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update

from webapp.extensions import db, insert_for
from webapp.govfeed.deidentify import deidentify
from webapp.govfeed.models import FeedCounter, FeedEntry, FeedToken
from webapp.leads.models import Lead
from webapp.org.models import Station, User
from webapp.timeutil import STATION_TZ, utcnow

COUNTER_ID = 1
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_CURSOR = 2**31 - 1  # seq is an INTEGER column
TOKEN_PREFIX = "bbf_"


def record_entry(lead: Lead, event: str, at: datetime | None = None) -> FeedEntry:
    """A feed entry for the lead as it is now (in the caller's transaction, unnumbered)."""
    entry = FeedEntry(station_id=lead.station_id, lead_id=lead.id, event=event[:32], at=at or utcnow(),
                      payload=json.dumps(deidentify(lead), ensure_ascii=False, sort_keys=True))
    db.session.add(entry)
    return entry


def _take_counter() -> int:
    """Lock the counter row until this transaction ends (PostgreSQL: row lock; SQLite: the write lock)."""
    table = FeedCounter.__table__
    take = (update(table).where(table.c.id == COUNTER_ID).values(last_seq=table.c.last_seq)
            .returning(table.c.last_seq))
    row = db.session.execute(take).first()
    if row is None:
        db.session.execute(insert_for(db.engine.dialect.name)(table).values(id=COUNTER_ID, last_seq=0)
                           .on_conflict_do_nothing(index_elements=["id"]))
        row = db.session.execute(take).first()
    return row.last_seq


def number_new_entries() -> int:
    """Give every committed, unnumbered entry the next sequence numbers, in id order.

    The counter lock makes this the single writer: a second numberer waits for the first to
    commit, and its SELECT (a new snapshot under READ COMMITTED) then sees the first's numbers.
    An entry whose transaction commits later is numbered by a later run, after every number
    already given: a reader that has passed seq n never misses an entry numbered later."""
    last = _take_counter()
    ids = list(db.session.scalars(select(FeedEntry.id).where(FeedEntry.seq.is_(None)).order_by(FeedEntry.id)))
    if not ids:
        return 0
    table = FeedEntry.__table__
    for offset, entry_id in enumerate(ids, start=1):
        db.session.execute(update(table).where(table.c.id == entry_id).values(seq=last + offset))
    counter = FeedCounter.__table__
    db.session.execute(update(counter).where(counter.c.id == COUNTER_ID).values(last_seq=last + len(ids)))
    db.session.flush()
    return len(ids)


class FeedRequestError(ValueError):
    """A malformed cursor or limit: answered 400 with the message."""


def parse_paging(cursor: str | None, limit: str | None) -> tuple[int, int]:
    def number(raw: str | None, default: int, low: int, high: int, name: str) -> int:
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
            raise FeedRequestError(f"{name} must be a whole number from {low} to {high}")
        value = int(raw)
        if not low <= value <= high:
            raise FeedRequestError(f"{name} must be a whole number from {low} to {high}")
        return value

    return number(cursor, 0, 0, MAX_CURSOR, "cursor"), number(limit, DEFAULT_LIMIT, 1, MAX_LIMIT, "limit")


def entry_json(entry: FeedEntry) -> dict:
    """One entry as the feed (and the webhook) carries it."""
    return {"seq": entry.seq, "event": entry.event, "at": entry.at.isoformat(),
            "lead": json.loads(entry.payload)}


def read_page(station_id: int, cursor: int, limit: int) -> dict:
    """Entries numbered after `cursor`, in order; `next_cursor` is where the next pull starts."""
    entries = list(db.session.scalars(
        select(FeedEntry).where(FeedEntry.station_id == station_id, FeedEntry.seq.is_not(None),
                                FeedEntry.seq > cursor).order_by(FeedEntry.seq).limit(limit)))
    return {
        "entries": [entry_json(e) for e in entries],
        "next_cursor": str(entries[-1].seq if entries else cursor),
        "more": len(entries) == limit,
    }


# --- tokens ----------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(station: Station, name: str, by: User) -> tuple[FeedToken, str]:
    """A new token; the plain value is returned once, only its hash is kept."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = FeedToken(station_id=station.id, name=name.strip()[:80], token_hash=token_hash(plain),
                      prefix=plain[:12], created_by_id=by.id, created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    return token, plain


def revoke_token(token: FeedToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def authenticate(header: str | None) -> tuple[FeedToken, str] | None:
    """The live token named by `Authorization: Bearer …`, or None (missing, malformed, unknown, revoked)."""
    if not header or not header.startswith("Bearer "):
        return None
    plain = header[len("Bearer "):].strip()
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 100 or not plain.isascii():
        return None
    token = db.session.scalar(select(FeedToken).where(FeedToken.token_hash == token_hash(plain)))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    return token, plain


def sign(body: bytes, token: str) -> str:
    """X-Beatbook-Signature: HMAC-SHA256 of the exact body bytes, keyed with the bearer token (the
    webhook's: with its secret)."""
    return "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def tokens_of(station: Station) -> list[FeedToken]:
    return list(db.session.scalars(select(FeedToken).where(FeedToken.station_id == station.id)
                                   .order_by(FeedToken.id.desc())))


# --- the liaison's home ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSummary:
    total: int
    by_day: list[tuple[date, int]]
    last_pull: datetime | None


def feed_summary(station: Station, days: int = 7) -> FeedSummary:
    now = utcnow()
    since = now - timedelta(days=days)
    rows = db.session.execute(select(FeedEntry.at).where(FeedEntry.station_id == station.id,
                                                         FeedEntry.at >= since))
    counts: dict[date, int] = {}
    for (at,) in rows:
        day = at.astimezone(STATION_TZ).date()
        counts[day] = counts.get(day, 0) + 1
    total = db.session.scalar(select(func.count(FeedEntry.id)).where(FeedEntry.station_id == station.id)) or 0
    last_pull = db.session.scalar(select(func.max(FeedToken.last_used_at))
                                  .where(FeedToken.station_id == station.id))
    return FeedSummary(total, sorted(counts.items(), reverse=True), last_pull)


def entries_after(station: Station, then: datetime | None) -> int:
    """How many entries the feed gained after `then` (the liaison's previous visit; none before a first)."""
    if then is None:
        return 0
    return db.session.scalar(select(func.count(FeedEntry.id))
                             .where(FeedEntry.station_id == station.id, FeedEntry.at > then)) or 0
