"""Issue 10, defect 7: push endpoints are checked, and a device is never moved to someone else.

The suite runs with BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL (tests/conftest.py: the local push service
is http on 127.0.0.1); these tests turn it off, as production runs. DNS is the one outside service:
where a test needs a push service's name to resolve, it stands in for the resolver
(`webapp.notify.endpoints.resolve_host`).
"""

from __future__ import annotations

import ipaddress
import re

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.notify.pushservice import (
    PushService,
    make_cast,
    register_assignment,
    register_device,
    run_queued_jobs,
    store_device,
)
from webapp.config import DEFAULT_PUSH_HOSTS
from webapp.extensions import db
from webapp.notify import endpoints
from webapp.notify.endpoints import (
    EndpointRefused,
    PushPolicy,
    UnsafeConnection,
    check_endpoint,
    guarded_session,
    is_public,
)
from webapp.notify.models import Notification, PushStatus, PushSubscription
from webapp.org.models import User

FCM = "https://fcm.googleapis.com/fcm/send/abc:def"
PUBLIC_FCM_ADDRESS = "142.250.1.95"


@pytest.fixture
def production(app, monkeypatch):
    """The app as production runs it: no http, no loopback push service."""
    monkeypatch.setitem(app.config, "BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL", False)
    monkeypatch.setitem(app.config, "BEATBOOK_PUSH_HOSTS", DEFAULT_PUSH_HOSTS)
    return app


@pytest.fixture
def dns(monkeypatch):
    """A stand-in resolver: name → addresses (a name not listed does not resolve)."""
    table: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"no such name: {host}")
        return table[host]

    monkeypatch.setattr(endpoints, "resolve_host", resolve)
    return table


@pytest.fixture
def push_service(app):
    with PushService(application_server_key=app.extensions["beatbook_vapid"].public_key) as service:
        yield service


@pytest.fixture
def cast(app_ctx, queue):
    return make_cast("EP-PS")


def signed_in(app, user_id: int) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(db.session.get(User, user_id).username).status_code == 303
    return browser


def csrf_header(client) -> dict:
    page = client.get("/inbox/devices").get_data(as_text=True)
    return {"X-CSRFToken": re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)}


def devices_of(user_id: int) -> list[PushSubscription]:
    db.session.expire_all()
    return list(db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id)
                                   .order_by(PushSubscription.id)))


def all_devices() -> list[PushSubscription]:
    db.session.expire_all()
    return list(db.session.scalars(select(PushSubscription)))


# --- the rule itself --------------------------------------------------------------------------------


NOT_PUBLIC = [
    "127.0.0.1", "127.8.9.10", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1",
    "169.254.169.254", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1",
    "2002:7f00:1::1", "2002:a00:1::1",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_addresses_inside_or_reserved_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["142.250.1.95", "2a00:1450:4001::200e", "::ffff:142.250.1.95"])
def test_public_addresses_are(address):
    assert is_public(ipaddress.ip_address(address))


def test_the_default_allow_list_names_the_browsers_push_services():
    policy = PushPolicy.from_config({})
    for host in ("fcm.googleapis.com", "updates.push.services.mozilla.com", "wns2-by3p.notify.windows.com",
                 "web.push.apple.com", "api.push.apple.com"):
        assert policy.host_allowed(host), host
    for host in ("notify.windows.com", "evil.fcm.googleapis.com.example", "fcm.googleapis.com.evil",
                 "xfcm.googleapis.com", "localhost", "127.0.0.1", "redis"):
        assert not policy.host_allowed(host), host


@pytest.mark.parametrize(("endpoint", "reason"), [
    ("http://127.0.0.1:6379/push/x", endpoints.NOT_HTTPS),
    ("http://fcm.googleapis.com/fcm/send/x", endpoints.NOT_HTTPS),
    ("https://127.0.0.1/push/x", endpoints.HOST_NOT_ALLOWED),
    ("https://[::ffff:127.0.0.1]/push/x", endpoints.HOST_NOT_ALLOWED),
    ("https://redis.internal/push/x", endpoints.HOST_NOT_ALLOWED),
    ("https://fcm.googleapis.com:6379/fcm/send/x", endpoints.PORT_NOT_ALLOWED),
    ("https://user@fcm.googleapis.com/fcm/send/x", endpoints.NOT_A_URL),
    ("https://fcm.googleapis.com:99999/x", endpoints.NOT_A_URL),
    ("gopher://fcm.googleapis.com/x", endpoints.NOT_A_URL),
    ("https:///x", endpoints.NOT_A_URL),
    ("", endpoints.NOT_A_URL),
])
def test_endpoints_refused_before_any_lookup(endpoint, reason):
    with pytest.raises(EndpointRefused) as refused:
        check_endpoint(endpoint, PushPolicy.from_config({}), resolver=pytest.fail)
    assert refused.value.reason == reason


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_an_allowed_name_that_resolves_inside_is_refused(address):
    with pytest.raises(EndpointRefused) as refused:
        check_endpoint(FCM, PushPolicy.from_config({}),
                       resolver=lambda host, port: [PUBLIC_FCM_ADDRESS, address])
    assert refused.value.reason == endpoints.NOT_PUBLIC


def test_the_test_only_setting_allows_loopback_and_nothing_else():
    local = PushPolicy.from_config({"BEATBOOK_PUSH_ALLOW_INSECURE_LOCAL": True})
    check_endpoint("http://127.0.0.1:8123/push/x", local)
    check_endpoint("http://[::1]:8123/push/x", local, resolver=lambda host, port: ["::1"])
    inside = (("http://10.0.0.1:6379/x", "10.0.0.1"), ("http://192.168.1.1/x", "192.168.1.1"))
    for endpoint, address in inside:
        with pytest.raises(EndpointRefused):
            check_endpoint(endpoint, local, resolver=lambda host, port, a=address: [a])
    with pytest.raises(EndpointRefused) as refused:  # a push service's name resolving inside
        check_endpoint(FCM, local, resolver=lambda host, port: ["10.0.0.1"])
    assert refused.value.reason == endpoints.NOT_PUBLIC
    # Names reserved for testing (RFC 6761) exist on no real network: accepted without a lookup.
    check_endpoint("https://push.example/send/x", local, resolver=pytest.fail)
    with pytest.raises(EndpointRefused):
        check_endpoint("https://push.example/send/x", PushPolicy.from_config({}), resolver=pytest.fail)
    assert PushPolicy.from_config({}).allow_insecure_local is False  # production default refuses


# --- at subscription time ---------------------------------------------------------------------------


def test_subscribing_an_internal_service_as_a_push_service_is_refused(production, cast, push_service, dns):
    """The defect: any signed-in person could register http://127.0.0.1:6379/… for the worker to
    call from inside the network."""
    officer = signed_in(production, cast.officer_en)
    headers = csrf_header(officer.client)
    good = push_service.subscribe("ssrf").as_json()
    dns["fcm.googleapis.com"] = ["10.20.30.40"]  # a push service's name pointing inside
    dns["updates.push.services.mozilla.com"] = ["::ffff:169.254.169.254"]
    for endpoint in ("http://127.0.0.1:6379/", good["endpoint"], "https://127.0.0.1/push/x",
                     "https://169.254.169.254/latest/meta-data/", "https://[::1]/push/x",
                     "https://intranet.local/push/x", FCM,
                     "https://updates.push.services.mozilla.com/wpush/v2/x",
                     "https://web.push.apple.com/unresolvable"):
        response = officer.client.post("/inbox/devices", json={**good, "endpoint": endpoint}, headers=headers)
        assert response.status_code == 422, endpoint
        body = response.get_json()
        assert body["error"] != "" and body["message"], endpoint
    assert all_devices() == []


def test_a_real_push_service_at_a_public_address_is_accepted(production, cast, push_service, dns):
    officer = signed_in(production, cast.officer_en)
    dns["fcm.googleapis.com"] = [PUBLIC_FCM_ADDRESS, "2a00:1450:4001::200e"]
    subscription = {**push_service.subscribe("fcm").as_json(), "endpoint": FCM}
    response = officer.client.post("/inbox/devices", json=subscription, headers=csrf_header(officer.client))
    assert response.status_code == 201
    assert [d.endpoint for d in devices_of(cast.officer_en)] == [FCM]


@pytest.mark.parametrize("body", [[1, 2], "endpoint", 7, {"endpoint": ["x"], "keys": []},
                                  {"endpoint": {"a": 1}, "keys": "p256dh"}])
def test_subscription_bodies_of_the_wrong_shape_get_a_clear_422(app, cast, body):
    officer = signed_in(app, cast.officer_en)
    response = officer.client.post("/inbox/devices", json=body, headers=csrf_header(officer.client))
    assert response.status_code == 422
    assert response.get_json()["error"] == "bad_subscription" and response.get_json()["message"]
    assert all_devices() == []


# --- never re-own someone else's device -------------------------------------------------------------


def test_posting_someone_elses_endpoint_does_not_move_their_device(app, cast, push_service):
    """The defect: another person could take over a device (and its alerts) by posting its endpoint."""
    phone = push_service.subscribe("officer-en-phone")
    assert register_device(signed_in(app, cast.officer_en).client, phone).status_code == 201
    [device] = devices_of(cast.officer_en)

    thief = signed_in(app, cast.officer_zh)
    response = thief.client.post("/inbox/devices", json=phone.as_json(), headers=csrf_header(thief.client))
    assert response.status_code == 409
    # In the person's language (officer_zh reads Chinese): "belongs to someone else".
    body = response.get_json()
    assert body["error"] == "device_taken" and "属于另一位用户" in body["message"]
    # Even with other keys (a would-be takeover replacing the encryption keys): nothing changes.
    other = push_service.subscribe("other-keys").as_json()
    response = thief.client.post("/inbox/devices", json={**other, "endpoint": phone.endpoint},
                                 headers=csrf_header(thief.client))
    assert response.status_code == 409
    [still] = devices_of(cast.officer_en)
    assert (still.id, still.p256dh, still.auth) == (device.id, phone.p256dh, phone.auth)
    assert devices_of(cast.officer_zh) == []


def test_signing_out_frees_this_phone_for_the_next_person(app, cast, push_service):
    """A phone handed over after a shift: signing out drops its subscription (only its own), so the
    next person on it can turn alerts on for themselves."""
    shared, other = push_service.subscribe("shared-phone"), push_service.subscribe("own-phone")
    first = signed_in(app, cast.officer_en)
    assert register_device(first.client, shared).status_code == 201
    assert register_device(signed_in(app, cast.officer_en).client, other).status_code == 201
    assert len(devices_of(cast.officer_en)) == 2

    assert first.logout().status_code == 303
    # Only this phone's subscription went: the person's other phone keeps its alerts.
    assert [d.endpoint for d in devices_of(cast.officer_en)] == [other.endpoint]

    assert first.login(db.session.get(User, cast.officer_zh).username).status_code == 303
    assert register_device(first.client, shared).status_code == 201
    assert [d.endpoint for d in devices_of(cast.officer_zh)] == [shared.endpoint]
    assert [d.endpoint for d in devices_of(cast.officer_en)] == [other.endpoint]

    # The next person's sign-out frees it again, and leaves the first person's other phone alone.
    assert first.logout().status_code == 303
    assert devices_of(cast.officer_zh) == [] and len(devices_of(cast.officer_en)) == 1


# --- at delivery time -------------------------------------------------------------------------------


def notification_of(user_id: int) -> Notification:
    db.session.expire_all()
    return db.session.scalar(select(Notification).where(Notification.user_id == user_id))


def test_a_stored_internal_endpoint_gets_no_request_and_is_dropped(production, cast, push_service):
    """A row from before the check (or an allow-list since narrowed): the worker sends nothing there."""
    store_device(cast.officer_en, push_service.subscribe("inside"))
    db.session.commit()
    register_assignment(production, cast.volunteer, cast.community_en)

    assert run_queued_jobs() == [PushStatus.NO_DEVICE.value]
    assert push_service.requests() == []
    assert devices_of(cast.officer_en) == []


def test_a_push_service_name_that_now_resolves_inside_gets_no_request(production, cast, push_service, dns):
    """DNS changed after the subscription: checked again before every push; retried later, not dropped."""
    dns["fcm.googleapis.com"] = ["127.0.0.1"]
    device = store_device(cast.officer_en, push_service.subscribe("rebound"))
    device.endpoint = FCM
    db.session.commit()
    register_assignment(production, cast.volunteer, cast.community_en)

    assert run_queued_jobs() == [PushStatus.PENDING.value]  # to be tried again later
    assert push_service.requests() == []
    assert notification_of(cast.officer_en).push_status == PushStatus.PENDING
    assert len(devices_of(cast.officer_en)) == 1


def test_the_connection_itself_is_checked(push_service):
    """The last line: whatever the name resolved to when checked, the socket the push goes out on
    must reach an allowed address (a name re-resolved between check and connect, a redirect)."""
    endpoint = push_service.subscribe("socket").endpoint
    with guarded_session(PushPolicy(hosts=("fcm.googleapis.com",))) as session, \
            pytest.raises(UnsafeConnection):
        session.post(endpoint, data=b"x", timeout=5)
    assert push_service.requests() == []
    with guarded_session(PushPolicy(hosts=(), allow_insecure_local=True)) as session:
        assert session.post(endpoint, data=b"x", timeout=5).status_code != 0
    assert len(push_service.requests()) == 1
