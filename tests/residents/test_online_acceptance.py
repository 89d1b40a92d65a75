"""Online acceptance (网上受理): the public page a resident opens from WeChat, no sign-in.

A submission becomes a lead with source "online", routed like any other; the resident's case code
(long, random, only its hash stored) shows the state in plain words and a date, nothing else;
wrong codes and submissions are throttled per address and for everyone, atomically; bad input is
refused with clear messages and stores nothing; script typed into any field stays text."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import Browser, csrf_from
from tests.factories import commit, make_community, make_station, make_user
from webapp.auth.models import LoginThrottle
from webapp.experts.models import ExpertChoice
from webapp.experts.services import ExpertInput, choice_for, save_expert
from webapp.extensions import db
from webapp.leads.codes import Source, Status
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.lifecycle import perform
from webapp.leads.models import Lead, LeadParty
from webapp.notify.models import Notification
from webapp.org.models import Role
from webapp.residents.models import OnlineSubmission
from webapp.residents.services import code_hash

DEADLINES = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")
CODE = re.compile(r'<strong id="case-code">([A-Za-z0-9_-]+)</strong>')
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def station(app_ctx):
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="officer1")
    community = make_community(station, officer=officer)
    commit()
    return {"station": station, "officer": officer, "community": community}


def form(station, **fields) -> dict:
    data = {"category": "neighbour", "community_id": str(station["community"].id), "address": "金桂园3栋",
            "description": "楼上每晚装修噪音，协商无果", "name": "李四", "phone": "13912345678"}
    data.update(fields)
    return data


def submit(client, data: dict, address: str = "10.0.0.1"):
    page = client.get("/online/", environ_base={"REMOTE_ADDR": address})
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), **data}
    return client.post("/online/", data=data, environ_base={"REMOTE_ADDR": address})


def leads() -> int:
    return db.session.scalar(select(func.count()).select_from(Lead))


def test_a_submission_becomes_a_routed_lead_with_source_online(station, client):
    response = submit(client, form(station))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    code = CODE.search(html).group(1)
    assert len(code) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", code)  # ≥ 128 bits, URL-safe
    assert "<svg" in html and "style=" not in html.split("<svg", 1)[1].split("</svg>")[0]
    assert f"/online/progress?code={code}" in html
    lead = db.session.scalar(select(Lead))
    assert lead.source == Source.ONLINE and lead.category == "neighbour"
    assert lead.status == Status.ASSIGNED and lead.assignee_id == station["officer"].id
    [party] = lead.parties
    assert (party.role, party.name, party.phone) == ("applicant", "李四", "13912345678")
    # Only the code's hash is kept.
    stored = db.session.scalar(select(OnlineSubmission))
    assert stored.lead_id == lead.id and stored.code_hash == code_hash(code) and code not in stored.code_hash
    # Routed like any other lead: the officer is told.
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == station["officer"].id, Notification.kind == "assigned")) == 1
    # Each submission gets its own code.
    other = CODE.search(submit(client, form(station)).get_data(as_text=True)).group(1)
    assert other != code


@pytest.mark.parametrize("written", ["139 1234 5678", "139-1234-5678", " 13912345678 "])
def test_a_mobile_written_in_groups_is_taken_as_its_digits(station, client, written):
    """Residents copy a number as it is printed (3-4-4): it is a mobile, not "enter 11 digits"."""
    assert submit(client, form(station, phone=written)).status_code == 200
    [party] = db.session.scalar(select(Lead)).parties
    assert party.phone == "13912345678"


@pytest.mark.parametrize("written", ["1391 2345 678", "139  1234 5678", "139-1234-567"])
def test_a_mobile_in_odd_groups_is_still_refused(station, client, written):
    assert submit(client, form(station, phone=written)).status_code == 422
    assert leads() == 0


def test_the_officer_sees_the_phone_masked(station, client, make_client):
    submit(client, form(station))
    lead = db.session.scalar(select(Lead))
    officer = Browser(make_client())
    officer.login("officer1")
    html = officer.client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "13912345678" not in html and "139****5678" in html


def test_the_code_shows_the_state_and_date_and_nothing_else(station, client):
    filed = submit(client, form(station, description="秘密描述内容XYZ", address="秘密地址888号"))
    html = filed.get_data(as_text=True)
    code = CODE.search(html).group(1)
    lead = db.session.scalar(select(Lead))
    secrets_ = ("李四", "13912345678", "5678", "秘密描述内容XYZ", "秘密地址888号",
                station["officer"].display_name,
                station["community"].name, f"#{lead.id}", "邻里")

    def page() -> str:
        response = client.get(f"/online/progress?code={code}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert response.status_code == 200
        text = response.get_data(as_text=True).split('<main id="main">', 1)[1]
        for secret in secrets_:
            assert secret not in text
        return text

    assert "已受理" in page() or "Received" in page()
    officer = station["officer"]
    perform(lead, officer, "accept", DEADLINES)
    commit()
    assert "正在处理" in page()
    perform(lead, officer, "start_mediation", DEADLINES)
    commit()
    assert "调解中" in page()
    perform(lead, officer, "resolve", DEADLINES, outcome="oral")
    commit()
    assert "已化解" in page()
    perform(lead, officer, "return_visit", DEADLINES)
    perform(lead, officer, "close", DEADLINES)
    commit()
    text = page()
    assert "已办结" in text and re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_wrong_codes_are_throttled_then_429_even_for_the_right_code(station, client, monkeypatch):
    monkeypatch.setitem(client.application.config, "BEATBOOK_RESIDENT_CODE_GUESSES_PER_ADDRESS", 3)
    code = CODE.search(submit(client, form(station)).get_data(as_text=True)).group(1)
    guess = "A" * 32
    here = {"REMOTE_ADDR": "10.0.0.7"}
    statuses = [client.get(f"/online/progress?code={guess}", environ_base=here).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    blocked = client.get(f"/online/progress?code={code}", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert blocked.status_code == 429
    assert "次数过多" in blocked.get_data(as_text=True)
    # Another address is not blocked; a right code does not count against it.
    for _ in range(5):
        there = client.get(f"/online/progress?code={code}", environ_base={"REMOTE_ADDR": "10.0.0.8"})
        assert there.status_code == 200


def test_parallel_wrong_codes_cannot_pass_the_limit(station, app, make_client, monkeypatch):
    monkeypatch.setitem(app.config, "BEATBOOK_RESIDENT_CODE_GUESSES_PER_ADDRESS", 4)
    guessers = [make_client() for _ in range(10)]
    start, statuses = threading.Barrier(len(guessers)), []

    def guess(client) -> None:
        start.wait()
        statuses.append(client.get("/online/progress?code=" + "B" * 32,
                                   environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code)

    threads = [threading.Thread(target=guess, args=(client,)) for client in guessers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [404] * 4 + [429] * 6
    db.session.expire_all()
    assert db.session.get(LoginThrottle, "resident-code:address:10.0.0.5").failures == 4


def test_wrong_codes_are_throttled_for_everyone_together(station, client, monkeypatch):
    monkeypatch.setitem(client.application.config, "BEATBOOK_RESIDENT_CODE_GUESSES_TOTAL", 3)
    statuses = [client.get("/online/progress?code=" + "C" * 32,
                           environ_base={"REMOTE_ADDR": f"10.1.0.{n}"}).status_code for n in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_submissions_are_throttled_per_address_and_for_everyone(station, client, monkeypatch):
    config = client.application.config
    monkeypatch.setitem(config, "BEATBOOK_RESIDENT_SUBMISSIONS_PER_ADDRESS", 2)
    monkeypatch.setitem(config, "BEATBOOK_RESIDENT_SUBMISSIONS_TOTAL", 4)
    assert [submit(client, form(station), "10.2.0.1").status_code for _ in range(3)] == [200, 200, 429]
    assert leads() == 2
    assert [submit(client, form(station), f"10.2.1.{n}").status_code for n in range(3)] == [200, 200, 429]
    assert leads() == 4
    too_many = submit(client, form(station), "10.2.9.9")
    assert too_many.status_code == 429 and "提交次数过多" in too_many.get_data(as_text=True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"category": ""}, "请选择纠纷类型。"),
    ({"category": "drugs"}, "不是有效的选择。"),
    ({"category": "neighbour\u00a0"}, "不是有效的选择。"),
    ({"description": ""}, "请描述纠纷情况。"),
    ({"description": "长" * 2001}, "2000"),
    ({"name": ""}, "请填写您的姓名。"),
    ({"name": "名" * 65}, "64"),
    ({"phone": ""}, "请填写联系电话。"),
    ({"phone": "12345"}, "11位手机号"),
    ({"phone": "1391234567a"}, "11位手机号"),
    ({"phone": "1" * 40}, "11位手机号"),
    ({"address": "址" * 201}, "200"),
    ({"community_id": "99999999999999999999"}, "选择无效：无法转化类型。"),
    ({"community_id": "abc"}, "选择无效"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(station, client, fields, message):
    response = submit(client, form(station, **fields))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error"' in html or 'role="alert"' in html
    errors = " ".join(re.findall(r'class="error"[^>]*>([^<]*)<', html))
    assert message in errors
    assert leads() == 0
    assert db.session.scalar(select(func.count()).select_from(LeadParty)) == 0


def test_no_expert_choice_is_offered_while_the_station_has_no_pool(station, client):
    assert "expert_id" not in client.get("/online/").get_data(as_text=True)
    assert submit(client, form(station, expert_id="5")).status_code == 200  # ignored, not an error
    assert leads() == 1 and db.session.scalar(select(func.count()).select_from(ExpertChoice)) == 0


def test_a_residents_choice_of_expert_is_recorded_on_the_lead(station, client):
    expert = save_expert(station["station"], None,
                         ExpertInput(name="许文静", fields=["marriage_family"], bio="婚姻家庭调解"))
    elsewhere = save_expert(make_station(code="OTHER-PS"), None,
                            ExpertInput(name="外所专家", fields=["marriage_family"]))
    commit()
    page = client.get("/online/").get_data(as_text=True)
    assert "许文静" in page and "外所专家" not in page
    assert submit(client, form(station, expert_id=str(elsewhere.id))).status_code == 422
    assert leads() == 0
    assert submit(client, form(station, expert_id=str(expert.id))).status_code == 200
    lead = db.session.scalar(select(Lead))
    assert choice_for(lead).expert_id == expert.id


def test_an_oversized_request_is_refused_before_it_is_read(station, client):
    response = submit(client, form(station, description="长" * 40_000))
    assert response.status_code == 413
    assert "过大" in response.get_data(as_text=True)
    assert leads() == 0


def test_english_errors(station, client):
    client.set_cookie("lang", "en")
    html = submit(client, form(station, phone="12345", name="")).get_data(as_text=True)
    assert "Enter a mobile number (11 digits)" in html and "Enter your name." in html


def test_without_the_csrf_token_nothing_is_stored(station, client):
    response = client.post("/online/", data=form(station))
    assert response.status_code in (400, 422)
    assert leads() == 0


def test_nul_and_lone_surrogates_are_a_clear_400(station, client):
    assert submit(client, form(station, description="a\x00b")).status_code == 400
    assert client.get("/online/progress?code=%00abc").status_code == 400
    assert leads() == 0


def test_script_in_every_field_stays_text(station, client, make_client):
    html = submit(client, form(station, address=SCRIPT, description=SCRIPT + " 噪音", name=SCRIPT[:60],
                               )).get_data(as_text=True)
    assert SCRIPT not in html
    lead = db.session.scalar(select(Lead))
    assert lead.summary.startswith(SCRIPT)  # stored as typed …
    officer = Browser(make_client())
    officer.login("officer1")
    page = officer.client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;" in page  # … and shown as text
    # Script in the code and in the invalid form comes back escaped too.
    assert SCRIPT not in client.get(f"/online/progress?code={SCRIPT}").get_data(as_text=True)
    bad = submit(client, form(station, phone=SCRIPT, category=SCRIPT)).get_data(as_text=True)
    assert SCRIPT not in bad


def test_the_page_needs_no_sign_in_and_no_script(station, client):
    response = client.get("/online/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    form_tag = html.split('<form id="resident-form"', 1)[1].split(">", 1)[0]
    assert 'method="post"' in form_tag and "hx-" not in form_tag and "data-client-record" not in form_tag
    assert "csrf_token" in html
    assert "expert_id" not in html  # this station has no expert pool: nothing to choose


def test_the_received_page_with_its_qr_code_fits_the_page_weight_budget(station, client):
    """The answer to a submission is a first visit too (from WeChat): ≤ 40 KB compressed in all."""
    import gzip

    from tests.test_page_weight import ASSET, BUDGET

    page = client.get("/online/", environ_base={"REMOTE_ADDR": "10.3.0.1"})
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), **form(station)}
    response = client.post("/online/", data=data, headers={"Accept-Encoding": "gzip"},
                           environ_base={"REMOTE_ADDR": "10.3.0.1"})
    assert response.status_code == 200 and response.headers.get("Content-Encoding") == "gzip"
    total = len(response.data)
    html = gzip.decompress(response.data).decode()
    assert "<svg" in html
    for url in ASSET.findall(html):
        with client.get(url, headers={"Accept-Encoding": "gzip"}) as asset:
            assert asset.status_code == 200, url
            total += len(asset.get_data())
    assert total <= BUDGET, f"{total} bytes compressed"
    print(f"received page, first visit: {total} bytes compressed")
