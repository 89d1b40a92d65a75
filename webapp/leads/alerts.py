"""Who hears about what happens to a lead: leads' notification kinds and the rules that raise them.

Reacts to leads' own events (registered, stepped) and serves the sweep (unaccepted, due). Notices
go out through `webapp.notices`; the inbox and push delivery never learn what a lead is.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp import access, notices
from webapp.extensions import db
from webapp.leads.codes import Risk
from webapp.leads.events import lead_registered, lead_stepped
from webapp.leads.labels import category_label
from webapp.leads.models import Lead
from webapp.org.models import Community, Role, Station, User
from webapp.org.services import people_with_role


class Kind(enum.StrEnum):
    ASSIGNED = "assigned"
    RED_LEAD = "red_lead"
    RETURNED = "returned"
    UNROUTABLE = "unroutable"
    SUPERVISED = "supervised"
    COMPARTMENT = "compartment"  # a DV / minor lead for the task force or youth team
    ESCALATED = "escalated"  # an assignment nobody accepted in time
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


# Neutral words only: a notification never carries personal data, it links to the lead.
notices.register_kinds({
    Kind.ASSIGNED: _l("New assignment"),
    Kind.RED_LEAD: _l("Red lead in your area"),
    Kind.RETURNED: _l("An assignment was returned"),
    Kind.UNROUTABLE: _l("A lead needs routing"),
    Kind.SUPERVISED: _l("Supervised work (督办)"),
    Kind.COMPARTMENT: _l("A lead for your team"),
    Kind.ESCALATED: _l("An assignment was not accepted in time"),
    Kind.DUE_SOON: _l("Work due within a day"),
    Kind.OVERDUE: _l("Work is overdue"),
})


def describe_leads(reader: User, lead_ids: list[int]) -> dict[int, str]:
    """'邻里纠纷 · 幸福里社区' for the leads `reader` may open as a case now: DV and minor leads only
    inside their compartment (access.case_scope); any other lead stays a neutral number."""
    rows = db.session.execute(
        select(Lead.id, Lead.category, Community.name).outerjoin(Community, Lead.community_id == Community.id)
        .where(Lead.id.in_(lead_ids), access.case_scope(reader)))
    return {lead_id: " · ".join(part for part in (category_label(category), community) if part)
            for lead_id, category, community in rows}


notices.register_describer("lead", describe_leads)


def tell(people: Iterable[User], kind: Kind, lead: Lead, occurrence: str = "") -> int:
    """Notify `people` about `lead`; returns how many are told now (repeats are ignored)."""
    return notices.announce(people, notices.Notice(
        kind=kind.value, subject_kind="lead", subject_id=lead.id,
        link=notices.link_to("leads.detail", lead_id=lead.id),
        text=_l("Lead #%(id)s — open Beatbook to see it.", id=lead.id), occurrence=occurrence,
    ))


def supervisors_of(lead: Lead) -> list[User]:
    return people_with_role(db.session.get(Station, lead.station_id), Role.SUPERVISOR)


def _stamp(at: datetime) -> str:
    return str(at.timestamp())


@lead_registered.connect
def _registered(lead: Lead, routed: bool, at: datetime) -> None:
    station = db.session.get(Station, lead.station_id)
    # Supervisors are looked up only when they are told: most leads are routed and not red.
    if routed:
        tell([lead.assignee], Kind.ASSIGNED, lead, _stamp(at))
    else:
        tell(people_with_role(station, Role.SUPERVISOR), Kind.UNROUTABLE, lead)
    if lead.risk == Risk.RED:
        tell(people_with_role(station, Role.SUPERVISOR), Kind.RED_LEAD, lead)
    if lead.flag_dv:
        tell(people_with_role(station, Role.DV_TEAM), Kind.COMPARTMENT, lead, "dv")
    if lead.flag_minor:
        tell(people_with_role(station, Role.YOUTH_TEAM), Kind.COMPARTMENT, lead, "minor")


@lead_stepped.connect
def _stepped(lead: Lead, step: str, detail: dict, at: datetime, **_context) -> None:
    if step == "grade" and lead.risk == Risk.RED and detail.get("previous") != Risk.RED.value:
        tell(supervisors_of(lead), Kind.RED_LEAD, lead)
    elif step in {"assign", "reopen"}:
        tell([lead.assignee], Kind.ASSIGNED, lead, _stamp(at))
    elif step == "return":
        tell(supervisors_of(lead), Kind.RETURNED, lead, _stamp(at))
    elif step == "supervise" and lead.assignee is not None:
        tell([lead.assignee], Kind.SUPERVISED, lead, _stamp(at))
