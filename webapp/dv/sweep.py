"""The DV part of the minute sweep: a follow-up visit that falls due is pushed once to its assignee
(or, with none, to the whole task force). Deduplicated: running the sweep twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.dv.alerts import Kind, task_force, tell_about_followup
from webapp.dv.models import FollowUp
from webapp.extensions import db
from webapp.jobs import sweep_step
from webapp.timeutil import STATION_TZ, utcnow


@sweep_step("dv_followups_due")
def followups_due(stale_after: timedelta) -> int:
    today = utcnow().astimezone(STATION_TZ).date()
    due = db.session.scalars(select(FollowUp).where(FollowUp.done_at.is_(None), FollowUp.due_on <= today))
    told = 0
    for followup in due:
        people = [followup.assignee] if followup.assignee else task_force(followup.station_id)
        told += tell_about_followup(people, Kind.FOLLOWUP_DUE, followup, "due")
    db.session.commit()
    return told
