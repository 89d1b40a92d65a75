"""The station and officer the sign-in tests share."""

from __future__ import annotations

import pytest

from tests.factories import commit, make_station, make_user
from webapp.org.models import Role


@pytest.fixture
def station(app_ctx):
    station = make_station()
    commit()
    return station


@pytest.fixture
def officer(station):
    user = make_user(station, Role.OFFICER, username="wang")
    commit()
    return user
