"""The lead vocabulary: sources, categories, flags, risk grades, statuses — codes and their names.

Codes are stable English identifiers stored in the database; labels go through Flask-Babel.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Source(enum.StrEnum):
    WALK_IN = "walk_in"
    HOTLINE_12345 = "hotline_12345"
    POLICE_110 = "police_110"
    RESIDENTS_COMMITTEE = "residents_committee"
    VOLUNTEER = "volunteer"
    GRID_WORKER = "grid_worker"
    BUILDING_HEAD = "building_head"
    VISIT = "visit"
    ONLINE = "online"


SOURCE_LABELS = {
    Source.WALK_IN: _l("Walk-in"),
    Source.HOTLINE_12345: _l("12345 hotline"),
    Source.POLICE_110: _l("110 incident transfer"),
    Source.RESIDENTS_COMMITTEE: _l("Residents' committee consultation"),
    Source.VOLUNTEER: _l("Volunteer report"),
    Source.GRID_WORKER: _l("Grid worker"),
    Source.BUILDING_HEAD: _l("Building head"),
    Source.VISIT: _l("Door-to-door visit"),
    Source.ONLINE: _l("Online (official account / video)"),
}

# Sources whose reference number (ticket, incident) must be recorded.
SOURCES_WITH_REFERENCE = {Source.HOTLINE_12345, Source.POLICE_110}

CATEGORY_LABELS = {
    "marriage_family": _l("Marriage & family"),
    "neighbour": _l("Neighbour"),
    "housing_homestead": _l("Housing & homestead"),
    "contract": _l("Contract"),
    "business": _l("Business"),
    "damage_compensation": _l("Damage compensation"),
    "land_forest": _l("Land & forest"),
    "requisition_demolition": _l("Requisition & demolition"),
    "pollution": _l("Pollution"),
    "labour": _l("Labour (incl. wage arrears)"),
    "medical": _l("Medical"),
    "property_management": _l("Property management"),
    "traffic_accident": _l("Traffic accident"),
    "consumer": _l("Consumer"),
    "tourism": _l("Tourism"),
    "ip": _l("Intellectual property"),
    "internet": _l("Internet"),
    "debt": _l("Debt"),
    "other": _l("Other"),
}

SUBTYPE_LABELS = {
    "elder_support": _l("Elder support"),
    "inheritance": _l("Inheritance"),
    "custody": _l("Custody"),
    "romance": _l("Romance"),
    "private_lending": _l("Private lending"),
    "tenancy": _l("Tenancy"),
    "noise_leak": _l("Noise / leak nuisance"),
    "trivial_quarrel": _l("Trivial quarrel"),
    "wage_arrears": _l("Wage arrears"),
}


class Risk(enum.StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


RISK_LABELS = {
    Risk.RED: _l("Red — may turn criminal"),
    Risk.ORANGE: _l("Orange — may escalate"),
    Risk.YELLOW: _l("Yellow — ordinary dispute"),
    Risk.BLUE: _l("Blue — latent hazard"),
}
RISK_SHORT_LABELS = {Risk.RED: _l("Red"), Risk.ORANGE: _l("Orange"), Risk.YELLOW: _l("Yellow"),
                     Risk.BLUE: _l("Blue")}
# Sort order: most dangerous first; ungraded after blue so it is never hidden at the top of a list.
RISK_RANK = {Risk.RED: 0, Risk.ORANGE: 1, Risk.YELLOW: 2, Risk.BLUE: 3}
UNGRADED_RANK = 4
RISK_ORDER = (Risk.BLUE, Risk.YELLOW, Risk.ORANGE, Risk.RED)  # for bumping one level up

RISK_FACTOR_LABELS = {
    "criminal_tendency": _l("May turn criminal (民转刑)"),
    "extreme_act": _l("Extreme-act tendency"),
    "group_incident": _l("Group incident"),
    "repeat_calls": _l("Repeat calls"),
    "watched_person": _l("Watched person involved"),
    "domestic_violence": _l("Domestic violence"),
    "minor": _l("Minor involved"),
    "large_amount": _l("Amount ≥ ¥100,000"),
    "many_people": _l("10 or more people"),
}


class Status(enum.StrEnum):
    REGISTERED = "registered"
    GRADED = "graded"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    IN_MEDIATION = "in_mediation"
    RESOLVED = "resolved"
    FAILED = "failed"
    TRANSFERRED = "transferred"
    MONITORING = "monitoring"
    RETURN_VISIT = "return_visit"
    CLOSED = "closed"


STATUS_LABELS = {
    Status.REGISTERED: _l("Registered"),
    Status.GRADED: _l("Graded"),
    Status.ASSIGNED: _l("Assigned"),
    Status.ACCEPTED: _l("Accepted"),
    Status.IN_MEDIATION: _l("In mediation"),
    Status.RESOLVED: _l("Resolved"),
    Status.FAILED: _l("Mediation failed"),
    Status.TRANSFERRED: _l("Transferred"),
    Status.MONITORING: _l("Performance monitoring"),
    Status.RETURN_VISIT: _l("Return visit"),
    Status.CLOSED: _l("Closed"),
}

# Work is "open" (counts for deadlines and overdue) until it is resolved one way or another.
OPEN_STATUSES = frozenset({Status.REGISTERED, Status.GRADED, Status.ASSIGNED, Status.ACCEPTED,
                           Status.IN_MEDIATION})
# Where a lead still needs someone (follow-up included): shown in "my work".
ACTIVE_STATUSES = OPEN_STATUSES | {Status.MONITORING, Status.RETURN_VISIT}

RESOLUTION_LABELS = {
    "written": _l("Written agreement"),
    "oral": _l("Oral agreement"),
    "on_the_spot": _l("Resolved on the spot"),
}
FAILURE_ROUTE_LABELS = {
    "court": _l("Court"),
    "arbitration": _l("Arbitration"),
    "administrative": _l("Administrative route"),
}
TRANSFER_TARGET_LABELS = {
    "justice_office": _l("Justice office"),
    "court_pre_litigation": _l("Court pre-litigation mediation"),
    "petitions_office": _l("Petitions office"),
    "labour_arbitration": _l("Labour arbitration"),
    "department": _l("A government department"),
    "police_case": _l("Police case"),
}

PARTY_ROLE_LABELS = {
    "applicant": _l("Applicant"),
    "respondent": _l("Respondent"),
    "victim": _l("Victim"),
    "abuser": _l("Abuser"),
    "minor": _l("Minor"),
    "guardian": _l("Guardian"),
    "witness": _l("Witness"),
    "reporter": _l("Reporter"),
    "other": _l("Other"),
}


class Progress(enum.StrEnum):
    """What a volunteer sees of a report: plain words, no case details."""

    RECEIVED = "received"
    BEING_HANDLED = "being_handled"
    RESOLVED = "resolved"
    REFERRED = "referred"


PROGRESS_LABELS = {
    Progress.RECEIVED: _l("Received — waiting for the officer"),
    Progress.BEING_HANDLED: _l("Being handled"),
    Progress.RESOLVED: _l("Resolved"),
    Progress.REFERRED: _l("Handed to the right channel"),
}


def progress_of(status: str, duplicate: bool = False) -> Progress:
    status = Status(status)
    if duplicate:
        return Progress.BEING_HANDLED  # someone else's report of the same thing is being handled
    if status in {Status.REGISTERED, Status.GRADED, Status.ASSIGNED}:
        return Progress.RECEIVED
    if status in {Status.ACCEPTED, Status.IN_MEDIATION}:
        return Progress.BEING_HANDLED
    if status in {Status.FAILED, Status.TRANSFERRED}:
        return Progress.REFERRED
    return Progress.RESOLVED
