import pytest

from webapp.jobs import huey


@pytest.fixture
def queue():
    """This process's job queue, empty at the start (other tests leave jobs: nobody consumes them)."""
    huey.flush()
    yield huey
    huey.flush()
