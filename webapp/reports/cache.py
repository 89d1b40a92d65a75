"""The station's figures, kept per process and exact: any write that could change them restamps the station.

Counting a year at 500k leads takes seconds (bench/README.md), and the same supervisor opens the same
period again and again while nothing changes. So each computed figure set is kept under
(station, what, scope, period) together with the station's `figures_stamp`. Every transaction that
writes a row the figures read gives each station it touched a new random stamp, in the same commit
(Session events below): a cached set is used only while the stamp it was computed under is still the
station's, so it always equals a fresh count. A stamp is random, not a counter, so a station deleted
and made again (tests) never meets an old entry.

No web process relies on this memory: a node that has not seen a figure set just counts it.
Definitions stay in figures.py; this module only decides when a count may be reused.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import RelationshipDirection, Session

from webapp.extensions import db
from webapp.org.models import Station, new_figures_stamp

T = TypeVar("T")

MAX_ENTRIES = 512
# Tables no figure reads, written on nearly every request: writing them must not throw the figures away.
UNREAD_TABLES = frozenset({
    "user_session", "login_throttle", "audit_entry", "audit_chain_head", "notification",
    "push_subscription", "feed_entry", "feed_counter", "feed_token", "export_file",
})
ALL_STATIONS = "all"  # a write whose station cannot be told without a query: restamp every station
_TOUCHED = "figures_touched_stations"

_lock = threading.Lock()
_entries: OrderedDict[Hashable, tuple[str, object]] = OrderedDict()


def cached(station_id: int, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or what it returned before under the station's current stamp."""
    session = db.session
    session.flush()
    if session.info.get(_TOUCHED):
        return compute()  # this transaction changed figures it has not committed: count them
    stamp = session.scalar(select(Station.figures_stamp).where(Station.id == station_id))
    full_key = (station_id, key)
    with _lock:
        hit = _entries.get(full_key)
        if hit is not None and hit[0] == stamp:
            _entries.move_to_end(full_key)
            return hit[1]  # type: ignore[return-value]
    value = compute()
    if stamp is not None:
        with _lock:
            _entries[full_key] = (stamp, value)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


def _station_of(obj) -> int | str:
    """The station a changed row belongs to, from its own columns or an already loaded parent."""
    if isinstance(obj, Station):
        return obj.id
    station_id = getattr(obj, "station_id", None)
    if isinstance(station_id, int):
        return station_id
    state = inspect(obj)
    for relation in state.mapper.relationships:
        if relation.direction is RelationshipDirection.MANYTOONE:
            parent = state.attrs[relation.key].loaded_value
            if isinstance(getattr(parent, "station_id", None), int):
                return parent.station_id
    return ALL_STATIONS


def _touch(session: Session, stations: set) -> None:
    session.info.setdefault(_TOUCHED, set()).update(stations)


@event.listens_for(Session, "after_flush")
def _note_flushed_rows(session: Session, _flush_context) -> None:
    # In after_flush, new/dirty/deleted still list what this flush wrote.
    touched = {_station_of(obj) for obj in (*session.new, *session.dirty, *session.deleted)
               if obj.__table__.name not in UNREAD_TABLES}
    if touched:
        _touch(session, touched)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_statements(state) -> None:
    # UPDATE/DELETE/INSERT statements run through the session skip the flush: restamp every station.
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) not in UNREAD_TABLES | {"station"}:
            _touch(state.session, {ALL_STATIONS})


@event.listens_for(Session, "before_commit")
def _restamp_touched_stations(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint (one /sync item) is released: the restamp waits for the outer commit. Taken
        # here, the station's row lock was held from a batch's first item to its commit, and every
        # other batch of the station, on any node, queued behind it.
        return
    session.flush()  # commit flushes after this event: flush first so its rows are noted
    touched = session.info.pop(_TOUCHED, None)
    if not touched:
        return
    station = Station.__table__
    # FOR NO KEY UPDATE: it must not wait on the key-share locks every open transaction that
    # inserted a row referring to the station holds (that waits crosswise: a deadlock).
    rows = select(station.c.id).order_by(station.c.id).with_for_update(key_share=True)
    if ALL_STATIONS not in touched:
        rows = rows.where(station.c.id.in_(touched))
    # Through the connection, not session.execute: the restamp must not note itself. The rows are
    # locked in id order first, so two commits restamping overlapping stations never wait crosswise.
    connection = session.connection()
    ids = connection.execute(rows).scalars().all()
    connection.execute(update(station).where(station.c.id.in_(ids)).values(figures_stamp=new_figures_stamp()))


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction) -> None:
    # Only the outer transaction's rollback: a savepoint's (one bad /sync item) may follow others
    # that are kept. Its own rows stay noted too, which costs at most one needless recount.
    if not previous_transaction.nested:
        session.info.pop(_TOUCHED, None)
