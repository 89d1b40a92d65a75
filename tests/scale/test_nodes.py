"""Several nodes (issue 15): two gunicorn nodes, one PostgreSQL, one Redis, one job worker.

What must hold when a load balancer spreads phones over nodes and a node dies: a session made on one
node is good on the other; an outbox batch cut off by a killed node is retried elsewhere and every
item is stored exactly once; sign-in throttling counts guesses on both nodes together; and many
phones at once get an answer per item and never a 5xx. Checked from the database, not from answers.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import worker_config
from tests.notify.pushservice import PushService
from tests.scale.cluster import Cluster, Node, Phone, report, seal, small_jpeg

BATCH = 50  # the outbox's largest batch (webapp/sync/services.py: MAX_ITEMS)
WAIT = 30.0  # bounded waits on another process


def volunteers(cluster: Cluster) -> list[tuple[str, int]]:
    """(username, community id) of the demo station's enabled volunteers."""
    return [tuple(row) for row in cluster.rows(
        "SELECT u.username, u.community_id FROM \"user\" u JOIN user_role r ON r.user_id = u.id "
        "WHERE r.role = 'volunteer' AND u.is_enabled AND u.community_id IS NOT NULL ORDER BY u.username")]


def stored_per_uuid(cluster: Cluster, uuids: list[str]) -> Counter:
    """How many leads the database holds under each of these phone-made ids."""
    rows = cluster.rows("SELECT uuid, count(*) FROM lead WHERE uuid = ANY(:uuids) GROUP BY uuid", uuids=uuids)
    return Counter({uuid: count for uuid, count in rows})


def signed_in_phone(node: Node, username: str) -> Phone:
    phone = Phone()
    response = phone.sign_in(node, username)
    assert response.status_code == 303, f"{username} on node {node.name}: {response.status_code}"
    phone.renew_token(node)
    return phone


def results_of(response: requests.Response, items: list[dict]) -> list[dict]:
    assert response.status_code == 200, response.text[:500]
    results = response.json()["results"]
    assert [result["uuid"] for result in results] == [item["uuid"] for item in items]
    return results


def node_writing_leads(cluster: Cluster, node: Node) -> bool:
    """Does `node` hold an open transaction that has inserted leads (not committed yet)?

    An INSERT takes a RowExclusiveLock on the table until its transaction ends, and the node's
    connections carry its name: so this is true exactly while a batch is half applied on that node.
    """
    return bool(cluster.scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE a.application_name = :name AND l.relation = to_regclass(:table) "
        "AND l.mode = 'RowExclusiveLock'",
        name=f"beatbook-node-{node.name}", table=f'"{cluster.schema}".lead'))


def test_both_nodes_serve_from_postgresql_and_redis(cluster):
    for node in cluster.nodes:
        health = node.health()
        assert health is not None, node.log()
        assert (health["database"]["engine"], health["jobs"]["backend"]) == ("postgresql", "redis")


def test_an_outbox_cut_off_by_a_killed_node_goes_on_at_the_other_and_stores_each_item_once(cluster):
    username, community = volunteers(cluster)[1]
    phone = signed_in_phone(cluster.a, username)
    photo = small_jpeg()
    items = [report(community, summary=f"楼道堆放杂物，邻里为此争吵（第{n}件）", photo=photo)
             for n in range(2 * BATCH)]
    first, second = items[:BATCH], items[BATCH:]

    assert {r["status"] for r in results_of(phone.send(cluster.a, first), first)} == {"created"}

    # The seam: node A is killed while it is inside the second batch — it has inserted leads of it in
    # its open transaction (seen in pg_locks) and has not committed. Waiting for that, rather than
    # for a time, makes the kill land mid-batch however busy the machine is; a batch of 50 with photos
    # takes far longer to apply than one poll.
    with ThreadPoolExecutor(max_workers=1) as pool:
        in_flight = pool.submit(phone.send, cluster.a, second)
        deadline = time.monotonic() + WAIT
        while not node_writing_leads(cluster, cluster.a):
            assert not in_flight.done(), "node A answered the batch before it could be killed mid-batch"
            assert time.monotonic() < deadline, f"node A never started the batch\n{cluster.a.log()}"
            time.sleep(0.005)
        cluster.a.kill()
        with pytest.raises(requests.ConnectionError):
            in_flight.result(timeout=WAIT)
    try:
        # Nothing of the cut-off batch was kept: the dead node's transaction was rolled back.
        assert stored_per_uuid(cluster, [item["uuid"] for item in second]) == Counter()

        # The outbox sends what has no answer again, now at node B, with the same cookies and token.
        assert {r["status"] for r in results_of(phone.send(cluster.b, second), second)} == {"created"}
        # An answer lost on the way is a replay wherever it lands: the same lead, not a second one.
        replayed = first[:5] + second[:5]
        assert {r["status"] for r in results_of(phone.send(cluster.b, replayed), replayed)} == {"duplicate"}

        stored = stored_per_uuid(cluster, [item["uuid"] for item in items])
        assert stored == Counter({item["uuid"]: 1 for item in items})
    finally:
        cluster.a.start()


def test_a_session_made_on_one_node_is_good_on_the_other_and_ends_on_both(cluster):
    username, community = volunteers(cluster)[2]
    phone = signed_in_phone(cluster.b, username)
    item = report(community)
    assert results_of(phone.send(cluster.a, [item]), [item])[0]["status"] == "created"
    answers = [phone.http.get(f"{node.url}/sync/session", timeout=WAIT) for node in cluster.nodes]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json()["user_id"] == answers[1].json()["user_id"]

    # Signing out at node A ends the session at node B too: the session's row decides, not a node.
    kept = requests.Session()
    kept.cookies.update(phone.http.cookies)  # what a thief copied from the phone before
    account = phone.http.get(f"{cluster.a.url}/account", timeout=WAIT).text
    signed_out = phone.http.post(f"{cluster.a.url}/logout", allow_redirects=False, timeout=WAIT,
                                 data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                                               account).group(1)})
    assert signed_out.status_code in (302, 303), signed_out.text[:300]
    assert kept.get(f"{cluster.b.url}/sync/session", timeout=WAIT).status_code == 401


def test_every_node_hands_out_the_same_service_worker_and_opens_what_another_sealed(cluster):
    """A phone keeps the service worker (its version, the seal key) of whichever node it met first."""
    workers = [requests.get(f"{node.url}/sw.js", timeout=WAIT) for node in cluster.nodes]
    assert all(worker.status_code == 200 for worker in workers)
    assert workers[0].text == workers[1].text
    config = worker_config(workers[0].text)

    username, community = volunteers(cluster)[5]
    phone = signed_in_phone(cluster.b, username)
    plain = report(community, summary="丈夫酒后殴打妻子，邻居听到呼救", category="marriage_family",
                   flag_dv="y")
    sealed = seal(plain, config["sealKey"])
    assert results_of(phone.send(cluster.a, [sealed]), [sealed])[0]["status"] == "created"
    assert stored_per_uuid(cluster, [plain["uuid"]]) == Counter({plain["uuid"]: 1})


_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _subscribe(phone: Phone, node: Node, service: PushService, name: str) -> None:
    """What the push settings page does: subscribe with the page's key, POST the subscription."""
    page = phone.http.get(f"{node.url}/inbox/devices", timeout=WAIT).text
    service.application_server_key = re.search(r'data-public-key="([^"]+)"', page).group(1)
    subscription = service.subscribe(name)
    response = phone.http.post(f"{node.url}/inbox/devices", json=subscription.as_json(), timeout=WAIT,
                               headers={"X-CSRFToken": _META_CSRF.search(page).group(1)})
    assert response.status_code < 300, response.text[:300]


def _wait_for_pushes(cluster: Cluster) -> None:
    """Until the worker has taken every notification's push job (bounded)."""
    deadline = time.monotonic() + WAIT
    while cluster.scalar("SELECT count(*) FROM notification WHERE push_status IN ('pending', 'sending')"):
        assert time.monotonic() < deadline, cluster.worker.log()[-3000:]
        time.sleep(0.1)


def test_jobs_from_both_nodes_go_through_redis_to_the_worker_each_push_once(cluster):
    """The officer's phone subscribed at node B (with B's VAPID key: a push signed with another key
    is refused); a volunteer reports one lead at each node; the worker pushes each exactly once."""
    volunteer, community = volunteers(cluster)[6]
    officer = cluster.scalar("SELECT u.username FROM community c JOIN \"user\" u ON u.id = c.officer_id "
                             "WHERE c.id = :id", id=community)
    _wait_for_pushes(cluster)  # earlier tests' notifications must not reach the new subscription
    with PushService() as service:
        try:
            _subscribe(signed_in_phone(cluster.b, officer), cluster.b, service, "officer")
            phone = signed_in_phone(cluster.a, volunteer)
            elsewhere = next(other for _name, other in volunteers(cluster) if other != community)
            items = [report(community), report(community)]
            for node, item in zip(cluster.nodes, items, strict=True):
                # The officer's lead first, then a while of other items: the batch commits long after
                # its first item, and a push job enqueued before the commit would find nothing yet.
                batch = [item] + [report(elsewhere) for _ in range(20)]
                assert {r["status"] for r in results_of(phone.send(node, batch), batch)} == {"created"}
            lead_ids = {row[0] for row in cluster.rows("SELECT id FROM lead WHERE uuid = ANY(:uuids)",
                                                       uuids=[item["uuid"] for item in items])}
            delivered = service.wait_for(2, "officer", timeout=WAIT)
            assert len(delivered) == 2, (service.requests(), cluster.rows(
                "SELECT user_id, kind, push_status FROM notification ORDER BY id DESC LIMIT 4"))
            assert {int(re.search(r"/leads/(\d+)", r.payload["url"]).group(1)) for r in delivered} == lead_ids
            _wait_for_pushes(cluster)
            assert len(service.requests("officer")) == 2, service.requests("officer")
        finally:  # the many-phones test must not push to this officer's phone
            with cluster.engine.begin() as connection:
                connection.exec_driver_sql("DELETE FROM push_subscription")


def _guess(phone: Phone, node: Node, username: str, start: threading.Barrier) -> int:
    start.wait(timeout=WAIT)
    return phone.sign_in(node, username, password="not-the-password").status_code


def test_wrong_passwords_on_both_nodes_are_limited_as_on_one(cluster):
    limit = 5  # BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT's default: the nodes run with it
    parallel, alternated = volunteers(cluster)[3][0], volunteers(cluster)[4][0]
    try:
        # Parallel: 12 strangers' phones guess at once, half on each node.
        guesses = 12
        start = threading.Barrier(guesses)
        with ThreadPoolExecutor(max_workers=guesses) as pool:
            answers = list(pool.map(lambda n: _guess(Phone(), cluster.nodes[n % 2], parallel, start),
                                    range(guesses)))
        assert Counter(answers) == Counter({422: limit, 429: guesses - limit})

        # Alternated: A, B, A, B… — the count is the database's, not a node's.
        answers = [Phone().sign_in(cluster.nodes[n % 2], alternated, password="not-the-password").status_code
                   for n in range(2 * limit)]
        assert answers == [422] * limit + [429] * limit

        # The right password is refused too while the account waits, on either node.
        for node in cluster.nodes:
            for username in (parallel, alternated):
                assert Phone().sign_in(node, username).status_code == 429
        counted = dict(cluster.rows("SELECT key, failures FROM login_throttle WHERE key LIKE 'account:%'"))
        assert counted == {f"account:{parallel}": limit, f"account:{alternated}": limit}
    finally:
        with cluster.engine.begin() as connection:  # the other tests sign in from the same address
            connection.exec_driver_sql("DELETE FROM login_throttle")


# --- many phones at once ---------------------------------------------------------------------------

PHONES = 200
ITEMS_PER_PHONE = 20
PHONES_AT_ONCE = 8  # enough to keep both nodes' 2×2 threads busy on a 2-core machine, not more


def _phone_items(community: int, phone: int) -> tuple[list[dict], list[dict]]:
    """17 good reports and 3 bad ones, each bad at another layer: the form, the envelope, a photo."""
    valid = [report(community, summary=f"小区停车位纠纷，两户业主争执（手机{phone}·第{n}件）")
             for n in range(ITEMS_PER_PHONE - 3)]
    invalid = [
        report(community, summary=""),
        {**report(community), "kind": "lead.unheard-of"},
        {**report(community), "photos": [{"name": "a.jpg", "type": "image/jpeg", "data": "not base64!"}]},
    ]
    return valid, invalid


def _run_phone(cluster: Cluster, number: int, account: tuple[str, int]) -> dict:
    """One phone's day: sign in at its node and send half its outbox there; the other half goes to
    the other node, headed by three items of the first batch whose answers were lost on the way
    (the outbox keeps an item until it has the server's word on it, and sends the oldest first)."""
    username, community = account
    home, away = cluster.nodes[number % 2], cluster.nodes[1 - number % 2]
    valid, invalid = _phone_items(community, number)
    items = valid[:8] + invalid[:1] + valid[8:] + invalid[1:]
    phone = Phone()
    statuses = [phone.sign_in(home, username).status_code]
    phone.renew_token(home)
    answers: dict[str, list[dict]] = {}
    replays = items[:3]
    for node, batch in ((home, items[:10]), (away, replays + items[10:])):
        response = phone.send(node, batch)
        statuses.append(response.status_code)
        if response.status_code >= 500:
            return {"statuses": statuses, "failure": response.text[:2000]}
        for result in response.json().get("results", []):
            answers.setdefault(result["uuid"], []).append(result)
    return {"statuses": statuses, "answers": answers, "valid": valid, "invalid": invalid,
            "replays": replays}


def test_200_phones_on_both_nodes_each_item_once_each_bad_one_invalid_no_5xx(cluster):
    accounts = volunteers(cluster)
    # The reference for the rate printed below, measured in the same run: one phone on its own.
    started = time.monotonic()
    alone = _run_phone(cluster, 0, accounts[0])
    alone_rate = (ITEMS_PER_PHONE + len(alone.get("replays", []))) / (time.monotonic() - started)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=PHONES_AT_ONCE) as pool:
        phones = list(pool.map(lambda n: _run_phone(cluster, n, accounts[n % len(accounts)]),
                               range(1, PHONES)))
    elapsed = time.monotonic() - started
    phones.append(alone)

    statuses = Counter(status for phone in phones for status in phone["statuses"])
    failures = [phone["failure"] for phone in phones if "failure" in phone]
    assert not failures, failures[:3]
    assert set(statuses) == {200, 303}, statuses  # sign-in 303, every batch 200: no 5xx, no refusal

    valid = [item["uuid"] for phone in phones for item in phone["valid"]]
    invalid = [item["uuid"] for phone in phones for item in phone["invalid"]]
    replayed = {item["uuid"] for phone in phones for item in phone["replays"]}
    answers = {uuid: answer for phone in phones for uuid, answer in phone["answers"].items()}
    for uuid in valid:
        expected = ["created", "duplicate"] if uuid in replayed else ["created"]
        assert [answer["status"] for answer in answers[uuid]] == expected, answers[uuid]
    for uuid in invalid:
        (answer,) = answers[uuid]
        assert answer["status"] == "invalid" and any(answer["errors"].values()), answer

    stored = stored_per_uuid(cluster, valid + invalid)
    assert stored == Counter({uuid: 1 for uuid in valid})
    sent = (PHONES - 1) * (ITEMS_PER_PHONE + len(alone["replays"]))
    print(f"\n{PHONES} phones × {ITEMS_PER_PHONE} items on 2 nodes: {len(valid)} stored once, "
          f"{len(invalid)} invalid, {len(replayed)} replays answered duplicate. "
          f"{PHONES_AT_ONCE} phones at once: {sent} items in {elapsed:.1f} s = {sent / elapsed:.0f} items/s; "
          f"one phone alone (same run): {alone_rate:.0f} items/s (sign-ins included)")
