"""Writing, checking and reading the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from webapp.audit.models import GENESIS_HASH, AuditChainHead, AuditEntry
from webapp.extensions import db, insert_for
from webapp.org.models import User
from webapp.timeutil import STATION_TZ, utcnow

HEAD_ID = 1


def canonical(seq: int, at: datetime, actor_id: int | None, action: str, object_type: str,
              object_id: int, detail: str, address: str, prev_hash: str) -> bytes:
    """The bytes an entry's hash covers: every column but the surrogate id and the hash itself."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [seq, stamp, actor_id, action, object_type, object_id, detail, address, prev_hash]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def hash_of(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(
        entry.seq, entry.at, entry.actor_id, entry.action, entry.object_type, entry.object_id,
        entry.detail, entry.address, entry.prev_hash,
    )).hexdigest()


def _advance_head() -> tuple[int, str]:
    """Take the next place in the chain, holding the head row until this transaction ends.

    One UPDATE … RETURNING: on PostgreSQL it locks the head row (a second writer waits for the
    commit, then sees the new head), on SQLite it takes the database's write lock (BEGIN
    IMMEDIATE); either way two writers can never both follow the same entry.
    """
    table = AuditChainHead.__table__
    advance = (update(table).where(table.c.id == HEAD_ID).values(seq=table.c.seq + 1)
               .returning(table.c.seq, table.c.last_hash))
    row = db.session.execute(advance).first()
    if row is None:  # a new database: make the head, once, even with parallel writers
        db.session.execute(insert_for(db.engine.dialect.name)(table)
                           .values(id=HEAD_ID, seq=0, last_hash=GENESIS_HASH)
                           .on_conflict_do_nothing(index_elements=["id"]))
        row = db.session.execute(advance).first()
    return row.seq, row.last_hash


def record(actor: User | None, action: str, object_type: str, object_id: int,
           address: str = "", **detail) -> AuditEntry:
    """Append an audit entry in the current unit of work (it commits, or not, with the action)."""
    seq, prev_hash = _advance_head()
    entry = AuditEntry(
        seq=seq, at=utcnow(), actor_id=actor.id if actor else None, action=action,
        object_type=object_type, object_id=object_id, address=(address or "")[:64],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "",
        prev_hash=prev_hash,
    )
    entry.entry_hash = hash_of(entry)
    db.session.add(entry)
    db.session.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                       .values(last_hash=entry.entry_hash))
    return entry


def record_list(actor: User, address: str, shown: dict[str, list[int]], **detail) -> AuditEntry | None:
    """The audit entry of a page, list or search that showed DV or minor records (docs/domain.md,
    Privacy 4): who saw which records of each kind (`shown`: kind → ids), and with what (`detail`:
    the page, the filters). Nothing when it showed none: most lists never hold one.

    One entry per page, however many kinds it showed: an entry costs three statements, and the
    homes that show leads, letters and follow-ups together are the most visited pages.
    """
    shown = {kind: list(ids) for kind, ids in shown.items() if ids}
    if not shown:
        return None
    kind, ids = next(iter(shown.items()))
    return record(actor, "list", kind, ids[0], address, **detail, **shown)


# --- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_hash: str
    problem: str | None = None
    seq: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(anchors: dict[int, str] | None = None) -> ChainReport:
    """Walk the chain; report the first entry that was changed, deleted or moved.

    `anchors` (position → hash, copied outside the database: webapp/audit/anchors.py) also
    catch a tail rewritten with every hash recomputed, or deleted with the head moved back.
    """
    anchors = anchors or {}
    entries = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    try:  # stopping early must close the server-side cursor (PostgreSQL)
        report = _walk(entries, anchors)
    finally:
        entries.close()
    newest = max(anchors, default=0)
    if report.intact and newest > report.entries:
        return ChainReport(report.entries, report.head_hash,
                           f"the chain ends at #{report.entries} but was anchored at #{newest} "
                           "(the newest entries were deleted)", report.entries + 1)
    return report


def _walk(entries: Iterator[AuditEntry], anchors: dict[int, str]) -> ChainReport:
    expected_seq, prev, count = 1, GENESIS_HASH, 0
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainReport(count, prev, f"entry #{expected_seq} is missing (deleted)", expected_seq)
        if hash_of(entry) != entry.entry_hash:
            return ChainReport(count, prev, f"entry #{entry.seq} was changed or moved", entry.seq)
        if entry.prev_hash != prev:
            return ChainReport(count, prev, f"entry #{entry.seq} does not follow entry #{entry.seq - 1} "
                               "(reordered, or the one before was replaced)", entry.seq)
        if anchors.get(entry.seq, entry.entry_hash) != entry.entry_hash:
            return ChainReport(count, prev, f"entry #{entry.seq} differs from its anchor "
                               "(the log was rewritten from there on)", entry.seq)
        prev, expected_seq, count = entry.entry_hash, expected_seq + 1, count + 1
    head = db.session.get(AuditChainHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS_HASH)
    if head_seq > count:
        return ChainReport(count, prev, f"entries #{count + 1}–#{head_seq} are missing (deleted)", count + 1)
    if head_seq != count or head_hash != prev:
        return ChainReport(count, prev, "the chain head does not match the last entry", head_seq)
    return ChainReport(count, prev)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    person: str = ""        # actor's user name
    object_type: str = ""
    object_id: int | None = None
    action: str = ""
    day_from: date | None = None
    day_to: date | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    actors: dict[int, User]
    has_next: bool
    next_before: int | None


def _station_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=STATION_TZ).astimezone(UTC)


def audit_page(filters: AuditFilters, before: int | None = None, per_page: int = 50) -> AuditPage:
    """Newest first, a page at a time (keyset on the chain position, so deep pages stay cheap)."""
    statement = select(AuditEntry)
    if filters.person:
        statement = statement.where(AuditEntry.actor_id.in_(
            select(User.id).where(User.username == filters.person.strip().lower())))
    if filters.object_type:
        statement = statement.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id is not None:
        statement = statement.where(AuditEntry.object_id == filters.object_id)
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.day_from:
        statement = statement.where(AuditEntry.at >= _station_midnight(filters.day_from))
    if filters.day_to:
        statement = statement.where(AuditEntry.at < _station_midnight(filters.day_to + timedelta(days=1)))
    if before is not None:
        statement = statement.where(AuditEntry.seq < before)
    rows = list(db.session.scalars(statement.order_by(AuditEntry.seq.desc()).limit(per_page + 1)))
    entries = rows[:per_page]
    actor_ids = {e.actor_id for e in entries if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} \
        if actor_ids else {}
    has_next = len(rows) > per_page
    return AuditPage(entries, actors, has_next, entries[-1].seq if has_next else None)


def known_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
