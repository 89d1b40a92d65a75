"""Every home and list that shows a DV or minor record writes one audit entry naming the records
shown, by kind (docs/domain.md, Privacy 4; issue 10: "lists and searches that returned compartmented
records"), htmx refreshes included; a page that shows none writes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.factories import commit, make_user
from tests.home.conftest import Place, make_case, make_lead, make_return_visit
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.org.models import Role

PAGES = {"/home/officer": "home.officer", "/home/volunteer": "home.volunteer",
         "/home/youth-team": "home.youth_team", "/home/dv-team": "home.dv_team",
         "/home/mediation": "home.mediation", "/leads/mine": "leads.mine",
         "/return-visits/": "returnvisits.index", "/mediation/": "mediation.index"}


@pytest.fixture
def listed(place: Place, make_client):
    """listed(who, path): the 'list' entries one GET of `path` by `who` wrote, each the ids shown
    by kind, sorted (its page and first record are checked here)."""
    browsers = {}

    def get(who: str, path: str, **headers) -> list[dict]:
        if who not in browsers:
            browsers[who] = place.browser(make_client(), who)
        return _listed(place, browsers[who], who, path, headers)
    return get


def _listed(place: Place, person, who: str, path: str, headers: dict) -> list[dict]:
    db.session.expire_all()
    before = db.session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
    assert person.client.get(path, headers=headers).status_code == 200
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)
                                 .where(AuditEntry.seq > before, AuditEntry.action == "list"))
    found = []
    for entry in entries:
        assert entry.actor_id == getattr(place, who).id
        detail = json.loads(entry.detail)
        assert detail.pop("page") == PAGES[path]
        assert entry.object_id == detail[entry.object_type][0]
        found.append({kind: sorted(ids) for kind, ids in detail.items()})  # in the page's order
    return found


def test_homes_that_show_a_dv_or_minor_lead_audit_it_and_ordinary_ones_do_not(place, listed):
    make_lead(place)
    assert listed("officer", "/home/officer") == []
    assert listed("volunteer", "/home/volunteer") == []
    assert listed("youth_team", "/home/youth-team") == []
    dv, minor = make_lead(place, dv=True), make_lead(place, minor=True)
    assert listed("officer", "/home/officer") == [{"lead": [dv.id, minor.id]}]
    # The htmx refresh of the list shows them again: audited again.
    assert listed("officer", "/home/officer", **{"HX-Request": "true"}) \
        == [{"lead": [dv.id, minor.id]}]
    assert listed("volunteer", "/home/volunteer") == [{"lead": [dv.id, minor.id]}]
    assert listed("dv_team", "/home/dv-team") == [{"lead": [dv.id]}]
    assert listed("youth_team", "/home/youth-team") == [{"lead": [minor.id]}]
    assert listed("volunteer", "/leads/mine") == [{"lead": [dv.id, minor.id]}]
    # Homes that cannot show them write nothing.
    assert listed("liaison", "/home/liaison") == []
    assert listed("admin", "/home/admin") == []


def test_return_visits_and_mediation_cases_of_dv_leads_are_audited_where_listed(place, listed):
    visit = make_return_visit(place, place.officer)
    case = make_case(place)
    for path, who in (("/return-visits/", "officer"), ("/mediation/", "mediator"),
                      ("/home/mediation", "mediator")):
        assert listed(who, path) == [], path
    visit.lead.flag_dv = True
    case.lead.flag_minor = True
    commit()
    assert listed("officer", "/return-visits/") == [{"return_visit": [visit.id]}]
    assert listed("officer", "/mediation/") == [{"mediation_case": [case.id]}]
    # A mediator no longer sees the case at all; a supervisor who also mediates sees it on that home.
    assert listed("mediator", "/home/mediation") == []
    place.mediating_supervisor = make_user(place.station, Role.SUPERVISOR, Role.MEDIATOR,
                                           username="h_sup_med")
    commit()
    assert listed("mediating_supervisor", "/home/mediation") == [{"mediation_case": [case.id]}]
    home = listed("officer", "/home/officer")
    assert home == [{"lead": [case.lead.id], "return_visit": [visit.id]}]
