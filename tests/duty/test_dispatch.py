"""Dispatch (调解员随警出动): a 110 dispute call reaches the first mediator on duty (inbox + push
job); a decline or no answer in time passes it on; nobody (left) on duty → the supervisors; exactly
one open offer per call, even with a decline and the sweep's timeout racing on two connections."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.duty import dispatch
from webapp.duty.models import CallState, DispatchCall, DispatchOffer, OfferState
from webapp.duty.services import add_shift
from webapp.extensions import db
from webapp.jobs import huey
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.notify.models import Notification
from webapp.org.models import Role, User
from webapp.timeutil import utcnow

PARTY = PartyInput(role="applicant", name="章大海", phone="13955550001", id_number="")


class Cast:
    """A station with a community officer, three mediators on duty now (in this order), a fourth
    mediator off duty and two supervisors."""

    def __init__(self, app, on_duty: int = 3):
        self.app = app
        self.station = make_station()
        self.officer = make_user(self.station, Role.OFFICER, username="d_officer")
        self.community = make_community(self.station, officer=self.officer)
        self.mediators = [make_user(self.station, Role.MEDIATOR, username=f"d_med{n}") for n in range(4)]
        self.supervisors = [make_user(self.station, Role.SUPERVISOR, username=f"d_sup{n}") for n in range(2)]
        now = utcnow()
        for n, mediator in enumerate(self.mediators[:on_duty]):
            add_shift(self.station, mediator, now - timedelta(hours=3 - n), now + timedelta(hours=6), None)
        commit()

    def call_in(self, source: Source = Source.POLICE_110, dv: bool = False, summary: str = "楼道争吵") -> int:
        config = self.app.config
        officer, community = db.session.merge(self.officer), db.session.merge(self.community)
        result = register_lead(officer, LeadInput(
            source=source, source_ref="110-20261130-0001" if source == Source.POLICE_110 else "",
            category="neighbour", summary=summary, community=community, address="和平里3栋502",
            flag_dv=dv, parties=[PARTY]), parse_deadlines(config["BEATBOOK_DEADLINES"]), 1 << 20)
        commit()
        return result.lead.id


def call_of(lead_id: int) -> DispatchCall | None:
    return db.session.scalar(select(DispatchCall).where(DispatchCall.lead_id == lead_id))


def inbox(person: User, kind: str = dispatch.DISPATCH) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == person.id,
                                                               Notification.kind == kind)))


def offers(call: DispatchCall) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [(offer.user_id, offer.state) for offer in dispatch.offers_of(call)]


def phone(app, username: str) -> Browser:
    client = app.test_client()
    client.set_cookie("lang", "en")
    browser = Browser(client)
    assert browser.login(username).status_code == 303
    return browser


@pytest.fixture
def cast(app_ctx):
    return Cast(app_ctx)


def test_a_110_dispute_reaches_the_first_mediator_on_duty(cast):
    huey.flush()
    lead_id = cast.call_in()
    call = call_of(lead_id)
    first = cast.mediators[0]
    assert call.state == CallState.OFFERING and offers(call) == [(first.id, OfferState.OFFERED)]
    [note] = inbox(first)
    assert note.link == f"/duty/calls/{call.id}" and note.subject_kind == "dispatch"
    assert "章" not in note.text and "和平里" not in note.text  # neutral words only
    [push] = huey.pending()  # the lead's and the dispatch's pushes, one job for the commit
    assert push.name == "push_notifications" and note.id in push.args[0]
    huey.flush()
    assert all(inbox(m) == [] for m in cast.mediators[1:])


def test_other_channels_and_compartmented_calls_are_not_dispatched(cast):
    for lead_id in (cast.call_in(Source.WALK_IN), cast.call_in(dv=True)):
        assert call_of(lead_id) is None
    assert inbox(cast.mediators[0]) == []


def test_the_offer_page_shows_what_a_mediator_needs_and_nothing_personal(cast):
    call = call_of(cast.call_in(summary="邻居持械威胁 secretword"))
    page = phone(cast.app, "d_med0").client.get(f"/duty/calls/{call.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"#{call.lead_id}" in body and "Neighbour" in body and cast.community.name in body
    assert "110-20261130-0001" in body and 'name="decision"' in body
    for private in ("章大海", "13955550001", "和平里", "secretword"):
        assert private not in body
    # Not offered to them: the call does not exist for them (mediator off duty, another officer).
    make_user(cast.station, Role.OFFICER, username="d_officer2")
    commit()
    assert phone(cast.app, "d_med3").client.get(f"/duty/calls/{call.id}").status_code == 404
    assert phone(cast.app, "d_officer2").client.get(f"/duty/calls/{call.id}").status_code == 404
    # The officer handling the lead sees it (who is coming), without the answer form.
    handler = phone(cast.app, "d_officer").client.get(f"/duty/calls/{call.id}")
    assert handler.status_code == 200 and 'name="decision"' not in handler.get_data(as_text=True)
    assert phone(cast.app, "d_sup0").client.get(f"/duty/calls/{call.id}").status_code == 200


def test_a_decline_passes_to_the_next_and_an_accept_settles_it(cast):
    call = call_of(cast.call_in())
    first, second = phone(cast.app, "d_med0"), phone(cast.app, "d_med1")
    path = f"/duty/calls/{call.id}"
    declined = first.post(f"{path}/answer", {"decision": "decline", "reason": "在医院陪护"}, from_page=path)
    assert declined.status_code == 303
    one, two = cast.mediators[0].id, cast.mediators[1].id
    assert offers(call) == [(one, OfferState.DECLINED), (two, OfferState.OFFERED)]
    assert db.session.scalar(select(DispatchOffer.reason).where(DispatchOffer.user_id == one)) == "在医院陪护"
    assert len(inbox(cast.mediators[1])) == 1
    assert inbox(cast.officer, dispatch.COMING) == []  # nobody is coming yet
    # The first cannot answer again; their page no longer offers the choice.
    again = first.post(f"{path}/answer", {"decision": "accept"}, from_page=path)
    assert again.status_code == 409
    assert 'name="decision"' not in first.client.get(path).get_data(as_text=True)
    assert second.post(f"{path}/answer", {"decision": "accept"}, from_page=path).status_code == 303
    db.session.expire_all()
    call = db.session.get(DispatchCall, call.id)
    assert call.state == CallState.ACCEPTED and call.accepted_by_id == cast.mediators[1].id
    assert offers(call)[-1] == (cast.mediators[1].id, OfferState.ACCEPTED)
    assert len(offers(call)) == 2 and inbox(cast.mediators[2]) == []
    # The officer with the call's lead is told a mediator is coming, in neutral words, and the call
    # page names who.
    [coming] = inbox(cast.officer, dispatch.COMING)
    assert coming.link == path and "章" not in coming.text and "和平里" not in coming.text
    officer_page = phone(cast.app, "d_officer").client.get(path).get_data(as_text=True)
    assert cast.mediators[1].display_name in officer_page.split("<main", 1)[1]
    assert "tells you the place" not in officer_page  # that is said to the mediator
    assert "tells you the place" in second.client.get(path).get_data(as_text=True)


def test_no_answer_in_time_passes_to_the_next_once(cast):
    call = call_of(cast.call_in())
    assert dispatch.pass_unanswered(timedelta(seconds=30)) == 0  # not yet
    db.session.execute(update(DispatchOffer).values(offered_at=utcnow() - timedelta(minutes=6)))
    commit()
    assert dispatch.pass_unanswered(timedelta(seconds=30)) == 1
    one, two = cast.mediators[0].id, cast.mediators[1].id
    assert offers(call) == [(one, OfferState.TIMED_OUT), (two, OfferState.OFFERED)]
    assert dispatch.pass_unanswered(timedelta(seconds=30)) == 0  # the new offer has its own minutes
    assert len(inbox(cast.mediators[1])) == 1


def test_the_timeout_follows_the_configuration(cast):
    call = call_of(cast.call_in())
    db.session.execute(update(DispatchOffer).values(offered_at=utcnow() - timedelta(minutes=3)))
    commit()
    cast.app.config["BEATBOOK_DISPATCH_TIMEOUT_MINUTES"] = 2
    try:
        assert dispatch.pass_unanswered(timedelta(seconds=30)) == 1
    finally:
        cast.app.config["BEATBOOK_DISPATCH_TIMEOUT_MINUTES"] = 5
    assert offers(call)[0][1] == OfferState.TIMED_OUT


def test_nobody_left_on_duty_goes_to_the_supervisors(cast):
    call = call_of(cast.call_in())
    now = utcnow()
    for mediator in cast.mediators[:3]:
        dispatch.answer(db.session.get(DispatchCall, call.id), mediator, False, "", now)
    commit()
    db.session.expire_all()
    assert db.session.get(DispatchCall, call.id).state == CallState.SUPERVISORS
    assert [state for _user, state in offers(call)] == [OfferState.DECLINED] * 3
    assert all(len(inbox(boss, dispatch.UNANSWERED)) == 1 for boss in cast.supervisors)
    assert inbox(cast.mediators[3]) == []  # off duty: never asked


def test_nobody_on_duty_at_all_goes_straight_to_the_supervisors(app_ctx):
    cast = Cast(app_ctx, on_duty=0)
    call = call_of(cast.call_in())
    assert call.state == CallState.SUPERVISORS and offers(call) == []
    assert all(len(inbox(boss, dispatch.UNANSWERED)) == 1 for boss in cast.supervisors)
    page = phone(cast.app, "d_sup1").client.get(f"/duty/calls/{call.id}").get_data(as_text=True)
    assert "supervisors told" in page


def test_bad_answers_are_refused_and_change_nothing(cast):
    call = call_of(cast.call_in())
    first = phone(cast.app, "d_med0")
    path = f"/duty/calls/{call.id}"
    for data in ({}, {"decision": "maybe"}, {"decision": ["accept", "decline"]},
                 {"decision": "decline", "reason": "x" * 201}):
        assert first.post(f"{path}/answer", data, from_page=path).status_code == 422
    assert first.client.post(f"{path}/answer", data={"decision": "accept"}).status_code == 400  # no CSRF
    for bad in ("99999999999999999999", "0"):
        answer = first.post(f"/duty/calls/{bad}/answer", {"decision": "accept"}, from_page=path)
        assert answer.status_code == 404
    # A supervisor sees the call but holds no offer: 409, nothing moves.
    boss = phone(cast.app, "d_sup0")
    assert boss.post(f"{path}/answer", {"decision": "accept"}, from_page=path).status_code == 409
    assert offers(call) == [(cast.mediators[0].id, OfferState.OFFERED)]


def test_one_open_offer_per_call_is_kept_by_the_database(cast):
    call = call_of(cast.call_in())
    db.session.add(DispatchOffer(call_id=call.id, user_id=cast.mediators[2].id, position=9,
                                 state=OfferState.OFFERED.value))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _race(app, call_id: int, offer_id: int, decliner_id: int) -> list[str]:
    """A decline and the sweep's timeout of the same offer, at the same moment on two connections."""
    barrier, outcomes = threading.Barrier(2), []

    def decline():
        with app.app_context():
            barrier.wait()
            try:
                call, person = db.session.get(DispatchCall, call_id), db.session.get(User, decliner_id)
                dispatch.answer(call, person, False, "", utcnow())
                db.session.commit()
                outcomes.append("declined")
            except dispatch.DispatchError:
                db.session.rollback()
                outcomes.append("decline lost")
            finally:
                db.session.remove()

    def sweep():
        with app.app_context():
            barrier.wait()
            try:
                outcomes.append("timed out" if dispatch.time_out(offer_id, utcnow()) else "timeout lost")
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decline), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(outcomes)


def test_a_decline_racing_the_timeout_leaves_exactly_one_open_offer(cast):
    first, second = cast.mediators[0].id, cast.mediators[1].id
    for round_ in range(4):
        call = call_of(cast.call_in(summary=f"第{round_}次"))
        call_id, offer_id, decliner = call.id, dispatch.open_offer(call).id, first
        commit()
        db.session.remove()
        outcomes = _race(cast.app, call_id, offer_id, decliner)
        assert len(outcomes) == 2 and sum("lost" in o for o in outcomes) == 1, outcomes
        states = offers(db.session.get(DispatchCall, call_id))
        assert [s for _u, s in states].count(OfferState.OFFERED) == 1, states
        assert len(states) == 2 and states[1] == (second, OfferState.OFFERED)
        assert states[0][1] in (OfferState.DECLINED, OfferState.TIMED_OUT)
    # The second mediator was told once per call, never twice.
    assert len(inbox(db.session.get(User, second))) == 4
    assert db.session.scalar(select(func.count()).select_from(DispatchOffer)
                             .where(DispatchOffer.state == OfferState.OFFERED.value)) == 4


def test_a_call_waiting_for_a_mediator_heads_their_home_until_they_answer(cast):
    """The offer passes on within minutes: the mediator who opens Beatbook (not the notification)
    must find it first; the next on duty does not see it until it is theirs."""
    call = call_of(cast.call_in(summary="楼道争吵 secretword"))
    first, second = phone(cast.app, "d_med0"), phone(cast.app, "d_med1")
    path = f"/duty/calls/{call.id}"
    home = first.client.get("/home/mediation").get_data(as_text=True)
    rows = home.split('id="dispatch-rows"')[1].split("</ul>")[0]
    assert f'href="{path}"' in rows and cast.community.name in rows
    assert home.index('id="dispatch-rows"') < home.index('id="session-rows"')
    assert "secretword" not in home and "章大海" not in home
    assert path not in second.client.get("/home/mediation").get_data(as_text=True)
    first.post(f"{path}/answer", {"decision": "decline"}, from_page=path)
    assert path not in first.client.get("/home/mediation").get_data(as_text=True)
    assert f'href="{path}"' in second.client.get("/home/mediation").get_data(as_text=True)
