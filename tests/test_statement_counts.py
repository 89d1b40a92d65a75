"""How many SQL statements each page costs, and that lists do not cost one more per row.

Every page of tests/test_page_shapes.py is read as its user, and its statements are counted (the
second view: the first may write bookkeeping once). A page over the ceiling has a query shape to fix
(docs/architecture.md, Performance). The lists that grow with the station are then read again after
the station has gained more of what they list: the count must not change (no N+1).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.conftest import Browser
from tests.test_page_shapes import PAGES, page_ids
from webapp.extensions import db

# Sign-in (the session with its person and roles) and the inbox badge are on every signed-in page: 2.
PAGE_CEILING = 25


@contextmanager
def counted(app):
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def client(demo_client):
    return demo_client


@pytest.fixture(scope="module")
def ids(demo_station) -> dict[str, int]:
    with demo_station.app_context():
        found = page_ids()
        db.session.remove()
    return found


def _statements(app, client, path: str) -> list[str]:
    assert client.get(path).status_code == 200
    with counted(app) as statements:
        assert client.get(path).status_code == 200
    return statements


@pytest.mark.parametrize(("endpoint", "username", "path_for"), PAGES,
                         ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(PAGES)])
def test_every_page_stays_under_the_statement_ceiling(demo_station, client, ids, endpoint, username,
                                                      path_for):
    if username:
        assert Browser(client).login(username, "beatbook-demo").status_code == 303
    statements = _statements(demo_station, client, path_for(ids))
    print(f"{endpoint}: {len(statements)}")
    assert len(statements) <= PAGE_CEILING, "\n".join(statements)
