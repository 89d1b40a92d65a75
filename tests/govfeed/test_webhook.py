"""The feed's webhook push, to a real HTTP server on 127.0.0.1: retries with backoff, order and
exactly-once across batches, the signature, URL checks, the log's resend button and its access.

Time moves by passing `now` to the services (never by sleeping); the receiver is a real server
in a thread, answering from a queue of statuses the test sets.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections import deque
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from tests.govfeed.conftest import assert_deidentified, random_id, random_mobile, random_name
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.govfeed import webhook
from webapp.govfeed.models import DeliveryAttempt, DeliveryStatus, FeedEntry, FeedWebhook, WebhookDelivery
from webapp.govfeed.services import number_new_entries, read_page
from webapp.leads.services import PartyInput
from webapp.notify.endpoints import EndpointRefused
from webapp.org.models import Role
from webapp.timeutil import utcnow


class Receiver:
    """The liaison system's end: records every POST (headers, body) and answers from `statuses`
    (200 once they run out), with a Retry-After header where one is queued."""

    def __init__(self):
        self.statuses: deque[tuple[int, str | None]] = deque()
        self.received: list[tuple[dict, bytes, int]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 — http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status, retry_after = receiver.statuses.popleft() if receiver.statuses else (200, None)
                    receiver.received.append((dict(self.headers), body, status))
                self.send_response(status)
                if retry_after:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/beatbook/feed"

    def answer(self, *statuses: int, retry_after: str | None = None) -> None:
        self.statuses.extend((status, retry_after) for status in statuses)

    def accepted(self) -> list[dict]:
        """The bodies it answered 2xx to, in order."""
        return [json.loads(body) for _, body, status in self.received if 200 <= status < 300]


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _subscribe(world, url: str):
    hook, secret = webhook.save_webhook(world.station, url, True, world.liaison, utcnow())
    commit()
    return hook.id, secret


def _cycle(webhook_id: int, now) -> int:
    """What the minute sweep and the job do, at `now`: number, batch, send what is due."""
    number_new_entries()
    db.session.commit()
    due = webhook.webhooks_due(now)
    db.session.commit()
    return webhook.send_due(webhook_id, now) if webhook_id in due else 0


def _deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _planted_lead(world, rng_seed: int):
    import random

    rng = random.Random(rng_seed)
    name, phone, id_number = random_name(rng), random_mobile(rng), random_id(rng)
    world.lead(summary=f"{name}与邻居争吵，电话{phone}，身份证{id_number}",
               parties=[PartyInput(role="party", name=name, phone=phone, id_number=id_number)])
    return [name, phone, id_number]


def test_a_failing_receiver_is_retried_with_backoff_and_the_log_shows_each_attempt(feed_world, receiver,
                                                                                   client):
    planted = [_planted_lead(feed_world, seed) for seed in range(3)]
    commit()
    webhook_id, secret = _subscribe(feed_world, receiver.url)
    receiver.answer(500, 500)
    start = utcnow()

    _cycle(webhook_id, start)
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_http_status) == ("retrying", 1, 500)
    assert timedelta(minutes=1) <= delivery.next_attempt_at - start <= timedelta(minutes=1.1)
    _cycle(webhook_id, start + timedelta(seconds=30))  # not due yet: nothing is sent
    assert len(receiver.received) == 1

    second = start + timedelta(seconds=70)
    _cycle(webhook_id, second)
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts) == ("retrying", 2)
    assert timedelta(minutes=2) <= delivery.next_attempt_at - second <= timedelta(minutes=2.2)
    _cycle(webhook_id, second + timedelta(seconds=100))
    assert len(receiver.received) == 2

    third = second + timedelta(minutes=3)
    _cycle(webhook_id, third)
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("delivered", 3, third)
    attempts = list(db.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.number)))
    assert [(a.number, a.http_status, a.delivered) for a in attempts] == [(1, 500, False), (2, 500, False),
                                                                          (3, 200, True)]

    # Each POST is signed with the secret, and carries the one delivery id (the receiver's dedupe key).
    for headers, body, _ in receiver.received:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Beatbook-Signature"] == expected
        assert headers["X-Beatbook-Delivery"] == str(delivery.id)
    assert [h["X-Beatbook-Attempt"] for h, _, _ in receiver.received] == ["1", "2", "3"]
    # The entries are exactly the feed's de-identified entries, and pass the feed's checker.
    [page] = receiver.accepted()
    assert page["entries"] == read_page(feed_world.station.id, 0, 500)["entries"]
    assert len(page["entries"]) == 3
    for entry, values in zip(page["entries"], planted, strict=True):
        assert_deidentified(entry["lead"], values)

    person = Browser(client)
    person.login("liaison")
    log = client.get("/feed/deliveries").get_data(as_text=True)
    assert re.search(r'(?s)data-attempt="1">(?:(?!</li>).)*HTTP 500', log)
    assert re.search(r'(?s)data-attempt="2">(?:(?!</li>).)*HTTP 500', log)
    assert re.search(r'(?s)data-attempt="3">(?:(?!</li>).)*HTTP 200', log)
    home = client.get("/home/liaison").get_data(as_text=True)
    assert f"{delivery.first_seq}–{delivery.last_seq}" in home and "已送达" in home


def test_retry_after_is_honoured_and_a_batch_gives_up_after_the_last_attempt(feed_world, receiver):
    feed_world.lead()
    commit()
    webhook_id, _ = _subscribe(feed_world, receiver.url)
    receiver.answer(503, retry_after="900")
    now = utcnow()
    _cycle(webhook_id, now)
    [delivery] = _deliveries()
    assert delivery.next_attempt_at - now >= timedelta(seconds=900)
    receiver.answer(*[500] * webhook.MAX_ATTEMPTS)
    for _ in range(webhook.MAX_ATTEMPTS - 1):
        now += timedelta(hours=7)
        _cycle(webhook_id, now)
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts) == ("gave_up", webhook.MAX_ATTEMPTS)
    _cycle(webhook_id, now + timedelta(days=1))  # gave up: nothing more is sent until a resend
    assert len(receiver.received) == webhook.MAX_ATTEMPTS


def test_batches_go_in_order_each_seq_exactly_once_even_with_entries_added_while_one_fails(feed_world,
                                                                                          receiver):
    for index in range(webhook.BATCH_SIZE + 20):
        feed_world.lead(summary=f"纠纷{index}")
    commit()
    webhook_id, _ = _subscribe(feed_world, receiver.url)
    receiver.answer(500)
    now = utcnow()
    _cycle(webhook_id, now)
    assert [d.entry_count for d in _deliveries()] == [webhook.BATCH_SIZE, 20]
    assert len(receiver.received) == 1  # the second batch does not overtake the failing first

    for index in range(7):  # entries made while the first batch waits for its retry
        feed_world.lead(summary=f"后来{index}")
    commit()
    _cycle(webhook_id, now + timedelta(seconds=20))
    assert [d.entry_count for d in _deliveries()] == [webhook.BATCH_SIZE, 20, 7]
    assert len(receiver.received) == 1

    _cycle(webhook_id, now + timedelta(minutes=5))
    assert [d.status for d in _deliveries()] == ["delivered"] * 3
    seqs = [entry["seq"] for page in receiver.accepted() for entry in page["entries"]]
    all_seqs = list(db.session.scalars(select(FeedEntry.seq).order_by(FeedEntry.seq)))
    assert seqs == all_seqs and len(all_seqs) == webhook.BATCH_SIZE + 27  # in order, none skipped or repeated
    _cycle(webhook_id, now + timedelta(minutes=10))
    assert len(_deliveries()) == 3 and len(receiver.received) == 4  # nothing new: nothing sent


def test_one_batch_is_claimed_by_one_worker(feed_world, receiver):
    feed_world.lead()
    commit()
    webhook_id, _ = _subscribe(feed_world, receiver.url)
    now = utcnow()
    number_new_entries()
    webhook.webhooks_due(now)
    commit()
    [delivery] = _deliveries()
    assert webhook.claim(delivery.id, now) is True
    assert webhook.claim(delivery.id, now) is False  # the second worker finds it taken
    assert webhook.send_next(webhook_id, now) is None and receiver.received == []
    # A worker that died holding it: the sweep gives the batch back after a while, as a failed attempt.
    assert webhook.release_lost_claims(now + webhook.CLAIM_LOST_AFTER / 2) == 0
    later = now + webhook.CLAIM_LOST_AFTER + timedelta(seconds=1)
    assert webhook.release_lost_claims(later) == 1
    commit()
    [delivery] = _deliveries()
    assert delivery.status == "retrying" and delivery.next_attempt_at > later
    attempt = db.session.scalar(select(DeliveryAttempt))
    assert (attempt.number, attempt.error, attempt.delivered) == (1, webhook.WORKER_LOST, False)


def test_a_disabled_or_removed_webhook_sends_nothing(feed_world, receiver, person):
    feed_world.lead()
    commit()
    webhook_id, _ = _subscribe(feed_world, receiver.url)
    receiver.answer(500)
    now = utcnow()
    _cycle(webhook_id, now)
    person.login("liaison")
    response = person.post("/feed/webhook", {"url": receiver.url}, from_page="/feed/webhook")  # unticked
    assert response.status_code == 303
    feed_world.lead(summary="停用之后")
    commit()
    _cycle(webhook_id, now + timedelta(hours=1))
    assert len(receiver.received) == 1
    assert webhook.send_next(webhook_id, now + timedelta(hours=1)) is None
    assert person.post("/feed/webhook/remove", from_page="/feed/webhook").status_code == 303
    assert db.session.scalar(select(FeedWebhook)) is not None  # an empty POST (no confirm) removes nothing
    removed = person.post("/feed/webhook/remove", {"confirm": "yes"}, from_page="/feed/webhook")
    assert removed.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(FeedWebhook)) is None and _deliveries() == []
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions[-2:] == ["feed_webhook_changed", "feed_webhook_removed"]


@pytest.fixture
def production(app, monkeypatch):
    """The app as production runs it: no http, no loopback receiver."""
    monkeypatch.setitem(app.config, "BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL", False)
    return app


BAD_URLS = [
    "http://example.com/feed",  # not https
    "https://10.1.2.3/feed",
    "https://127.0.0.1/feed",
    "https://[::1]/feed",
    "https://169.254.169.254/latest/meta-data",
    "https://192.168.0.10:8443/feed",
    "https://user:secret@93.184.216.34/feed",  # credentials in the URL
    "https://93.184.216.34/fe\x00ed",
    "https://93.184.216.34/" + "a" * 5000,
    "ftp://93.184.216.34/feed",
    "feed",
]


def test_bad_urls_are_refused_in_production(feed_world, production):
    for url in BAD_URLS:
        with pytest.raises(EndpointRefused):
            webhook.check_url(url)
    webhook.check_url("https://93.184.216.34:8443/beatbook")  # a public address on any port is fine


def test_the_form_refuses_bad_urls_with_a_message_and_shows_the_secret_once(feed_world, production, person):
    person.login("liaison")
    for url in [u for u in BAD_URLS if "\x00" not in u]:
        response = person.post("/feed/webhook", {"url": url, "enabled": "y"}, from_page="/feed/webhook")
        assert response.status_code == 422, url
        assert 'class="error"' in response.get_data(as_text=True)
    nul = person.post("/feed/webhook", {"url": BAD_URLS[7], "enabled": "y"}, from_page="/feed/webhook")
    assert nul.status_code == 400
    assert db.session.scalar(select(FeedWebhook)) is None

    made = person.post("/feed/webhook", {"url": "https://93.184.216.34/beatbook", "enabled": "y"},
                       from_page="/feed/webhook")
    assert made.status_code == 200
    stored = db.session.scalar(select(FeedWebhook))
    assert stored.secret in made.get_data(as_text=True) and stored.enabled
    assert stored.secret not in person.client.get("/feed/webhook").get_data(as_text=True)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "feed_webhook_created"))
    assert audit.object_id == stored.id and "93.184.216.34" in audit.detail


def _delivered_batch(world, receiver) -> int:
    world.lead()
    commit()
    webhook_id, _ = _subscribe(world, receiver.url)
    _cycle(webhook_id, utcnow())
    [delivery] = _deliveries()
    assert delivery.status == "delivered"
    return delivery.id


def test_resend_queues_the_batch_again_and_is_audited(feed_world, receiver, person):
    delivery_id = _delivered_batch(feed_world, receiver)
    person.login("chief")  # a supervisor of the station
    resend = f"/feed/deliveries/{delivery_id}/resend"
    assert person.post(resend, from_page="/feed/deliveries").status_code == 303
    assert _deliveries()[0].status == "delivered"  # an empty POST (no confirm) changes nothing
    response = person.post(resend, {"confirm": "yes"}, from_page="/feed/deliveries")
    assert response.status_code == 303
    delivery = _deliveries()[0]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "feed_webhook_resend"))
    assert audit.object_id == delivery_id and audit.actor_id == feed_world.supervisor.id
    _cycle(delivery.webhook_id, utcnow() + timedelta(seconds=1))
    first, again = receiver.accepted()
    assert again == first and _deliveries()[0].status == "delivered"


@pytest.mark.parametrize("username", ["vol", "officer"])
def test_resend_is_refused_to_a_volunteer_or_officer(feed_world, receiver, person, username):
    delivery_id = _delivered_batch(feed_world, receiver)
    person.login(username)
    token = person.token("/account")
    response = person.client.post(f"/feed/deliveries/{delivery_id}/resend",
                                  data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 403
    assert person.client.get("/feed/deliveries").status_code == 403
    assert _deliveries()[0].status == "delivered"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "feed_webhook_resend")) is None


def test_resend_of_another_stations_batch_is_404(feed_world, receiver, person):
    delivery_id = _delivered_batch(feed_world, receiver)
    make_user(make_station("另一个派出所"), Role.LIAISON, username="liaison2")
    commit()
    person.login("liaison2")
    response = person.post(f"/feed/deliveries/{delivery_id}/resend", {"confirm": "yes"},
                           from_page="/feed/deliveries")
    assert response.status_code == 404
    assert _deliveries()[0].status == "delivered"


def test_the_log_refuses_a_malformed_page(feed_world, person):
    person.login("liaison")
    for page in ("0", "x", "1\x00", "99999999999999999999", "-1"):
        assert person.client.get("/feed/deliveries", query_string={"page": page}).status_code == 400


def test_the_sweep_step_batches_and_the_job_sends(feed_world, receiver):
    """The worker's own entry points: the sweep step queues a job for a due webhook, the job sends."""
    from webapp.govfeed.tasks import deliver_webhook, sweep_webhooks

    feed_world.lead()
    commit()
    number_new_entries()
    commit()
    webhook_id, _ = _subscribe(feed_world, receiver.url)
    assert sweep_webhooks(timedelta(seconds=30)) == 1
    assert [d.status for d in _deliveries()] == ["pending"]
    assert deliver_webhook.call_local(webhook_id) == 1
    assert [d.status for d in _deliveries()] == ["delivered"] and len(receiver.accepted()) == 1
    assert sweep_webhooks(timedelta(seconds=30)) == 0  # nothing new, nothing due


def test_a_batch_removed_while_on_its_way_is_not_recorded(feed_world, receiver):
    """The liaison removes the webhook while a worker waits on the receiver: the worker's answer
    finds no row to record on, and says so instead of failing."""
    feed_world.lead()
    commit()
    webhook_id, _ = _subscribe(feed_world, receiver.url)
    number_new_entries()
    webhook.webhooks_due(utcnow())
    commit()
    original, engine = receiver.server.RequestHandlerClass.do_POST, db.engine

    def remove_then_answer(handler):
        with engine.begin() as connection:  # another request's transaction, while this POST waits
            connection.execute(DeliveryAttempt.__table__.delete())
            connection.execute(WebhookDelivery.__table__.delete())
            connection.execute(FeedWebhook.__table__.delete())
        original(handler)

    receiver.server.RequestHandlerClass.do_POST = remove_then_answer
    assert webhook.send_next(webhook_id, utcnow()) is None
    assert len(receiver.received) == 1 and _deliveries() == []


def test_a_new_secret_is_shown_once_and_audited(feed_world, receiver, person):
    _, first = _subscribe(feed_world, receiver.url)
    person.login("liaison")
    page = person.post("/feed/webhook/secret", {"confirm": "yes"}, from_page="/feed/webhook")
    db.session.expire_all()
    stored = db.session.scalar(select(FeedWebhook))
    assert stored.secret != first and stored.secret in page.get_data(as_text=True)
    assert stored.secret not in person.client.get("/feed/webhook").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "feed_webhook_secret_changed"))


def test_the_log_is_newest_first_and_paginated(feed_world, receiver, person):
    webhook_id, _ = _subscribe(feed_world, receiver.url)
    for seq in range(1, webhook.PAGE_SIZE + 2):
        db.session.add(WebhookDelivery(webhook_id=webhook_id, first_seq=seq * 1000, last_seq=seq * 1000 + 7,
                                       entry_count=8, status="delivered"))
    commit()
    person.login("liaison")
    first = person.client.get("/feed/deliveries").get_data(as_text=True)
    ranges = re.findall(r"(\d+)–\d+ \(8\)", first)
    assert len(ranges) == webhook.PAGE_SIZE and ranges[0] == str((webhook.PAGE_SIZE + 1) * 1000)
    assert "page=2" in first and "1000–1007" not in first
    second = person.client.get("/feed/deliveries?page=2").get_data(as_text=True)
    assert re.findall(r"(\d+)–\d+ \(8\)", second) == ["1000"] and "page=1" in second


def test_two_workers_at_once_send_a_batch_once(feed_world, receiver, app):
    feed_world.lead()
    commit()
    webhook_id, _ = _subscribe(feed_world, receiver.url)
    number_new_entries()
    webhook.webhooks_due(utcnow())
    commit()
    now, start = utcnow(), threading.Barrier(4)
    results: list = []

    def worker():
        with app.app_context():
            start.wait()
            results.append(webhook.send_next(webhook_id, now) is not None)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert len(receiver.received) == 1
    assert [(a.number, a.delivered) for a in db.session.scalars(select(DeliveryAttempt))] == [(1, True)]
