"""Follow-up visits: scheduled after the letter, due ones on the task force's home and the assigned
person's "my work", pushed once when due (neutral words); recurrence raises the lead to red through
the lifecycle's grade step and alerts the task force."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from tests.dv.conftest import issued_letter, letter_input
from webapp.audit.models import AuditEntry
from webapp.dv.models import FollowUp, WarningLetter
from webapp.dv.services import decide_letter, request_letter
from webapp.dv.sweep import followups_due
from webapp.extensions import db
from webapp.leads.models import LeadEvent
from webapp.notify.models import Notification
from webapp.notify.push import payload_for
from webapp.org.models import User
from webapp.timeutil import STATION_TZ, utcnow

NAMES = ("张伟", "李秀兰", "殴打")


def _notes(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


def _neutral(notification: Notification) -> None:
    user = db.session.get(User, notification.user_id)
    with current_app.test_request_context():
        payload = json.dumps(payload_for(notification, user), ensure_ascii=False)
    assert not any(word in payload or word in notification.text for word in NAMES), payload


def test_violence_recurring_raises_the_lead_to_red_and_alerts_the_task_force(cast, make_client):
    letter = issued_letter(cast)
    assert cast.lead.risk != "red"
    followup = letter.followups[0]
    team = cast.browser(make_client(), "dvteam")
    response = team.post(
        f"/dv/followups/{followup.id}",
        {
            "followup_id": str(followup.id),
            "recurred": "yes",
            "note": "邻居称前晚又听到打骂声，受害人脸部有新伤。",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    lead = cast.lead
    assert lead.risk == "red" and lead.risk_confirmed
    grade = db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "grade")
    ).all()[-1]
    assert grade.actor_id is None and json.loads(grade.detail)["rule"] == "dv_recurrence"
    told = {n.user_id for n in _notes("dv_recurrence")}
    assert {cast.dvteam.id, cast.supervisor.id, cast.supervisor2.id, cast.officer.id} <= told
    assert not told & {cast.officer2.id, cast.volunteer.id, cast.admin.id, cast.mediator.id}
    for notification in _notes("dv_recurrence") + _notes("red_lead"):
        _neutral(notification)
    # The follow-up is recorded once: a second recording is refused and changes nothing.
    again = team.post(
        f"/dv/followups/{followup.id}", {"followup_id": str(followup.id), "recurred": "no", "note": "改写"}
    )
    assert again.status_code == 409
    db.session.refresh(followup)
    assert followup.recurred is True and followup.note.startswith("邻居")


def test_no_recurrence_leaves_the_grade(cast, make_client):
    letter = issued_letter(cast)
    before = cast.lead.risk
    followup = letter.followups[0]
    team = cast.browser(make_client(), "dvteam")
    team.post(
        f"/dv/followups/{followup.id}", {"followup_id": str(followup.id), "recurred": "no", "note": "平稳"}
    )
    db.session.expire_all()
    assert cast.lead.risk == before and _notes("dv_recurrence") == []


def test_due_visits_reach_home_my_work_and_push_once(cast, make_client):
    letter = issued_letter(cast)
    today = utcnow().astimezone(STATION_TZ).date()
    overdue, due, later = letter.followups
    overdue.due_on, due.due_on = today - timedelta(days=2), today  # as if the letter was older
    db.session.commit()

    assert followups_due(timedelta(minutes=5)) == 2
    assert followups_due(timedelta(minutes=5)) == 0  # once
    notes = _notes("dv_followup_due")
    assert sorted(n.subject_id for n in notes) == sorted([overdue.id, due.id])
    assert {n.user_id for n in notes} == {cast.dvteam.id}  # the assignee (the requester)
    for notification in notes:
        _neutral(notification)

    team = cast.browser(make_client(), "dvteam")
    home = team.client.get("/home/dv-team").get_data(as_text=True)
    overdue_part = home.split('id="dv-overdue"')[1].split("</section>")[0]
    due_part = home.split('id="dv-due"')[1].split("</section>")[0]
    assert f'/dv/followups/{overdue.id}"' in overdue_part and f'/dv/followups/{due.id}"' in due_part
    assert f'/dv/followups/{later.id}"' not in home

    # An officer's "my work" lists the visits assigned to them.
    overdue.assignee_id = cast.officer.id
    db.session.commit()
    officer = cast.browser(make_client(), "officer")
    mine = officer.client.get("/home/officer").get_data(as_text=True)
    assert f'/dv/followups/{overdue.id}"' in mine and f'/dv/followups/{due.id}"' not in mine
    other = cast.browser(make_client(), "officer2")
    assert "/dv/followups/" not in other.client.get("/home/officer").get_data(as_text=True)


def test_the_schedule_follows_the_configured_days(app, cast, make_client):
    letter = request_letter(cast.dvteam, cast.lead, letter_input())
    decide_letter(cast.supervisor, letter, approve=True)
    db.session.commit()
    page = f"/dv/letters/{letter.id}"
    app.config["BEATBOOK_DV_FOLLOWUP_DAYS"] = "3, 14"
    try:
        team = cast.browser(make_client(), "dvteam")
        response = team.post(f"{page}/issue", {"followups_by": "committee"}, from_page=page)
    finally:
        app.config["BEATBOOK_DV_FOLLOWUP_DAYS"] = "7,30,90"
    assert response.status_code == 303
    db.session.expire_all()
    followups = db.session.scalars(select(FollowUp).where(FollowUp.letter_id == letter.id)).all()
    issued_on = db.session.get(WarningLetter, letter.id).issued_at.astimezone(STATION_TZ).date()
    assert [(f.days_after, f.due_on - issued_on, f.by_committee) for f in followups] == [
        (3, timedelta(days=3), True),
        (14, timedelta(days=14), True),
    ]


def test_two_people_recording_one_visit_at_once_record_it_once(cast, make_client):
    """The task force on the page and a supervisor at the same moment, with different findings: one
    recording stands (and only its finding alerts), the other is told the visit is recorded."""
    letter = issued_letter(cast)
    followup = letter.followups[0]
    page = f"/dv/followups/{followup.id}"
    people = [cast.browser(make_client(), who) for who in ("dvteam", "supervisor")]
    tokens = [person.token(page) for person in people]
    start, statuses = threading.Barrier(2), {}

    def record_it(person, token: str, recurred: str) -> None:
        start.wait()
        statuses[recurred] = person.client.post(page, data={
            "csrf_token": token, "followup_id": str(followup.id), "recurred": recurred, "note": recurred,
        }).status_code

    threads = [threading.Thread(target=record_it, args=(people[0], tokens[0], "yes")),
               threading.Thread(target=record_it, args=(people[1], tokens[1], "no"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses.values()) == [303, 409], statuses
    db.session.expire_all()
    stored = db.session.get(FollowUp, followup.id)
    winner = next(answer for answer, status in statuses.items() if status == 303)
    assert (stored.note, stored.recurred) == (winner, winner == "yes")
    recordings = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "dv_followup", AuditEntry.object_id == followup.id)).all()
    assert len(recordings) == 1
    assert bool(_notes("dv_recurrence")) == (winner == "yes")
