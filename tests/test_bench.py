"""`make bench`'s CPU-per-request harness, quick mode on SQLite: real gunicorn, real sign-in, the
worker's CPU from /proc. No timing asserts (a shared 2-core machine): the rows must be well-formed,
the reference measured (> 0) and every ratio the figure over that reference."""

import pytest

from bench.cpu_per_request import HELLO, sqlite_figures

PATHS = ("GET /home/officer", "GET /login", "GET /leads/new")


@pytest.fixture(scope="module")
def figures():
    return sqlite_figures(quick=True)


def test_one_row_per_page_against_hello_world(figures):
    assert [figure.note.split(";")[0] for figure in figures] == list(PATHS)
    for figure in figures:
        assert figure.name.startswith("CPU per request") and figure.name.endswith("(SQLite)")
        assert figure.unit == "ms"
        assert figure.reference_name == HELLO


def test_reference_and_figures_are_measured(figures):
    hello = {figure.reference for figure in figures}
    assert len(hello) == 1, "one hello-world reference for the whole run"
    assert hello.pop() > 0
    for figure in figures:
        # A signed-in page does more than hello-world does: a 0 or a tiny figure means the worker's
        # CPU was not read, or the page was not the real one (a redirect to /login, an error page).
        assert figure.measured > figure.reference


def test_ratio_and_verdict_follow_the_figures(figures):
    for figure in figures:
        assert figure.ratio == pytest.approx(figure.measured / figure.reference)
        limit = float(figure.target.removeprefix("≤ ").removesuffix("×"))
        assert figure.met == (figure.ratio <= limit)
        row = figure.row()
        assert row.startswith(f"| {figure.name} |") and row.count("|") == 8
