"""Several nodes: needs PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL).

Nodes against SQLite are not the deployment, so these tests never fall back to it. In CI (`CI` set,
as .ci/run does) both variables are set, and a missing one fails the run with a clear message. On a
developer's machine without them (`make test-fast` empties TEST_DATABASE_URL) the tests are
deselected, and the summary says so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.scale.cluster import running_cluster

HERE = Path(__file__).resolve().parent
REQUIRED = ("TEST_DATABASE_URL", "TEST_REDIS_URL")


def _missing() -> list[str]:
    return [name for name in REQUIRED if not os.environ.get(name)]


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item of the session: mark only the ones under tests/scale/.
    ours = [item for item in items if HERE in Path(item.path).resolve().parents]
    for item in ours:
        item.add_marker(pytest.mark.nodes)
    if os.environ.get("CI") or not ours or not _missing():
        return
    config.hook.pytest_deselected(items=ours)
    items[:] = [item for item in items if item not in ours]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter:
        reporter.write_line(f"tests/scale deselected: {' and '.join(_missing())} not set "
                            "(several nodes need PostgreSQL and Redis; CI sets both)", yellow=True)


@pytest.fixture(scope="package")
def cluster():
    """Two gunicorn nodes and a job worker on one fresh PostgreSQL schema and one Redis database."""
    if missing := _missing():
        pytest.fail(f"{' and '.join(missing)} must be set: the several-nodes tests run on PostgreSQL and "
                    "Redis, never SQLite (CI sets both in .ci/run)", pytrace=False)
    workdir = Path(tempfile.mkdtemp(prefix="beatbook-nodes-"))
    with running_cluster(os.environ["TEST_DATABASE_URL"], os.environ["TEST_REDIS_URL"], workdir) as started:
        yield started
    shutil.rmtree(workdir, ignore_errors=True)
