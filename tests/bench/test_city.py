"""The city data set (bench/generate_leads.py --city, bench/city.py): a small city made twice with the
same seed in fresh databases of the run's engine, then checked the way a broken generator would fail:
routing, letter numbers, cases, boundaries, determinism, and the app's own pages on it."""

from __future__ import annotations

import secrets
from collections import defaultdict

import pytest
import shapely
from sqlalchemy import create_engine, text

from bench import city
from bench.generate_leads import generate, parse_args
from tests.conftest import Browser, RequestIsolatedClient
from webapp import create_app
from webapp.extensions import db

LEADS = 2_000
ARGS = ["--city", "--stations", "3", "--leads", str(LEADS), "--seed", "7", "--batch", "700",
        "--now", "2026-11-30T00:00:00+00:00"]
SETTLED = ("resolved", "failed", "transferred", "monitoring", "return_visit", "closed")


def _on_server(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def _fresh(database: dict, tmp_path_factory, dropped: list) -> dict:
    """A new empty database of the run's engine: a SQLite file or a PostgreSQL schema."""
    url = database["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path_factory.mktemp('city') / 'city.db'}",
                "SQLALCHEMY_ENGINE_OPTIONS": {}}
    schema = f"city_test_{secrets.token_hex(4)}"
    _on_server(url, f'CREATE SCHEMA "{schema}"')
    dropped.append((url, schema))
    return {"SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}}


@pytest.fixture(scope="module")
def cities(database, tmp_path_factory):
    """Two apps over two small cities generated with the same arguments."""
    dropped: list = []
    apps = []
    try:
        for _ in range(2):
            config = _fresh(database, tmp_path_factory, dropped)
            app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                              "BEATBOOK_PASSWORD_METHOD": "pbkdf2:sha256:1000", "BEATBOOK_AUDIT_ANCHORS": "",
                              **config})
            app.test_client_class = RequestIsolatedClient
            args = parse_args(["--database-url", config["SQLALCHEMY_DATABASE_URI"], *ARGS])
            assert generate(app, args) == 0
            apps.append(app)
        yield apps
    finally:
        for app in apps:
            with app.app_context():
                db.engine.dispose()
        for url, schema in dropped:
            _on_server(url, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def conn(cities):
    with cities[0].app_context(), db.engine.connect() as connection:
        yield connection


def _rows(connection, sql: str) -> list:
    return [tuple(row) for row in connection.execute(text(sql))]


def test_the_city_has_its_stations_people_and_leads_spread_over_them(conn):
    assert _rows(conn, "SELECT count(*) FROM station") == [(3,)]
    per_station = dict(_rows(conn, "SELECT station_id, count(*) FROM lead GROUP BY station_id"))
    assert len(per_station) == 3 and min(per_station.values()) > LEADS // 10
    staff = _rows(conn, "SELECT count(*) FROM \"user\" WHERE community_id IS NULL")[0][0]
    volunteers = _rows(conn, "SELECT count(*) FROM \"user\" WHERE community_id IS NOT NULL")[0][0]
    assert (staff, volunteers) == (city.STAFF * 3 // city.STATIONS, city.VOLUNTEERS * 3 // city.STATIONS)
    # Every community has its officer, of its own station.
    assert _rows(conn, """SELECT count(*) FROM community c LEFT JOIN "user" u ON u.id = c.officer_id
                          WHERE u.id IS NULL OR u.station_id != c.station_id""") == [(0,)]


def test_each_lead_goes_to_an_officer_of_its_station_and_its_community(conn):
    assert _rows(conn, """SELECT count(*) FROM lead l JOIN community c ON c.id = l.community_id
                          WHERE c.station_id != l.station_id
                             OR (l.assignee_id IS NOT NULL AND l.assignee_id != c.officer_id)""") == [(0,)]
    assert _rows(conn, """SELECT count(*) FROM lead l JOIN "user" u ON u.id = l.assignee_id
                          WHERE u.station_id != l.station_id""") == [(0,)]
    assert _rows(conn, """SELECT count(*) FROM lead l JOIN "user" u ON u.id = l.reporter_id
                          WHERE u.station_id != l.station_id""") == [(0,)]
    assert _rows(conn, """SELECT count(*) FROM lead l JOIN grid g ON g.id = l.grid_id
                          WHERE g.community_id != l.community_id""") == [(0,)]


def test_a_gps_point_routes_to_the_leads_own_community_and_grid(cities, conn):
    from webapp.leads.routing import locate
    from webapp.org.models import Station

    leads = _rows(conn, """SELECT station_id, longitude, latitude, community_id, grid_id FROM lead
                           WHERE latitude IS NOT NULL AND station_id > 1 ORDER BY id""")
    assert len(leads) > 100
    with cities[0].app_context():
        for station_id, longitude, latitude, community_id, grid_id in leads[::5]:
            community, grid = locate(db.session.get(Station, station_id), longitude, latitude)
            assert (community.id, grid.id) == (community_id, grid_id)


def test_grids_cover_their_community_without_overlapping(conn):
    grids = defaultdict(list)
    for community_id, boundary in _rows(conn, "SELECT community_id, boundary FROM grid ORDER BY code"):
        grids[community_id].append(shapely.from_geojson(boundary))
    for community_id, boundary in _rows(conn, "SELECT id, boundary FROM community WHERE station_id > 1"):
        area = shapely.from_geojson(boundary)
        cells = grids[community_id]
        assert 2 <= len(cells) <= 4
        assert abs(sum(cell.area for cell in cells) - area.area) < area.area * 1e-3
        assert shapely.union_all(cells).symmetric_difference(area).area < area.area * 1e-3


def test_letters_are_numbered_one_to_n_per_station_and_year_in_the_order_issued(conn):
    numbers = defaultdict(list)
    for station_id, year, seq in _rows(conn, """SELECT station_id, number_year, number_seq FROM dv_letter
                                                WHERE status = 'issued' ORDER BY issued_at, id"""):
        numbers[(station_id, year)].append(seq)
    assert len(numbers) >= 5 and max(len(seqs) for seqs in numbers.values()) >= 3
    for seqs in numbers.values():
        assert seqs == list(range(1, len(seqs) + 1))
    counters = {(s, y): n for s, y, n in
                _rows(conn, "SELECT station_id, year, last_number FROM dv_letter_counter")}
    assert counters == {key: len(seqs) for key, seqs in numbers.items()}
    assert _rows(conn, """SELECT count(*) FROM dv_letter WHERE status != 'issued'
                            AND (number_seq IS NOT NULL OR issued_at IS NOT NULL)""") == [(0,)]
    # Letters only for DV leads; three follow-ups per issued letter, after it.
    assert _rows(conn, """SELECT count(*) FROM dv_letter d JOIN lead l ON l.id = d.lead_id
                          WHERE NOT l.flag_dv OR l.station_id != d.station_id""") == [(0,)]
    assert _rows(conn, """SELECT count(*) FROM dv_letter d WHERE d.status = 'issued' AND
                          (SELECT count(*) FROM dv_followup f WHERE f.letter_id = d.id) != 3""") == [(0,)]


def test_every_case_belongs_to_an_accepted_lead_in_step_with_it(conn):
    cases = _rows(conn, """SELECT m.status, l.status, l.accepted_at IS NOT NULL, m.opened_at >= l.accepted_at,
                                  m.station_id = l.station_id, m.opened_by_id = l.assignee_id
                           FROM mediation_case m JOIN lead l ON l.id = m.lead_id
                           WHERE l.id > (SELECT max(id) FROM lead) - :n""".replace(":n", str(LEADS)))
    assert len(cases) > LEADS // 10
    for case_status, lead_status, accepted, after_acceptance, same_station, by_handler in cases:
        assert accepted and after_acceptance and same_station and by_handler
        assert lead_status not in ("registered", "graded", "assigned")
        assert (case_status == "open") == (lead_status == "in_mediation")
    # A written resolution has a signed agreement; a failed lead had a case.
    assert _rows(conn, """SELECT count(*) FROM mediation_case m
                          LEFT JOIN mediation_agreement a ON a.case_id = m.id
                          JOIN mediation_outcome o ON o.case_id = m.id
                          WHERE o.code = 'written' AND a.signed_at IS NULL""") == [(0,)]
    assert _rows(conn, """SELECT count(*) FROM lead l LEFT JOIN mediation_case m ON m.lead_id = l.id
                          WHERE l.status = 'failed' AND m.id IS NULL""") == [(0,)]


def test_return_visits_follow_settled_leads_and_timelines_end_in_the_leads_status(conn):
    generated = f"(SELECT max(id) FROM lead) - {LEADS}"
    assert _rows(conn, f"""SELECT count(*) FROM return_visit r JOIN lead l ON l.id = r.lead_id
                           WHERE l.id > {generated}
                             AND (l.status NOT IN {SETTLED} OR r.assignee_id != l.assignee_id)""") == [(0,)]
    last = _rows(conn, f"""SELECT l.status, e.to_status FROM lead l JOIN lead_event e ON e.lead_id = l.id
                           WHERE l.id > {generated} AND e.to_status != ''
                             AND e.id = (SELECT max(id) FROM lead_event x
                                         WHERE x.lead_id = l.id AND x.to_status != '')""")
    assert len(last) == LEADS
    assert all(lead_status == to_status for lead_status, to_status in last)
    # 督办 and extension requests are on the timeline of exactly the leads that carry them.
    for step, column in (("supervise", "supervised_until IS NOT NULL"),
                         ("request_extension", "extension_requested")):
        marked = _rows(conn, f"SELECT id FROM lead WHERE id > {generated} AND {column} ORDER BY id")
        stepped = _rows(conn, f"""SELECT DISTINCT lead_id FROM lead_event WHERE lead_id > {generated}
                                  AND kind = '{step}' ORDER BY lead_id""")
        assert marked == stepped, step
        assert marked or step == "request_extension"  # 2% of the few leads still being handled


def test_two_runs_with_the_same_seed_make_the_same_rows(cities):
    generated = f"(SELECT max(id) - {LEADS} FROM lead)"
    cases = f"SELECT id FROM mediation_case WHERE lead_id > {generated}"
    queries = [
        "SELECT * FROM station WHERE id > 1 ORDER BY id",
        "SELECT * FROM community WHERE station_id > 1 ORDER BY id",
        """SELECT g.* FROM grid g JOIN community c ON c.id = g.community_id
           WHERE c.station_id > 1 ORDER BY g.id""",
        # Not the password hash: every run salts the demo's one hash, which the city's people share.
        """SELECT id, username, display_name, station_id, community_id, grid_id, in_volunteer_branch, title,
                  phone, created_at FROM "user" WHERE username LIKE 's%.%' ORDER BY id""",
        """SELECT r.user_id, r.role FROM user_role r JOIN "user" u ON u.id = r.user_id
           WHERE u.username LIKE 's%.%' ORDER BY r.user_id, r.role""",
        f"SELECT * FROM lead WHERE id > {generated} ORDER BY id",
        f"SELECT * FROM lead_party WHERE lead_id > {generated} ORDER BY id",
        f"SELECT * FROM lead_event WHERE lead_id > {generated} ORDER BY id",
        f"SELECT * FROM mediation_case WHERE lead_id > {generated} ORDER BY id",
        f"SELECT * FROM mediation_session WHERE case_id IN ({cases}) ORDER BY id",
        f"SELECT * FROM mediation_agreement WHERE case_id IN ({cases}) ORDER BY id",
        f"SELECT * FROM dv_letter WHERE lead_id > {generated} ORDER BY id",
        f"SELECT * FROM dv_followup WHERE lead_id > {generated} ORDER BY id",
        "SELECT * FROM dv_letter_counter ORDER BY station_id, year",
        f"SELECT * FROM return_visit WHERE lead_id > {generated} ORDER BY id",
    ]
    made = []
    for app in cities:
        with app.app_context(), db.engine.connect() as connection:
            made.append([_rows(connection, query) for query in queries])
    for query, first, second in zip(queries, *made, strict=True):
        assert first, query
        assert first == second, query


@pytest.mark.parametrize("username, paths", [
    ("officer", ["/home/officer", "/leads/", "/leads/?mine=1", "/mediation/", "/return-visits/",
                 "/reports/?period=this_year", "{lead}", "{case}", "{return_visit}"]),
    ("supervisor", ["/home/supervisor", "/leads/?queue=ungraded", "/reports/", "/reports/?period=this_year",
                    "/mediation/", "{lead}", "{letter}"]),
    ("dvteam", ["/home/dv-team", "/dv/", "{letter}", "{dv_lead}"]),
])
def test_the_apps_pages_answer_on_the_city(cities, conn, username, paths):
    officer = """JOIN "user" u ON u.id = l.assignee_id WHERE u.username = 'officer'
                 AND NOT l.flag_dv AND NOT l.flag_minor"""  # the officer's own, outside the compartments
    ids = {
        "lead": f"SELECT max(l.id) FROM lead l {officer}",
        "case": f"SELECT max(m.id) FROM mediation_case m JOIN lead l ON l.id = m.lead_id {officer}",
        "return_visit": f"SELECT max(r.id) FROM return_visit r JOIN lead l ON l.id = r.lead_id {officer}",
        "letter": "SELECT max(id) FROM dv_letter WHERE station_id = 1 AND status = 'issued'",
        "dv_lead": "SELECT max(id) FROM lead WHERE station_id = 1 AND flag_dv",
    }
    ids = {key: _rows(conn, sql)[0][0] for key, sql in ids.items()}
    links = {"lead": "/leads/{}", "case": "/mediation/{}", "return_visit": "/return-visits/{}",
             "letter": "/dv/letters/{}", "dv_lead": "/leads/{}"}
    app = cities[0]
    browser = Browser(app.test_client())
    assert browser.login(username, app.config["BEATBOOK_DEMO_PASSWORD"]).status_code == 303
    for path in paths:
        if path.startswith("{"):
            key = path.strip("{}")
            assert ids[key], key
            path = links[key].format(ids[key])
        response = browser.client.get(path)
        assert response.status_code == 200, path
