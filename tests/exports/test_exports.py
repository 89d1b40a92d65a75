"""Exports: a lead list to .xlsx / CSV exactly as the list shows it, masked, audited; large ones by job.

The cast: community A (officer oa), a second officer ox who is assigned every lead (so oa sees A's
ordinary leads through the community, may not reveal their identities, and never sees the DV lead),
a supervisor, a second supervisor (for someone else's file), a volunteer.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from tests.conftest import Browser
from tests.factories import make_community, make_station, make_user
from tests.notify.pushservice import queued_jobs, run_queued_jobs
from webapp.audit.models import AuditEntry
from webapp.exports.models import ExportFile
from webapp.extensions import db
from webapp.jobs import STALE_AFTER, huey, run_sweep
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, PartyInput, register_lead
from webapp.notify.models import Notification
from webapp.org.models import Role
from webapp.timeutil import utcnow

PARTY_PHONE = "13912345678"
SUMMARY_PHONE = "13787654321"
XLSX_HEADERS = [
    "线索编号",
    "接报时间",
    "线索来源",
    "纠纷类型",
    "社区",
    "网格",
    "风险等级",
    "状态",
    "承办人",
    "期限",
    "处理结果",
    "简要情况",
]


@pytest.fixture
def cast(app_ctx):
    huey.flush()
    station = make_station("EXP-PS")
    people = {
        name: make_user(station, *roles, username=f"exp_{name}")
        for name, roles in {
            "oa": (Role.OFFICER,),
            "ox": (Role.OFFICER,),
            "sup": (Role.SUPERVISOR,),
            "sup2": (Role.SUPERVISOR,),
            "vol": (Role.VOLUNTEER,),
        }.items()
    }
    community = make_community(station, code="EXPA", officer=people["oa"])
    db.session.commit()
    deadlines = parse_deadlines(app_ctx.config["BEATBOOK_DEADLINES"])
    leads = {}
    specs = {
        "noise": ("neighbour", f"楼上噪音扰民 深夜装修 电话{SUMMARY_PHONE}", False),
        "wage": ("labour", "拖欠工资三个月 工地 =SUM(A1)", False),
        "dv": ("marriage_family", "家庭暴力 dvsecretword", True),
        "rent": ("property", "房屋租赁押金纠纷", False),
    }
    for name, (category, summary, dv) in specs.items():
        data = LeadInput(
            source=Source.WALK_IN,
            category=category,
            summary=summary,
            flag_dv=dv,
            community=community,
            address="和平里1栋2单元301",
            parties=[
                PartyInput(role="applicant", name="赵大明", phone=PARTY_PHONE, id_number="11010119800101001X")
            ],
        )
        leads[name] = register_lead(people["sup"], data, deadlines, 10 << 20).lead.id
    db.session.execute(update(Lead).values(assignee_id=people["ox"].id))
    db.session.commit()
    yield {"people": {k: v.id for k, v in people.items()}, "leads": leads, "app": app_ctx}
    huey.flush()


def signed_in(app, name: str) -> Browser:
    client = app.test_client()
    browser = Browser(client)
    assert browser.login(f"exp_{name}").status_code == 303
    return browser


def listed_ids(browser: Browser, query: str = "") -> list[int]:
    html = browser.client.get(f"/leads/?{query}").get_data(as_text=True)
    return [int(n) for n in re.findall(r"<small>#(\d+) ", html)]


def exports_audited() -> list[dict]:
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.seq)
    ).all()
    return [{"actor": e.actor_id, "type": e.object_type, **json.loads(e.detail)} for e in entries]


def test_xlsx_matches_the_list_row_for_row(cast):
    sup = signed_in(cast["app"], "sup")
    for query in ("", "category=neighbour", "q=租赁", "flag=dv"):
        expected = listed_ids(sup, query)
        response = sup.client.get(f"/exports/leads?format=xlsx&{query}")
        assert response.status_code == 200
        assert response.mimetype.endswith("spreadsheetml.sheet")
        sheet = load_workbook(io.BytesIO(response.data)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == XLSX_HEADERS
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["L"].width == 60
        assert [row[0] for row in rows[1:]] == expected and expected
    everything = load_workbook(io.BytesIO(sup.client.get("/exports/leads?format=xlsx").data)).active
    by_number = {row[0].value: row for row in everything.iter_rows(min_row=2)}
    noise = by_number[cast["leads"]["noise"]]
    assert noise[1].is_date and noise[1].number_format == "yyyy-mm-dd hh:mm"
    assert noise[3].value == "邻里"
    assert noise[11].value.startswith("楼上噪音扰民 深夜装修")  # Chinese intact
    assert noise[11].value.endswith(SUMMARY_PHONE)  # the supervisor handles it: may reveal
    wage = by_number[cast["leads"]["wage"]]
    assert wage[11].data_type == "s" and "=SUM(A1)" in wage[11].value  # text, never a formula
    assert by_number[cast["leads"]["dv"]][11].value == "（已隐去）"  # a DV story never leaves in a file


def test_csv_has_a_bom_and_parses(cast):
    sup = signed_in(cast["app"], "sup")
    response = sup.client.get("/exports/leads?format=csv&community_id=&risk=")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == XLSX_HEADERS
    assert [int(row[0]) for row in rows[1:]] == listed_ids(sup)
    assert any(row[11] == "房屋租赁押金纠纷" for row in rows[1:])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[1]) for row in rows[1:])


def test_officer_without_reveal_rights_gets_masks_and_no_dv_lead(cast):
    oa = signed_in(cast["app"], "oa")
    listed = listed_ids(oa)
    assert cast["leads"]["dv"] not in listed and cast["leads"]["noise"] in listed
    for fmt in ("csv", "xlsx"):
        response = oa.client.get(f"/exports/leads?format={fmt}")
        assert response.status_code == 200
        if fmt == "csv":
            text = response.data.decode("utf-8-sig")
            numbers = [int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]]
        else:
            sheet = load_workbook(io.BytesIO(response.data)).active
            text = "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
            numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert numbers == listed
        assert SUMMARY_PHONE not in text and PARTY_PHONE not in text
        assert "137****4321" in text
        assert "dvsecretword" not in text and "家庭暴力" not in text
    # Even asking for DV leads by name gives nothing.
    rows = list(
        csv.reader(io.StringIO(oa.client.get("/exports/leads?format=csv&flag=dv").data.decode("utf-8-sig")))
    )
    assert rows[1:] == []


def test_who_may_not_export_gets_403(cast):
    vol = signed_in(cast["app"], "vol")
    assert vol.client.get("/exports/leads?format=xlsx").status_code == 403
    assert vol.client.get("/exports/monthly?format=xlsx&month=2026-01").status_code == 403
    oa = signed_in(cast["app"], "oa")
    assert oa.client.get("/exports/monthly?format=xlsx&month=2026-01").status_code == 403
    assert cast["app"].test_client().get("/exports/leads?format=csv").status_code in (302, 303, 401)
    assert exports_audited() == []


def test_every_export_is_audited(cast):
    sup = signed_in(cast["app"], "sup")
    sup.client.get("/exports/leads?format=xlsx&category=neighbour")
    sup.client.get("/exports/leads?format=csv")
    sup.client.get("/exports/monthly?format=xlsx&month=2026-01")
    audited = exports_audited()
    who = cast["people"]["sup"]
    assert audited == [
        {"actor": who, "type": "leads", "format": "xlsx", "rows": 1, "filters": {"category": "neighbour"}},
        {"actor": who, "type": "leads", "format": "csv", "rows": 4, "filters": {}},
        {"actor": who, "type": "monthly", "format": "xlsx", "rows": 0, "month": "2026-01"},
    ]


@pytest.mark.parametrize(
    "query",
    [
        "format=pdf",
        "risk=purple&format=csv",
        "format=xlsx&community_id=99999999999999999999",
        "format=xlsx&community_id=abc",
        "format=csv&q=%00",
        "format=csv&category=%ED%A0%80",
        "format=csv&status=gone",
        "format=csv&q=" + "x" * 101,
        "format=xlsx&queue=nope",
        "format=csv&flag=secret",
    ],
)
def test_bad_filters_are_refused(cast, query):
    sup = signed_in(cast["app"], "sup")
    response = sup.client.get(f"/exports/leads?{query}")
    assert 400 <= response.status_code < 500
    assert response.mimetype == "text/html"
    assert exports_audited() == []


@pytest.mark.parametrize(
    "query",
    [
        "month=2026-13&format=xlsx",
        "month=abc&format=csv",
        "month=2026-01&format=doc",
        "month=%00&format=csv",
        "format=csv",
    ],
)
def test_bad_monthly_requests_are_refused(cast, query):
    sup = signed_in(cast["app"], "sup")
    assert sup.client.get(f"/exports/monthly?{query}").status_code == 400
    assert exports_audited() == []


def test_monthly_export_has_one_sheet_per_table(cast):
    sup = signed_in(cast["app"], "sup")
    month = db.session.get(Lead, cast["leads"]["noise"]).received_at.astimezone().strftime("%Y-%m")
    from webapp.timeutil import STATION_TZ

    month = db.session.get(Lead, cast["leads"]["noise"]).received_at.astimezone(STATION_TZ).strftime("%Y-%m")
    response = sup.client.get(f"/exports/monthly?format=xlsx&month={month}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["汇总", "按类别", "按来源", "按社区", "按风险", "按状态"]
    summary = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert summary["接报线索"] == 4
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)
    community = list(book["按社区"].iter_rows(min_row=2, values_only=True))
    assert community == [("社区EXPA", 4)]
    text = sup.client.get(f"/exports/monthly?format=csv&month={month}").data
    assert text.startswith(b"\xef\xbb\xbf")


def test_a_large_export_is_a_job_with_an_inbox_link_for_its_maker_only(cast):
    app = cast["app"]
    app.config["BEATBOOK_EXPORT_INLINE_ROWS"] = 2
    try:
        sup = signed_in(app, "sup")
        page = sup.client.get("/exports/leads?format=xlsx&q=")
        assert page.status_code == 200 and "生成文件" in page.get_data(as_text=True)
        assert b'action="/exports/leads"' in page.data and b'name="format" value="xlsx"' in page.data
        assert exports_audited() == []  # nothing made yet
        response = sup.post("/exports/leads", {"format": "xlsx"}, from_page="/exports/leads?format=xlsx")
        assert response.status_code == 303
        export_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
        assert [name for name, _args in queued_jobs()][-1].endswith("build_export")
        waiting = sup.client.get(f"/exports/{export_id}", headers={"HX-Request": "true"})
        assert b'hx-trigger="every 2s"' in waiting.data
        run_queued_jobs()
        db.session.expire_all()
        export = db.session.get(ExportFile, export_id)
        assert export.status == "done" and export.rows_total == 4
        notes = db.session.scalars(select(Notification).where(Notification.kind == "export_ready")).all()
        assert [(n.user_id, n.link) for n in notes] == [(cast["people"]["sup"], f"/exports/{export_id}")]
        assert "赵" not in notes[0].text and "13" not in notes[0].text
        done = sup.client.get(f"/exports/{export_id}")
        assert f"/exports/{export_id}/file".encode() in done.data and b"every 2s" not in done.data
        file = sup.client.get(f"/exports/{export_id}/file")
        assert file.status_code == 200
        rows = list(load_workbook(io.BytesIO(file.data)).active.iter_rows(min_row=2, values_only=True))
        assert [row[0] for row in rows] == listed_ids(sup)
        audited = exports_audited()
        assert {
            "actor": cast["people"]["sup"],
            "type": "leads",
            "format": "xlsx",
            "rows": 4,
            "filters": {},
            "job": True,
        } in audited
        other = signed_in(app, "sup2")
        assert other.client.get(f"/exports/{export_id}/file").status_code == 404
        assert other.client.get(f"/exports/{export_id}").status_code == 404
        # 24 hours later the sweep deletes it.
        db.session.execute(update(ExportFile).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert sup.client.get(f"/exports/{export_id}/file").status_code == 404
        assert run_sweep(STALE_AFTER)["exports_expired"] == 1
        assert db.session.scalar(select(ExportFile.id)) is None
    finally:
        app.config["BEATBOOK_EXPORT_INLINE_ROWS"] = 2000


@pytest.mark.parametrize(
    "data",
    [
        {"format": "pdf"},
        {"format": "xlsx", "community_id": "99999999999999999999"},
        {"format": "csv", "q": "a\x00b"},
        {"format": "csv", "risk": "purple"},
        {},
    ],
)
def test_bad_queued_exports_are_refused_and_queue_nothing(cast, data):
    sup = signed_in(cast["app"], "sup")
    response = sup.post("/exports/leads", data, from_page="/exports/leads")
    assert response.status_code == 400
    assert db.session.scalar(select(ExportFile.id)) is None
    assert not [name for name, _args in queued_jobs() if name.endswith("build_export")]
    assert exports_audited() == []


def test_a_volunteer_cannot_queue_an_export(cast):
    vol = signed_in(cast["app"], "vol")
    response = vol.post("/exports/leads", {"format": "xlsx"}, from_page="/account")
    assert response.status_code == 403
    assert db.session.scalar(select(ExportFile.id)) is None
