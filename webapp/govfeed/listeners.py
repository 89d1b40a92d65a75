"""The feed's plug-in: every lead event makes a feed entry; the minute sweep numbers new entries,
then the webhook's step batches and sends them (webapp/govfeed/tasks.py)."""

from __future__ import annotations

from datetime import timedelta

from webapp.extensions import db
from webapp.govfeed import services
from webapp.jobs import sweep_step
from webapp.leads.events import lead_registered, lead_stepped


@lead_registered.connect
def _registered(lead, routed: bool = False, at=None, **_) -> None:
    services.record_entry(lead, "registered", at)


@lead_stepped.connect
def _stepped(lead, step: str = "", at=None, **_) -> None:
    services.record_entry(lead, step or "step", at)


@sweep_step("feed_numbered")
def number_feed(stale_after: timedelta) -> int:
    count = services.number_new_entries()
    db.session.commit()
    return count
