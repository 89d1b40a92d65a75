"""The youth team's vocabulary: codes stored in the database, labels through Flask-Babel."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class SessionKind(enum.StrEnum):
    COUNSELLING = "counselling"
    FAMILY_EDUCATION = "family_education"
    PARENT_CHILD = "parent_child"


SESSION_KIND_LABELS = {
    SessionKind.COUNSELLING: _l("Counselling"),
    SessionKind.FAMILY_EDUCATION: _l("Family education"),
    SessionKind.PARENT_CHILD: _l("Parent–child talk"),
}


class ClosedReason(enum.StrEnum):
    HELPED = "helped"
    MOVED_AWAY = "moved_away"
    AGED_OUT = "aged_out"


CLOSED_REASON_LABELS = {
    ClosedReason.HELPED: _l("Helped"),
    ClosedReason.MOVED_AWAY: _l("Moved away"),
    ClosedReason.AGED_OUT: _l("Aged out (18)"),
}


class Topic(enum.StrEnum):
    LAW = "law"
    ANTI_FRAUD = "anti_fraud"
    TRAFFIC = "traffic"
    ANTI_BULLYING = "anti_bullying"
    DROWNING = "drowning"
    OTHER = "other"


TOPIC_LABELS = {
    Topic.LAW: _l("Law in schools"),
    Topic.ANTI_FRAUD: _l("Anti-fraud"),
    Topic.TRAFFIC: _l("Traffic safety"),
    Topic.ANTI_BULLYING: _l("Anti-bullying"),
    Topic.DROWNING: _l("Drowning prevention"),
    Topic.OTHER: _l("Other topic"),
}

# What puts a minor at risk (recorded on the profile; several may apply).
RISK_FACTOR_LABELS = {
    "truancy": _l("Truancy or dropping out"),
    "left_behind": _l("Left-behind child"),
    "guardian_absent": _l("No effective guardian"),
    "family_violence": _l("Violence or conflict at home"),
    "bullying": _l("Bullying (victim or bully)"),
    "night_out": _l("Out at night, internet cafés"),
    "bad_company": _l("Bad company"),
    "self_harm": _l("Self-harm risk"),
}


def _label(labels: dict, code: str) -> str:
    return str(labels.get(code, code))


def template_helpers() -> dict:
    return {
        "session_kind_label": lambda code: _label(SESSION_KIND_LABELS, code),
        "closed_reason_label": lambda code: _label(CLOSED_REASON_LABELS, code),
        "topic_label": lambda code: _label(TOPIC_LABELS, code),
        "youth_factor_label": lambda code: _label(RISK_FACTOR_LABELS, code),
    }
