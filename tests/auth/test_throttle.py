"""Sign-in throttling: atomic under parallel guesses, delays that grow, and no lock-out of the owner's
own phone by a stranger; unknown user names cost as much time as real ones (issue 10)."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from tests.conftest import Browser
from tests.factories import commit, make_station, make_user
from webapp.auth.models import LoginThrottle
from webapp.extensions import db
from webapp.org.models import Role


@pytest.fixture
def officer(app_ctx):
    station = make_station()
    user = make_user(station, Role.OFFICER, username="wang")
    commit()
    return user


def test_parallel_guesses_cannot_pass_the_limit(app, make_client, officer):
    limit = app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    guessers = [Browser(make_client()) for _ in range(12)]
    tokens = [g.token() for g in guessers]
    start, statuses = threading.Barrier(len(guessers)), []

    def guess(browser: Browser, token: str) -> None:
        start.wait()
        response = browser.client.post("/login", data={"username": "wang", "password": "wrong guess!",
                                                       "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(guessers, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Exactly `limit` guesses were checked against the password; the rest waited.
    assert sorted(statuses) == [422] * limit + [429] * (len(guessers) - limit)
    db.session.expire_all()
    assert db.session.get(LoginThrottle, "account:wang").failures == limit


def test_delays_grow_with_each_further_failure(app, person, officer):
    from datetime import timedelta

    from webapp.auth.services import ThrottlePolicy

    policy = ThrottlePolicy(5, 20, timedelta(minutes=15))
    delays = [policy.delay(n, 5) for n in range(4, 12)]
    assert delays[0] is None
    assert delays[1:] == sorted(delays[1:]) and delays[1] < delays[-1] <= timedelta(minutes=15)


def test_a_stranger_cannot_lock_the_owner_out_of_their_own_phone(app, make_client, officer):
    limit = app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    phone = Browser(make_client())
    phone.client.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    assert phone.login("wang").status_code == 303  # the phone is now known for this account
    phone.logout()

    stranger = Browser(make_client())
    stranger.client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    for _ in range(limit):
        stranger.login("wang", "wrong guess!")
    assert stranger.login("wang").status_code == 429  # the stranger waits, even with the password
    assert phone.login("wang").status_code == 303  # the owner's known phone does not


def test_unknown_user_names_take_as_long_as_real_ones(app, make_client, officer):
    """Regression: the password was only hashed for real users (8 ms vs 100-400 ms)."""
    saved = app.config["BEATBOOK_PASSWORD_METHOD"]
    app.config["BEATBOOK_PASSWORD_METHOD"] = "pbkdf2:sha256:150000"  # slow enough to measure
    try:
        station = officer.station
        make_user(station, Role.OFFICER, username="slowhash")
        commit()
        app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 1000
        app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ADDRESS"] = 1000

        def timed(username: str) -> float:
            """CPU time of the sign-in (the test client runs it in this thread): steady on a busy
            machine, where wall time is not."""
            browser = Browser(make_client())
            token = browser.token()
            begin = time.thread_time()
            browser.client.post("/login", data={"username": username, "password": "wrong guess!",
                                                "csrf_token": token})
            return time.thread_time() - begin

        pairs = [(timed("slowhash"), timed("nosuchperson")) for _ in range(7)]  # interleaved
        known = statistics.median(known for known, _ in pairs)
        unknown = statistics.median(unknown for _, unknown in pairs)
        print(f"median sign-in: known {known * 1000:.0f} ms, unknown {unknown * 1000:.0f} ms")
        assert unknown > known * 0.4  # without the dummy hash: under 0.1
    finally:
        app.config["BEATBOOK_PASSWORD_METHOD"] = saved
        app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 5
        app.config["BEATBOOK_LOGIN_MAX_FAILURES_PER_ADDRESS"] = 20
