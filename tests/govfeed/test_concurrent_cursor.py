"""The cursor under concurrent inserts: threads register leads (holding their transaction open a
moment after the entry's id is taken) while a reader pages and a sweep numbers; the union of the
pages is every entry, once, in order."""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import select

from tests.factories import commit
from tests.govfeed.conftest import DEADLINES, MAX_PHOTO
from webapp.extensions import db
from webapp.govfeed.models import FeedEntry
from webapp.govfeed.services import issue_token, number_new_entries
from webapp.leads.codes import Source
from webapp.leads.services import LeadInput, register_lead
from webapp.org.models import Community, User

WRITERS = 3
LEADS_EACH = 15


def _writer(app, volunteer_id: int, community_id: int, seed: int, failures: list) -> None:
    rng = random.Random(seed)
    try:
        with app.app_context():
            volunteer = db.session.get(User, volunteer_id)
            community = db.session.get(Community, community_id)
            for index in range(LEADS_EACH):
                register_lead(volunteer, LeadInput(source=Source.VOLUNTEER, category="neighbour",
                                                   summary=f"并发{seed}-{index}", community=community),
                              DEADLINES, MAX_PHOTO)
                db.session.flush()  # the entry's id is taken now; it commits a moment later
                time.sleep(rng.uniform(0, 0.03))
                db.session.commit()
            db.session.remove()
    except BaseException as error:  # noqa: BLE001 — reported by the test
        failures.append(error)


def _sweeper(app, writing: threading.Event, failures: list) -> None:
    try:
        with app.app_context():
            while writing.is_set():
                number_new_entries()
                db.session.commit()
                time.sleep(0.01)
            db.session.remove()
    except BaseException as error:  # noqa: BLE001
        failures.append(error)


def test_cursor_never_skips_or_repeats_under_concurrent_inserts(feed_world, client):
    app = client.application
    _, token = issue_token(feed_world.station, "区综治中心", feed_world.liaison)
    commit()
    failures: list[BaseException] = []
    writing = threading.Event()
    writing.set()
    writers = [threading.Thread(target=_writer, args=(app, feed_world.volunteer.id, feed_world.community.id,
                                                      seed, failures)) for seed in range(WRITERS)]
    sweeper = threading.Thread(target=_sweeper, args=(app, writing, failures))
    for thread in (*writers, sweeper):
        thread.start()
    seen: list[int] = []
    cursor = "0"

    def page() -> list[dict]:
        nonlocal cursor
        response = client.get("/api/feed", query_string={"cursor": cursor, "limit": 4},
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        cursor = body["next_cursor"]
        seen.extend(entry["seq"] for entry in body["entries"])
        return body["entries"]

    while any(thread.is_alive() for thread in writers):
        page()
    writing.clear()
    sweeper.join()
    while page():
        pass
    assert not failures, failures
    stored = list(db.session.scalars(select(FeedEntry.seq).order_by(FeedEntry.seq)))
    assert len(stored) == WRITERS * LEADS_EACH and None not in stored
    assert seen == stored  # every entry, exactly once, in order
