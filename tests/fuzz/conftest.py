"""The fuzzing cast: one station with a person for each of the five main forms and the sync endpoint.

Every example runs against the real app and database (both engines). Settings are deterministic
(`derandomize=True`) and bounded, so the whole fuzz set stays well under a minute per engine.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from tests.conftest import Browser, empty_all_tables
from tests.factories import make_community, make_station, make_user
from webapp.extensions import db
from webapp.org.models import Role

FUZZ = settings(derandomize=True, deadline=None, database=None, max_examples=25,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


EXAMPLES: dict[str, int] = {}  # engine → fuzz examples run (shown at the end of the run)


def pytest_terminal_summary(terminalreporter):
    for engine, count in sorted(EXAMPLES.items()):
        terminalreporter.write_line(f"fuzz examples run on {engine}: {count}")


class Cast:
    def __init__(self, app, ids):
        self.app, self.ids, self._browsers = app, ids, {}

    def browser(self, person: str) -> Browser:
        """A signed-in test client for `person` (one per person, kept for the module)."""
        if person not in self._browsers:
            client = self.app.test_client()
            client.set_cookie("lang", "en")
            browser = Browser(client)
            assert browser.login(f"fuzz_{person}").status_code == 303
            self._browsers[person] = browser
        return self._browsers[person]

    def ran_one(self) -> None:
        engine = self.app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0].split("+", 1)[0]
        EXAMPLES[engine] = EXAMPLES.get(engine, 0) + 1

    def token(self, person: str) -> str:
        """A fresh CSRF token for this person's session (never a stale one across examples)."""
        response = self.browser(person).client.get("/sync/session")
        assert response.status_code == 200
        return response.get_json()["csrf"]


@pytest.fixture(scope="module")
def cast(app):
    with app.app_context():
        empty_all_tables()
        station = make_station("FUZZ-PS")
        oa = make_user(station, Role.OFFICER, username="fuzz_oa")
        sup = make_user(station, Role.SUPERVISOR, username="fuzz_sup")
        admin = make_user(station, Role.ADMIN, username="fuzz_admin")
        community = make_community(station, code="FUZZA", officer=oa)
        va = make_user(station, Role.VOLUNTEER, username="fuzz_va", community=community)
        db.session.commit()
        ids = {"oa": oa.id, "sup": sup.id, "admin": admin.id, "va": va.id, "A": community.id}
        db.session.remove()
    yield Cast(app, ids)
    with app.app_context():
        empty_all_tables()


@pytest.fixture
def fctx(cast):
    with cast.app.app_context():
        yield cast
        db.session.remove()
