"""The mediation vocabulary: codes stored in the database and their names (Flask-Babel)."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Origin(enum.StrEnum):
    OWN_INITIATIVE = "own_initiative"
    ON_REQUEST = "on_request"
    REFERRED = "referred"


ORIGIN_LABELS = {
    Origin.OWN_INITIATIVE: _l("On the station's own initiative"),
    Origin.ON_REQUEST: _l("At the parties' request"),
    Origin.REFERRED: _l("Referred by another body"),
}


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    FAILED = "failed"
    TRANSFERRED = "transferred"


CASE_STATUS_LABELS = {
    CaseStatus.OPEN: _l("Being mediated"),
    CaseStatus.RESOLVED: _l("Resolved"),
    CaseStatus.FAILED: _l("Mediation failed"),
    CaseStatus.TRANSFERRED: _l("Transferred"),
}


class MemberRole(enum.StrEnum):
    MEDIATOR = "mediator"
    PROSECUTOR = "prosecutor"  # a mediator who is a (retired) prosecutor: 两官一律's second official
    LAWYER = "lawyer"
    OFFICER = "officer"


MEMBER_ROLE_LABELS = {
    MemberRole.MEDIATOR: _l("Mediator"),
    MemberRole.PROSECUTOR: _l("Prosecutor-mediator"),
    MemberRole.LAWYER: _l("Lawyer"),
    MemberRole.OFFICER: _l("Officer"),
}


class Place(enum.StrEnum):
    ROOM = "room"
    ON_SITE = "on_site"
    VIDEO = "video"


PLACE_LABELS = {
    Place.ROOM: _l("Mediation room"),
    Place.ON_SITE: _l("On site"),
    Place.VIDEO: _l("Video link"),
}


class SessionResult(enum.StrEnum):
    CONTINUING = "continuing"
    AGREEMENT = "agreement"
    FAILED = "failed"


SESSION_RESULT_LABELS = {
    SessionResult.CONTINUING: _l("No result yet: to be continued"),
    SessionResult.AGREEMENT: _l("Agreement reached"),
    SessionResult.FAILED: _l("Failed"),
}
