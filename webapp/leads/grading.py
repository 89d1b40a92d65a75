"""Intake grading rules: a first grade so deadlines start at once; a person confirms it (研判)."""

from __future__ import annotations

from webapp.leads.codes import RISK_ORDER, RISK_RANK, Risk

RED_FACTORS = {"criminal_tendency", "extreme_act", "group_incident"}
# Repeat calls are not a factor here: the repeat rule bumps the grade by one level instead.
ORANGE_FACTORS = {"watched_person", "domestic_violence", "minor", "large_amount", "many_people"}
# Trivial quarrels are the largest cause of disputes turning criminal: never "latent" only.
YELLOW_CATEGORIES = {"marriage_family", "neighbour", "housing_homestead", "land_forest", "labour",
                     "requisition_demolition", "debt"}


def factors_from_flags(*, dv: bool, minor: bool, watched: bool, many_people: bool,
                       head_count: int | None) -> set[str]:
    factors = set()
    if dv:
        factors.add("domestic_violence")
    if minor:
        factors.add("minor")
    if watched:
        factors.add("watched_person")
    if many_people and (head_count or 0) >= 10:
        factors.add("many_people")
    return factors


def suggest_grade(category: str, subtype: str, factors: set[str]) -> Risk:
    if factors & RED_FACTORS:
        return Risk.RED
    if factors & ORANGE_FACTORS:
        return Risk.ORANGE
    if category in YELLOW_CATEGORIES or subtype == "trivial_quarrel":
        return Risk.YELLOW
    return Risk.BLUE


def bump(risk: Risk) -> Risk:
    """One level more serious (blue → yellow → orange → red); red stays red."""
    index = RISK_ORDER.index(risk)
    return RISK_ORDER[min(index + 1, len(RISK_ORDER) - 1)]


def set_risk(lead, risk: Risk, factors: set[str], confirmed: bool) -> None:
    """Give `lead` a grade (with its factors); `confirmed` means a person assessed it."""
    lead.risk = risk.value
    lead.risk_rank = RISK_RANK[risk]
    lead.risk_factors = ",".join(sorted(factors))
    lead.risk_confirmed = confirmed
