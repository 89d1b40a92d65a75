"""Jobs: enqueued only after the commit, escalation by the periodic sweep, and real workers.

The escalation and enqueue tests run the sweep and read this process's queue directly. The worker
tests start a real `huey_consumer` subprocess on the SQLite queue (the one this process enqueues
into: same BEATBOOK_INSTANCE_PATH) or on Redis (a free database of the local server; the commit is
then made by a producer subprocess whose environment selects Redis, as a web process's would),
and deliver to the local push service. Time limits are crossed by moving a row's clock back, never
by waiting.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from huey import RedisHuey
from sqlalchemy import select, update

from tests.conftest import Browser
from tests.notify.pushservice import (
    PushService,
    Worker,
    claim_redis_database,
    make_cast,
    queued_jobs,
    register_assignment,
    run_producer,
    run_queued_jobs,
    store_device,
    subprocess_database_url,
    worker_env,
)
from webapp.extensions import db
from webapp.jobs import STALE_AFTER, huey, run_sweep
from webapp.leads.alerts import Kind
from webapp.leads.codes import Risk, Status
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead, LeadEvent
from webapp.notify.models import Notification, PushStatus
from webapp.notify.sweep import CLAIM_LOST_AFTER
from webapp.org.models import User
from webapp.timeutil import utcnow

WORKER_TIMEOUT = 30.0


@pytest.fixture
def cast(app_ctx, queue):
    return make_cast("JOBS-PS")


@pytest.fixture
def push_service(app):
    with PushService(application_server_key=app.extensions["beatbook_vapid"].public_key) as service:
        yield service


@pytest.fixture
def workers(app, tmp_path):
    """Start real workers (stopped, or killed, by the end of the test)."""
    started: list[Worker] = []

    def start(redis_url: str = "") -> Worker:
        env = worker_env(subprocess_database_url(app), os.environ["BEATBOOK_INSTANCE_PATH"], redis_url)
        worker = Worker(env, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def redis_url():
    url, client = claim_redis_database()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def deadlines(app):
    return parse_deadlines(app.config["BEATBOOK_DEADLINES"])


def notes(kind: Kind | None = None, lead_id: int | None = None) -> list[Notification]:
    db.session.rollback()  # a fresh snapshot: workers in other processes change these rows
    db.session.expire_all()
    query = select(Notification).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind.value)
    if lead_id is not None:
        query = query.where(Notification.subject_kind == "lead", Notification.subject_id == lead_id)
    return list(db.session.scalars(query))


def events(lead_id: int, kind: str) -> list[LeadEvent]:
    return list(db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead_id,
                                                           LeadEvent.kind == kind)))


def age_assignment(lead_id: int, minutes: float) -> None:
    """The assignment was made `minutes` ago."""
    db.session.execute(update(Lead).where(Lead.id == lead_id)
                       .values(assigned_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def wait_until(predicate, what: str, worker: Worker | None = None, timeout: float = WORKER_TIMEOUT):
    """Bounded polling of work done by a subprocess; fails early (with its log) if the worker crashed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker is not None and "Traceback" in worker.log():
            pytest.fail(f"the worker failed while waiting for {what}:\n{worker.log()[-4000:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}"
                + (f"\n--- worker log ---\n{worker.log()[-4000:]}" if worker else ""))


# --- escalation -----------------------------------------------------------------------------------


def test_an_unaccepted_assignment_escalates_once_to_each_supervisor(app, cast):
    limit = app.config["BEATBOOK_ESCALATE_MINUTES"]
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.YELLOW)
    run_queued_jobs()  # the assignment's own push job

    age_assignment(lead_id, limit - 1)
    assert run_sweep(STALE_AFTER)["escalated"] == 0
    assert notes(Kind.ESCALATED) == [] and queued_jobs() == []

    age_assignment(lead_id, limit + 1)
    assert run_sweep(STALE_AFTER)["escalated"] == 1
    escalated = notes(Kind.ESCALATED)
    assert sorted(n.user_id for n in escalated) == sorted(cast.supervisors)
    assert {n.subject_id for n in escalated} == {lead_id}
    # The escalations are pushed by one job, enqueued by the sweep's commit.
    assert queued_jobs() == [("push_notifications", (sorted(n.id for n in escalated),))]
    [event] = events(lead_id, "escalated")
    assert event.actor_id is None and db.session.get(User, cast.officer_en).display_name in event.detail

    # The periodic job runs again (and again): nobody is told twice, the timeline says it once.
    run_queued_jobs()
    for _ in range(2):
        assert run_sweep(STALE_AFTER)["escalated"] == 0
    assert len(notes(Kind.ESCALATED)) == 2 and len(events(lead_id, "escalated")) == 1
    assert queued_jobs() == []
    # The officer was not "escalated to" and the lead is still waiting for them.
    assert db.session.get(Lead, lead_id).status == Status.ASSIGNED.value

    # Supervisors see it in their inbox and on the lead's timeline.
    supervisor = Browser(app.test_client())
    db.session.get(User, cast.supervisors[0]).locale = "en"
    db.session.commit()
    assert supervisor.login(db.session.get(User, cast.supervisors[0]).username).status_code == 303
    inbox = supervisor.client.get("/inbox/").get_data(as_text=True)
    assert "An assignment was not accepted in time" in inbox and f"#{lead_id}" in inbox
    page = supervisor.client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert "Not accepted in time: escalated to the supervisors" in page


def test_a_red_assignment_escalates_sooner(app, cast):
    red_limit = app.config["BEATBOOK_ESCALATE_RED_MINUTES"]
    assert red_limit < app.config["BEATBOOK_ESCALATE_MINUTES"]
    red = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.RED)
    yellow = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.YELLOW)
    for lead_id in (red, yellow):
        age_assignment(lead_id, red_limit - 1)
    assert run_sweep(STALE_AFTER)["escalated"] == 0

    for lead_id in (red, yellow):
        age_assignment(lead_id, red_limit + 1)
    assert run_sweep(STALE_AFTER)["escalated"] == 1
    assert {n.subject_id for n in notes(Kind.ESCALATED)} == {red}
    assert len(notes(Kind.ESCALATED)) == 2 and events(yellow, "escalated") == []
    assert run_sweep(STALE_AFTER)["escalated"] == 0 and len(notes(Kind.ESCALATED)) == 2


def test_an_accepted_assignment_never_escalates(app, cast):
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.RED)
    officer = db.session.get(User, cast.officer_en)
    perform(db.session.get(Lead, lead_id), officer, "accept", deadlines(app))
    db.session.commit()
    age_assignment(lead_id, 10 * 60)
    assert run_sweep(STALE_AFTER)["escalated"] == 0
    assert notes(Kind.ESCALATED) == [] and events(lead_id, "escalated") == []


def test_a_reassignment_that_is_ignored_too_escalates_again(app, cast):
    limit = app.config["BEATBOOK_ESCALATE_MINUTES"]
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.ORANGE)
    age_assignment(lead_id, limit + 1)
    assert run_sweep(STALE_AFTER)["escalated"] == 1

    # A supervisor hands it to the other officer, who ignores it too.
    supervisor = db.session.get(User, cast.supervisors[0])
    perform(db.session.get(Lead, lead_id), supervisor, "assign", deadlines(app),
            assignee=db.session.get(User, cast.officer_zh))
    db.session.commit()
    assert [n.user_id for n in notes(Kind.ASSIGNED, lead_id)] == [cast.officer_en, cast.officer_zh]
    assert run_sweep(STALE_AFTER)["escalated"] == 0
    age_assignment(lead_id, limit + 1)
    assert run_sweep(STALE_AFTER)["escalated"] == 1
    assert run_sweep(STALE_AFTER)["escalated"] == 0
    assert len(notes(Kind.ESCALATED)) == 4 and len(events(lead_id, "escalated")) == 2


def test_a_red_lead_is_not_announced_as_due_soon_the_moment_it_arrives(app, cast):
    """A 24-hour deadline is "due within a day" from the start: escalation covers it, not noise."""
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.RED)
    assert run_sweep(STALE_AFTER)["due_warnings"] == 0
    assert notes(Kind.DUE_SOON, lead_id) == []


def test_due_soon_and_overdue_work_is_announced_once_each(app, cast):
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.YELLOW)
    perform(db.session.get(Lead, lead_id), db.session.get(User, cast.officer_en), "accept", deadlines(app))
    db.session.commit()
    assert run_sweep(STALE_AFTER)["due_warnings"] == 0  # due in 30 days

    # Weeks later, three hours are left.
    db.session.execute(update(Lead).where(Lead.id == lead_id).values(
        due_at=utcnow() + timedelta(hours=3), cycle_started_at=utcnow() - timedelta(days=27)))
    db.session.commit()
    assert [run_sweep(STALE_AFTER)["due_warnings"] for _ in range(2)] == [1, 0]
    db.session.execute(update(Lead).where(Lead.id == lead_id).values(due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert [run_sweep(STALE_AFTER)["due_warnings"] for _ in range(2)] == [1, 0]
    assert [(n.kind, n.user_id) for n in notes(lead_id=lead_id) if n.kind != Kind.ASSIGNED] == [
        (Kind.DUE_SOON.value, cast.officer_en), (Kind.OVERDUE.value, cast.officer_en)]


def test_an_escalation_reaches_the_supervisors_phone(app, cast, push_service):
    store_device(cast.supervisors[0], push_service.subscribe("supervisor-phone"))
    db.session.commit()
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.YELLOW)
    age_assignment(lead_id, app.config["BEATBOOK_ESCALATE_MINUTES"] + 1)
    run_sweep(STALE_AFTER)
    run_queued_jobs()
    run_sweep(STALE_AFTER)
    run_queued_jobs()
    [push] = push_service.deliveries("supervisor-phone")
    assert push.payload["url"] == f"/leads/{lead_id}" and push.payload["tag"] == f"lead-{lead_id}"
    assert push.payload["title"] == "派单超时未签收"  # the supervisor has the default language


# --- enqueued after the commit --------------------------------------------------------------------


def test_jobs_are_enqueued_by_the_commit_not_before(app, cast):
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.RED, commit=False)
    ids = sorted(db.session.scalars(select(Notification.id).where(Notification.subject_id == lead_id)))
    assert len(ids) == 3  # the officer's assignment, the two supervisors' red lead
    assert queued_jobs() == [] and huey.pending_count() == 0
    db.session.commit()
    # One queue write for the commit's pushes (each is still delivered and retried on its own).
    assert queued_jobs() == [("push_notifications", (ids,))]


def test_jobs_noted_in_a_savepoint_wait_for_the_outer_commit(app, cast):
    """Each /sync item is applied in a savepoint. Enqueued when it was released, a job ran before
    the batch committed: the worker (another process, on another node's Redis queue) found the
    notification not there yet and skipped it, and the push waited for the sweep (tests/scale)."""
    with db.session.begin_nested():  # a stored item
        lead_id = register_assignment(app, cast.volunteer, cast.community_en, commit=False)
    with pytest.raises(LookupError), db.session.begin_nested():  # a later item that is refused
        register_assignment(app, cast.volunteer, cast.community_zh, commit=False)
        raise LookupError
    assert queued_jobs() == []
    db.session.commit()
    [note] = notes(lead_id=lead_id)
    assert queued_jobs() == [("push_notification", (note.id,))]


def test_a_rollback_enqueues_nothing(app, cast):
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.RED, commit=False)
    assert lead_id is not None
    db.session.rollback()
    assert huey.pending_count() == 0
    assert db.session.scalars(select(Notification)).all() == []


def test_the_commit_after_a_rollback_enqueues_only_its_own_notifications(app, cast):
    register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.RED, commit=False)
    db.session.rollback()
    lead_id = register_assignment(app, cast.volunteer, cast.community_zh)
    [note] = notes(lead_id=lead_id)
    assert queued_jobs() == [("push_notification", (note.id,))]


# --- real workers ---------------------------------------------------------------------------------


def test_a_worker_on_the_sqlite_queue_delivers_a_committed_assignment(app, cast, push_service, workers):
    assert type(huey).__name__ == "SqliteHuey"
    store_device(cast.officer_en, push_service.subscribe("sqlite-phone"))
    db.session.commit()
    lead_id = register_assignment(app, cast.volunteer, cast.community_en)
    assert huey.pending_count() == 1

    worker = workers()
    [push] = wait_until(lambda: push_service.deliveries(), "the push", worker)
    assert push.payload["url"] == f"/leads/{lead_id}"
    wait_until(lambda: notes(Kind.ASSIGNED)[0].push_status == PushStatus.SENT, "status sent", worker)
    assert huey.pending_count() == 0 and len(push_service.requests()) == 1


def test_a_worker_on_the_redis_queue_delivers_a_committed_assignment(app, cast, push_service, workers,
                                                                     redis_url):
    store_device(cast.officer_en, push_service.subscribe("redis-phone"))
    db.session.commit()
    env = worker_env(subprocess_database_url(app), os.environ["BEATBOOK_INSTANCE_PATH"], redis_url)
    produced = run_producer(env, cast.volunteer, cast.community_en)
    assert produced["queue"] == "RedisHuey"
    redis_queue = RedisHuey("beatbook", url=redis_url)
    try:
        assert redis_queue.pending_count() == 1 and huey.pending_count() == 0  # in Redis, not in SQLite

        worker = workers(redis_url)
        [push] = wait_until(lambda: push_service.deliveries(), "the push", worker)
        assert push.payload["url"] == f"/leads/{produced['lead']}"
        wait_until(lambda: notes(Kind.ASSIGNED)[0].push_status == PushStatus.SENT, "status sent", worker)
        assert redis_queue.pending_count() == 0 and len(push_service.requests()) == 1
    finally:
        redis_queue.storage.conn.close()


def test_a_worker_killed_mid_push_is_covered_by_the_sweep_exactly_once(app, cast, push_service, workers):
    store_device(cast.officer_en, push_service.subscribe("held-phone"))
    db.session.commit()
    hold = push_service.hold_next("held-phone")
    lead_id = register_assignment(app, cast.volunteer, cast.community_en)
    [note] = notes(Kind.ASSIGNED)

    first = workers()
    wait_until(hold.arrived.is_set, "the worker's push request", first)
    # Mid-job: the worker claimed the row and is waiting for the push service's answer.
    assert notes(Kind.ASSIGNED)[0].push_status == PushStatus.SENDING
    first.kill()
    hold.release()
    [abandoned] = push_service.wait_for(1, delivered=False)
    assert abandoned.abandoned and push_service.deliveries() == []
    # The job died with the worker: the queue has nothing left, the row still says "sending".
    assert huey.pending_count() == 0
    assert notes(Kind.ASSIGNED)[0].push_status == PushStatus.SENDING

    # A sweep before the claim counts as lost leaves it alone (the worker may just be slow).
    assert run_sweep(STALE_AFTER)["requeued"] == 0
    db.session.execute(update(Notification).where(Notification.id == note.id).values(
        push_claimed_at=utcnow() - CLAIM_LOST_AFTER - timedelta(seconds=1),
        created_at=utcnow() - STALE_AFTER - timedelta(seconds=1)))
    db.session.commit()
    assert run_sweep(STALE_AFTER)["requeued"] == 1
    assert queued_jobs() == [("push_notification", (note.id,))]

    second = workers()
    [push] = wait_until(lambda: push_service.deliveries(), "the push after the sweep", second)
    assert push.payload["url"] == f"/leads/{lead_id}"
    wait_until(lambda: notes(Kind.ASSIGNED)[0].push_status == PushStatus.SENT, "status sent", second)
    wait_until(lambda: huey.pending_count() == 0, "an empty queue", second)
    second.stop()  # graceful: whatever it was doing is finished

    assert len(push_service.deliveries()) == 1 and len(push_service.requests()) == 2
    note = notes(Kind.ASSIGNED)[0]
    assert note.push_status == PushStatus.SENT and note.push_attempts == 1  # the killed try never committed
    assert run_sweep(STALE_AFTER)["requeued"] == 0 and huey.pending_count() == 0


def test_four_worker_threads_push_a_burst_with_duplicate_jobs_exactly_once(app, cast, push_service, tmp_path):
    """As `make run` runs it (4 threads): 12 assignments, each with its commit's job and a duplicate
    from the sweep, race for the same rows; the claim lets exactly one job push each."""
    store_device(cast.officer_en, push_service.subscribe("busy-phone"))
    db.session.commit()
    leads = [register_assignment(app, cast.volunteer, cast.community_en) for _ in range(12)]
    db.session.execute(update(Notification).values(created_at=utcnow() - STALE_AFTER - timedelta(seconds=1)))
    db.session.commit()
    assert run_sweep(STALE_AFTER)["requeued"] == 12
    assert huey.pending_count() == 24

    env = worker_env(subprocess_database_url(app), os.environ["BEATBOOK_INSTANCE_PATH"])
    worker = Worker(env, tmp_path / "worker.log", threads=4).start()
    try:
        wait_until(lambda: len(push_service.deliveries()) >= 12, "12 pushes", worker)
        wait_until(lambda: huey.pending_count() == 0, "an empty queue", worker)
        wait_until(lambda: {n.push_status for n in notes(Kind.ASSIGNED)} == {PushStatus.SENT}, "all sent",
                   worker)
    finally:
        worker.stop()
    assert sorted(p.payload["url"] for p in push_service.deliveries()) == sorted(f"/leads/{i}" for i in leads)
    assert len(push_service.requests()) == 12 and "Traceback" not in worker.log()
