"""Property tests over the five main forms (quick lead report, desk intake, visit, lifecycle step, the
org admin's person form): each field replaced by what hypothesis finds (20-digit ids, NUL, lone
surrogates, impossible dates, floats, long text). Per example: no 5xx, and an answer that is not a
success (303) stores and changes nothing."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.fuzz.conftest import FUZZ
from webapp.extensions import db
from webapp.leads.models import Lead, LeadEvent
from webapp.org.models import Community, Grid, User
from webapp.timeutil import STATION_TZ, utcnow
from webapp.visits.models import Visit

NASTY = st.sampled_from([
    "", " ", "9" * 20, "-9" * 10, "0", "-1", "1.5", "1e400", "NaN", "inf", "true", "None",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-30", "\x00", "a\x00b", "\ud800", "\udfff",
    "a\r\nb", "<script>x</script>", "' OR 1=1 --", "é" * 5000,
]) | st.text(max_size=30)


def _state(lead_id: int | None = None) -> tuple:
    db.session.rollback()
    counts = tuple(db.session.scalar(select(func.count()).select_from(model))
                   for model in (Lead, LeadEvent, Visit, User, Community, Grid))
    version = db.session.get(Lead, lead_id).version if lead_id else None
    return (*counts, version)


def _fuzz_form(fctx, person: str, page: str, path: str, base: dict, lead_id: int | None = None,
               examples: int = 15):
    browser = fctx.browser(person)
    answered = []
    token = browser.token(page)  # one per form: the session's token holds across examples

    @settings(FUZZ, max_examples=examples)
    @given(changes=st.dictionaries(st.sampled_from(sorted(base) + ["extra"]), NASTY, min_size=1, max_size=4))
    def run(changes):
        fctx.ran_one()
        before = _state(lead_id)
        data = {**base, **changes, "csrf_token": token}
        # Sent as a browser would: lone surrogates as the (invalid) UTF-8 bytes they stand for.
        body = urlencode(data, encoding="utf-8", errors="surrogatepass")
        response = browser.client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (changes, response.status_code)
        if response.status_code != 303:
            assert _state(lead_id) == before, changes
        answered.append(response.status_code)

    run()
    assert answered and any(code != 303 for code in answered)


def _report(fctx) -> dict:
    return {"category": "neighbour", "summary": "楼上邻居深夜装修，噪音扰民。",
            "community_id": str(fctx.ids["A"]), "recorded_at": "2024-05-01T06:30:00Z",
            "latitude": "31.2", "longitude": "121.4", "gps_accuracy_m": "10", "address": "幸福里",
            "visit_id": "", "uuid": ""}


def test_the_quick_report_form(fctx):
    _fuzz_form(fctx, "va", "/leads/new", "/leads/new", _report(fctx))


def test_the_desk_form(fctx):
    base = {**_report(fctx), "source": "walk_in", "source_ref": "", "category": "debt",
            "subtype": "private_lending", "head_count": "", "risk": "", "grid_id": "",
            "parties-0-role": "applicant", "parties-0-name": "王建国", "parties-0-phone": "13800138000",
            "parties-0-id_number": "", "parties-1-role": "respondent", "parties-1-name": "李明",
            "parties-1-phone": "", "parties-1-id_number": "11010519491231002X"}
    _fuzz_form(fctx, "sup", "/leads/desk", "/leads/desk", base)


def test_the_visit_form(fctx):
    today = utcnow().astimezone(STATION_TZ).date().isoformat()
    base = {"household": "幸福里3栋402", "visited_on": today, "community_id": str(fctx.ids["A"]),
            "findings": "老人独居。", "recorded_at": "", "uuid": ""}
    _fuzz_form(fctx, "oa", "/visits/new", "/visits/new", base)


def test_a_lifecycle_step(fctx):
    browser = fctx.browser("va")
    response = browser.post("/leads/new", _report(fctx))
    assert response.status_code == 303, response.status_code
    lead_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    db.session.rollback()
    version = db.session.get(Lead, lead_id).version
    base = {"version": str(version), "risk": "red", "note": "", "reason": "", "original": "",
            "assignee_id": "", "uuid": "", "new_due": "", "until": ""}
    _fuzz_form(fctx, "oa", f"/leads/{lead_id}", f"/leads/{lead_id}/steps/grade", base, lead_id=lead_id)


def test_the_org_admins_person_form(fctx):
    base = {"username": "fuzzed_person", "display_name": "张三", "title": "", "phone": "13800138000",
            "roles": "volunteer", "community_id": str(fctx.ids["A"]), "grid_id": "",
            "is_enabled": "y", "password": "Blue-harbour-lantern-42"}
    _fuzz_form(fctx, "admin", "/admin/users/new", "/admin/users/new", base)
