"""Web Push end to end on loopback: the app's job encrypts and signs, a local push service verifies
the VAPID JWT, decrypts the payload and answers like a real one (201, 404/410, 429/5xx).

The job runs as the worker runs it: taken from the queue this process enqueued into after the
commit, and executed (`run_queued_jobs`). Devices are registered through POST /inbox/devices, the
way the settings page's script does, except where a test is about something else.
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from pywebpush import WebPushException, webpush
from sqlalchemy import select, update

from tests.conftest import Browser
from tests.notify.pushservice import (
    ADDRESS,
    PARTY_ID,
    PARTY_NAME,
    PARTY_PHONE,
    SUMMARY,
    PushService,
    make_cast,
    queued_jobs,
    register_assignment,
    register_device,
    run_queued_jobs,
    store_device,
)
from webapp.extensions import db
from webapp.jobs import STALE_AFTER, run_sweep
from webapp.leads.alerts import Kind
from webapp.leads.codes import Risk
from webapp.notify.models import Notification, PushStatus, PushSubscription
from webapp.notify.push import DEFAULT_RETRY, MAX_ATTEMPTS, TTL_SECONDS
from webapp.notify.tasks import push_notification
from webapp.org.models import User
from webapp.timeutil import utcnow


@pytest.fixture
def push_service(app):
    with PushService(application_server_key=app.extensions["beatbook_vapid"].public_key) as service:
        yield service


@pytest.fixture
def cast(app_ctx, queue):
    return make_cast()


def signed_in(app, user_id: int) -> Browser:
    browser = Browser(app.test_client())
    username = db.session.get(User, user_id).username
    assert browser.login(username).status_code == 303
    return browser


def notifications(user_id: int, kind: Kind | None = None) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind.value)
    return list(db.session.scalars(query))


def devices_of(user_id: int) -> list[PushSubscription]:
    db.session.expire_all()
    return list(db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id)
                                   .order_by(PushSubscription.id)))


# --- the happy path -------------------------------------------------------------------------------


def test_an_assignment_reaches_the_officer_once_with_a_link_and_no_personal_data(app, cast, push_service):
    officer = signed_in(app, cast.officer_en)
    phone = push_service.subscribe("officer-phone")
    response = register_device(officer.client, phone)
    assert response.status_code == 201
    assert devices_of(cast.officer_en)[0].id == response.get_json()["id"]

    assert queued_jobs() == []
    lead_id = register_assignment(app, cast.volunteer, cast.community_en)
    [note] = notifications(cast.officer_en)
    assert (note.kind, note.subject_id, note.push_status) == (
        Kind.ASSIGNED.value, lead_id, PushStatus.PENDING)
    # Enqueued by the commit: one job, for this notification (nobody else was told).
    assert queued_jobs() == [("push_notification", (note.id,))]
    before = time.time()

    assert run_queued_jobs() == [PushStatus.SENT.value]

    [push] = push_service.requests()
    assert push.delivered and push.status == 201 and push.error == ""
    assert push.payload == {"title": "New assignment", "body": f"Lead #{lead_id} — open Beatbook to see it.",
                            "url": f"/leads/{lead_id}", "tag": f"lead-{lead_id}", "id": note.id}
    # Nothing personal: no party, phone, ID number, summary, address or reporter.
    sent = json.dumps(push.payload, ensure_ascii=False)
    reporter = db.session.get(User, cast.volunteer)
    officer_name = db.session.get(User, cast.officer_en).display_name
    for secret in (PARTY_NAME, PARTY_PHONE, PARTY_ID, SUMMARY, ADDRESS, "幸福路", reporter.display_name,
                   officer_name):
        assert secret not in sent
    # Signed: the header is there and the service verified it (a missing one is refused with 401).
    assert push.headers["authorization"].startswith("vapid t=")
    keys = app.extensions["beatbook_vapid"]
    assert push.vapid_key == keys.public_key
    assert push.claims["aud"] == push_service.origin and push.claims["sub"] == keys.subject
    assert before < push.claims["exp"] <= before + 24 * 3600
    # Always a TTL: a phone that is off tonight still gets it in the morning.
    assert int(push.headers["ttl"]) == TTL_SECONDS > 0

    note = notifications(cast.officer_en)[0]
    assert note.push_status == PushStatus.SENT and note.push_attempts == 1 and note.pushed_at is not None
    assert devices_of(cast.officer_en)[0].last_success_at is not None

    # The job is idempotent: running it again (a duplicate, a retry) pushes nothing more.
    assert push_notification.call_local(note.id) == "skipped"
    assert run_sweep(STALE_AFTER)["requeued"] == 0
    assert len(push_service.requests()) == 1


def test_a_person_with_two_phones_gets_the_push_on_both(app, cast, push_service):
    phones = [push_service.subscribe("phone-a"), push_service.subscribe("phone-b")]
    for phone in phones:  # two phones = two signed-in browsers of the same person
        assert register_device(signed_in(app, cast.officer_en).client, phone).status_code == 201
    assert len(devices_of(cast.officer_en)) == 2

    lead_id = register_assignment(app, cast.volunteer, cast.community_en)
    assert run_queued_jobs() == [PushStatus.SENT.value]

    assert sorted(p.name for p in push_service.deliveries()) == ["phone-a", "phone-b"]
    a, b = push_service.deliveries("phone-a"), push_service.deliveries("phone-b")
    assert len(a) == len(b) == 1
    assert a[0].payload == b[0].payload and a[0].payload["url"] == f"/leads/{lead_id}"
    assert all(d.last_success_at is not None for d in devices_of(cast.officer_en))


def test_subscribe_rejects_bad_input_and_needs_sign_in_and_csrf(app, cast, push_service):
    officer = signed_in(app, cast.officer_en)
    phone = push_service.subscribe("bad-input")
    page = officer.client.get("/inbox/devices").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    headers = {"X-CSRFToken": token}
    good = phone.as_json()
    bad = [
        {},
        {**good, "endpoint": "ftp://127.0.0.1/push/x"},
        {**good, "endpoint": "javascript:alert(1)"},
        {**good, "endpoint": "https://push.example/" + "x" * 2000},
        {"endpoint": good["endpoint"]},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"]}},
        {**good, "keys": {"auth": good["keys"]["auth"]}},
        {**good, "keys": {"p256dh": "x" * 201, "auth": good["keys"]["auth"]}},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "x" * 65}},
    ]
    for body in bad:
        response = officer.client.post("/inbox/devices", json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.get_json()["error"] == "bad_subscription" and response.get_json()["message"]
    assert officer.client.post("/inbox/devices", data="not json", headers=headers,
                               content_type="application/json").status_code == 422
    # Without the CSRF header: refused, nothing stored.
    assert officer.client.post("/inbox/devices", json=good).status_code == 400
    # Signed out: refused, nothing stored.
    assert app.test_client().post("/inbox/devices", json=good, headers=headers).status_code in (302, 400, 401)
    assert devices_of(cast.officer_en) == []

    # The same subscription sent twice is one device.
    assert officer.client.post("/inbox/devices", json=good, headers=headers).status_code == 201
    assert officer.client.post("/inbox/devices", json=good, headers=headers).status_code == 201
    assert len(devices_of(cast.officer_en)) == 1


def test_subscribe_refuses_keys_that_are_not_a_p256_key_and_an_auth_secret(app, cast, push_service):
    officer = signed_in(app, cast.officer_en)
    good = push_service.subscribe("not-a-key").as_json()
    for keys in ({"p256dh": "BAAAA", "auth": good["keys"]["auth"]},  # not 65 bytes
                 {"p256dh": "B" + "A" * 86, "auth": good["keys"]["auth"]},  # 65 bytes, not on the curve
                 {"p256dh": good["keys"]["p256dh"], "auth": "AAAA"}):  # a 3-byte auth secret
        page = officer.client.get("/inbox/devices").get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        response = officer.client.post("/inbox/devices", json={**good, "keys": keys},
                                       headers={"X-CSRFToken": token})
        assert response.status_code == 422, keys
    assert devices_of(cast.officer_en) == []


def test_a_broken_subscription_does_not_stop_or_repeat_the_push_to_a_good_phone(app, cast, push_service):
    good = push_service.subscribe("good-phone")
    store_device(cast.officer_en, good)
    broken = push_service.subscribe("broken-phone")
    device = store_device(cast.officer_en, broken)
    device.p256dh = "B" + "A" * 86  # 65 bytes, not a point on P-256
    db.session.commit()

    register_assignment(app, cast.volunteer, cast.community_en)
    run_queued_jobs()
    [note] = notifications(cast.officer_en)
    assert note.push_status == PushStatus.SENT
    assert len(push_service.deliveries("good-phone")) == 1
    # Later sweeps (after the claim-lost time) send nothing more.
    db.session.execute(update(Notification).values(push_claimed_at=utcnow() - timedelta(minutes=5),
                                                   created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    run_sweep(STALE_AFTER)
    run_queued_jobs()
    assert len(push_service.deliveries("good-phone")) == 1


# --- what push services answer --------------------------------------------------------------------


@pytest.mark.parametrize("gone", [410, 404])
def test_a_gone_subscription_is_deleted_and_the_inbox_keeps_the_notification(app, cast, push_service, gone):
    officer = signed_in(app, cast.officer_en)
    phone = push_service.subscribe("uninstalled")
    assert register_device(officer.client, phone).status_code == 201
    push_service.answer("uninstalled", gone)

    register_assignment(app, cast.volunteer, cast.community_en)
    assert run_queued_jobs() == [PushStatus.NO_DEVICE.value]

    assert [p.status for p in push_service.requests()] == [gone] and push_service.deliveries() == []
    assert devices_of(cast.officer_en) == []
    [note] = notifications(cast.officer_en)
    assert note.push_status == PushStatus.NO_DEVICE and note.pushed_at is None
    assert f"#{note.subject_id}" in officer.client.get("/inbox/").get_data(as_text=True)

    # The next assignment does not try the gone device again.
    register_assignment(app, cast.volunteer, cast.community_en)
    assert run_queued_jobs() == [PushStatus.NO_DEVICE.value]
    assert len(push_service.requests()) == 1


def test_a_gone_phone_is_dropped_while_the_other_phone_gets_the_push(app, cast, push_service):
    kept, gone = push_service.subscribe("kept"), push_service.subscribe("gone")
    for phone in (kept, gone):
        assert register_device(signed_in(app, cast.officer_en).client, phone).status_code == 201
    push_service.answer("gone", 410)

    register_assignment(app, cast.volunteer, cast.community_en)
    assert run_queued_jobs() == [PushStatus.SENT.value]

    assert len(push_service.deliveries("kept")) == 1 and push_service.deliveries("gone") == []
    assert [d.endpoint for d in devices_of(cast.officer_en)] == [kept.endpoint]


@pytest.mark.parametrize(("answer", "wait"), [
    ((429, {"Retry-After": "1"}), timedelta(seconds=1)),
    ((503, {"Retry-After": "120"}), timedelta(seconds=120)),
    (500, DEFAULT_RETRY),  # no Retry-After: the default
], ids=["429-retry-after-1s", "503-retry-after-120s", "500-no-retry-after"])
def test_a_busy_push_service_is_retried_after_retry_after_and_delivers_once(app, cast, push_service,
                                                                            answer, wait):
    store_device(cast.officer_en, push_service.subscribe("busy"))
    db.session.commit()
    push_service.answer("busy", answer)

    register_assignment(app, cast.volunteer, cast.community_en)
    started = utcnow()
    assert run_queued_jobs() == [PushStatus.PENDING.value]

    [note] = notifications(cast.officer_en)
    assert note.push_status == PushStatus.PENDING and note.push_attempts == 1
    assert started + wait - timedelta(seconds=1) <= note.push_next_at <= utcnow() + wait
    assert push_service.deliveries() == []
    db.session.execute(update(Notification).where(Notification.id == note.id)
                       .values(created_at=utcnow() - 2 * STALE_AFTER))
    db.session.commit()
    if note.push_next_at > utcnow() + timedelta(milliseconds=300):  # a busy machine may be past 1 s
        # Not due yet: neither a duplicate job nor the sweep sends it early.
        assert push_notification.call_local(note.id) == "skipped"
        assert run_sweep(STALE_AFTER)["requeued"] == 0
        assert len(push_service.requests()) == 1

    # The wait is over (the test moves the row's clock rather than sleeping).
    db.session.execute(update(Notification).where(Notification.id == note.id)
                       .values(push_next_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert run_sweep(STALE_AFTER)["requeued"] == 1
    assert run_queued_jobs() == [PushStatus.SENT.value]

    assert [p.status for p in push_service.requests()] == [answer[0] if isinstance(answer, tuple) else answer,
                                                            201]
    assert len(push_service.deliveries()) == 1
    note = notifications(cast.officer_en)[0]
    assert note.push_status == PushStatus.SENT and note.push_attempts == 2
    # Sent is final: later sweeps and duplicate jobs send nothing.
    assert run_sweep(STALE_AFTER)["requeued"] == 0 and push_notification.call_local(note.id) == "skipped"
    assert len(push_service.requests()) == 2


def test_an_unreachable_push_service_is_retried_later(app, cast, push_service):
    phone = push_service.subscribe("unreachable")
    store_device(cast.officer_en, phone)
    db.session.commit()
    push_service.stop()  # the port now refuses connections

    register_assignment(app, cast.volunteer, cast.community_en)
    started = utcnow()
    assert run_queued_jobs() == [PushStatus.PENDING.value]
    [note] = notifications(cast.officer_en)
    assert note.push_next_at >= started + DEFAULT_RETRY - timedelta(seconds=1)
    assert len(devices_of(cast.officer_en)) == 1  # a refused connection is not a gone device


def test_a_push_that_keeps_failing_gives_up_after_the_last_attempt(app, cast, push_service):
    store_device(cast.officer_en, push_service.subscribe("broken-service"))
    db.session.commit()
    register_assignment(app, cast.volunteer, cast.community_en)
    [note] = notifications(cast.officer_en)
    db.session.execute(update(Notification).where(Notification.id == note.id)
                       .values(push_attempts=MAX_ATTEMPTS - 1))
    db.session.commit()
    push_service.answer("broken-service", 500)

    assert run_queued_jobs() == [PushStatus.FAILED.value]
    note = notifications(cast.officer_en)[0]
    assert note.push_status == PushStatus.FAILED and note.push_attempts == MAX_ATTEMPTS
    db.session.execute(update(Notification).values(created_at=utcnow() - timedelta(hours=1),
                                                   push_next_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert run_sweep(STALE_AFTER)["requeued"] == 0
    # Still in the inbox.
    officer = signed_in(app, cast.officer_en)
    assert f"#{note.subject_id}" in officer.client.get("/inbox/").get_data(as_text=True)


# --- unsubscribe, inbox, language -----------------------------------------------------------------


def test_unsubscribe_removes_only_my_device_and_stops_its_pushes(app, cast, push_service):
    officer = signed_in(app, cast.officer_en)
    mine, other = push_service.subscribe("mine"), push_service.subscribe("someone-elses")
    assert register_device(officer.client, mine).status_code == 201
    colleague = signed_in(app, cast.officer_zh)
    other_id = register_device(colleague.client, other).get_json()["id"]
    [device] = devices_of(cast.officer_en)

    page = officer.client.get("/inbox/devices").get_data(as_text=True)
    assert f"/inbox/devices/{device.id}/delete" in page and "Pixel 7 test phone" in page
    assert f"/inbox/devices/{other_id}/delete" not in page
    # Someone else's device: not found, and still there.
    assert officer.post(f"/inbox/devices/{other_id}/delete", from_page="/account").status_code == 404
    assert len(devices_of(cast.officer_zh)) == 1
    # Without a CSRF token: refused.
    assert officer.client.post(f"/inbox/devices/{device.id}/delete").status_code == 400
    response = officer.post(f"/inbox/devices/{device.id}/delete", from_page="/account")
    assert response.status_code == 303 and response.headers["Location"].endswith("/inbox/devices")
    assert devices_of(cast.officer_en) == []

    register_assignment(app, cast.volunteer, cast.community_en)
    register_assignment(app, cast.volunteer, cast.community_zh)
    assert sorted(run_queued_jobs()) == [PushStatus.NO_DEVICE.value, PushStatus.SENT.value]
    assert push_service.requests("mine") == [] and len(push_service.deliveries("someone-elses")) == 1


def test_the_inbox_has_every_notification_even_without_any_device(app, cast):
    first = register_assignment(app, cast.volunteer, cast.community_en)
    second = register_assignment(app, cast.volunteer, cast.community_en)
    assert run_queued_jobs() == [PushStatus.NO_DEVICE.value] * 2

    officer = signed_in(app, cast.officer_en)
    home = officer.client.get("/inbox/").get_data(as_text=True)
    assert re.search(r'id="unread-badge">\s*2\s*<', home)
    inbox = home[home.index('id="inbox"'):]
    assert inbox.count("New assignment") == 2 and f"#{first}" in inbox and f"#{second}" in inbox
    assert inbox.index(f"#{second}") < inbox.index(f"#{first}")  # newest first
    # The htmx fragment lists them too.
    fragment = officer.client.get("/inbox/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f"#{first}" in fragment

    # Opening one marks it read and goes to the lead; the badge counts one.
    [note_first] = [n for n in notifications(cast.officer_en) if n.subject_id == first]
    response = officer.post(f"/inbox/{note_first.id}/open", from_page="/account")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/leads/{first}")
    assert notifications(cast.officer_en)[0].read_at is not None
    assert re.search(r'id="unread-badge">\s*1\s*<', officer.client.get("/inbox/").get_data(as_text=True))
    # Another person's notification cannot be opened (or marked read) by me.
    supervisor = signed_in(app, cast.supervisors[0])
    assert supervisor.post(f"/inbox/{note_first.id}/open", from_page="/account").status_code == 404
    assert "unread-badge" not in supervisor.client.get("/inbox/").get_data(as_text=True)


def test_the_push_is_in_the_language_of_the_person_who_gets_it(app, cast, push_service):
    store_device(cast.officer_en, push_service.subscribe("english"))
    store_device(cast.officer_zh, push_service.subscribe("chinese"))
    db.session.commit()
    lead_en = register_assignment(app, cast.volunteer, cast.community_en)
    lead_zh = register_assignment(app, cast.volunteer, cast.community_zh)
    run_queued_jobs()

    [english] = push_service.deliveries("english")
    [chinese] = push_service.deliveries("chinese")
    assert english.payload["title"] == "New assignment"
    assert english.payload["body"] == f"Lead #{lead_en} — open Beatbook to see it."
    assert chinese.payload["title"] == "新派单"
    assert chinese.payload["body"] == f"线索 #{lead_zh} — 请打开枫桥警务通查看。"
    assert chinese.payload["url"] == f"/leads/{lead_zh}"


def test_a_red_lead_tells_the_supervisors_in_their_language(app, cast, push_service):
    first, second = cast.supervisors
    db.session.get(User, second).locale = "en"
    store_device(first, push_service.subscribe("sup-zh"))
    store_device(second, push_service.subscribe("sup-en"))
    db.session.commit()
    lead_id = register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.RED)
    run_queued_jobs()
    assert [p.payload["title"] for p in push_service.deliveries("sup-en")] == ["Red lead in your area"]
    [zh] = push_service.deliveries("sup-zh")
    assert zh.payload["url"] == f"/leads/{lead_id}" and zh.payload["title"] != "Red lead in your area"


def test_a_disabled_supervisor_is_not_told_of_a_red_lead(app, cast):
    db.session.get(User, cast.supervisors[1]).is_enabled = False
    db.session.commit()
    register_assignment(app, cast.volunteer, cast.community_en, risk=Risk.RED)
    assert [n.user_id for n in notifications(cast.supervisors[0], Kind.RED_LEAD)] == [cast.supervisors[0]]
    assert notifications(cast.supervisors[1]) == []


def test_a_disabled_person_gets_no_push_on_their_phone(app, cast, push_service):
    store_device(cast.officer_en, push_service.subscribe("disabled-officer"))
    db.session.commit()
    register_assignment(app, cast.volunteer, cast.community_en)
    db.session.get(User, cast.officer_en).is_enabled = False  # disabled before the job ran
    db.session.commit()
    run_queued_jobs()
    assert push_service.requests() == []
    assert notifications(cast.officer_en)[0].push_status == PushStatus.NO_DEVICE


# --- the local push service itself: it must refuse what a real one refuses -----------------------


def test_the_push_service_refuses_unsigned_foreign_and_misaddressed_pushes(app, push_service):
    from py_vapid import Vapid

    subscription = push_service.subscribe("strict")
    info = subscription.as_json()
    own = app.extensions["beatbook_vapid"].private_key
    foreign = Vapid()
    foreign.generate_keys()
    attempts = [
        ({}, 401),  # empty claims: pywebpush silently sends no Authorization header
        ({"vapid_private_key": foreign, "vapid_claims": {"sub": "mailto:a@example.com"}}, 403),
        ({"vapid_private_key": own, "vapid_claims": {"sub": "mailto:a@example.com",
                                                     "aud": "https://push.example"}}, 401),
        ({"vapid_private_key": own, "vapid_claims": {"sub": "mailto:a@example.com",
                                                     "exp": int(time.time()) + 48 * 3600}}, 401),
    ]
    for options, status in attempts:
        with pytest.raises(WebPushException) as refused:
            webpush(info, data='{"title": "x"}', ttl=60, timeout=5, **options)
        assert refused.value.response.status_code == status, push_service.requests()[-1].error
    response = webpush(info, data='{"title": "ok"}', ttl=60, timeout=5, vapid_private_key=own,
                       vapid_claims={"sub": "mailto:a@example.com"})
    assert response.status_code == 201
    assert [r.payload for r in push_service.deliveries()] == [{"title": "ok"}]
