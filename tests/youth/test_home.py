"""The youth team's home: their work first — minor leads, sessions due, outreach coming up, counts."""

from __future__ import annotations

from datetime import date, timedelta

from tests.factories import commit
from webapp.extensions import db
from webapp.youth.models import YouthProfile
from webapp.youth.services import OutreachInput, save_outreach


def test_the_home_shows_the_teams_work(cast):
    profile = db.session.get(YouthProfile, cast.ids["profile"])
    profile.next_session_on = date.today() - timedelta(days=1)
    youth = profile.opened_by
    save_outreach(youth, None, OutreachInput(topic="drowning", held_on=date.today() + timedelta(days=4),
                                             place="银杏苑社区泳池", audience=80))
    commit()
    response = cast.get("youth_team", "/home/youth-team")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    assert f'/leads/{cast.ids["minor_lead"]}"' in body  # the minor lead to act on
    assert f'/leads/{cast.ids["plain_lead"]}"' not in body
    assert f'/youth/profiles/{cast.ids["profile"]}"' in body and "赵**" in body and "赵小五" not in body
    assert "银杏苑社区泳池" in body and "西门口中学礼堂" not in body  # upcoming only
    # The counts of the last 12 months: one talk held (the coming one not yet), one counselling
    # session, one minor helped.
    assert body.count("<strong>1</strong>") >= 3


def test_the_home_is_the_youth_teams(cast):
    for who in ("officer", "supervisor", "dv_team", "volunteer"):
        assert cast.get(who, "/home/youth-team").status_code == 403
