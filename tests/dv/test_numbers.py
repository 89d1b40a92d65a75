"""Letter numbers: one sequence per station and year that never repeats and never skips — 50 letters
issued at once, each in its own session, get 50 consecutive numbers; an issue that fails after
taking its number gives it back (its transaction rolls back), so the next letter takes it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.dv.conftest import DAYS, issued_letter, letter_input, make_dv_lead
from tests.factories import make_community, make_station, make_user
from webapp.dv.models import LetterStatus, WarningLetter
from webapp.dv.services import decide_letter, issue_letter, request_letter
from webapp.extensions import db
from webapp.org.models import Role, Station, User

CONCURRENT = 50


def _issued_numbers(station: Station) -> list[int]:
    return sorted(
        db.session.scalars(
            select(WarningLetter.number_seq).where(
                WarningLetter.station_id == station.id, WarningLetter.status == LetterStatus.ISSUED.value
            )
        )
    )


def test_fifty_letters_issued_at_once_get_fifty_consecutive_numbers(app, cast):
    ids = []
    for _ in range(CONCURRENT):
        letter = request_letter(cast.dvteam, cast.lead, letter_input())
        decide_letter(cast.supervisor, letter, approve=True)
        ids.append(letter.id)
    db.session.commit()
    issuer_id, start, errors = cast.dvteam.id, threading.Barrier(CONCURRENT), []

    def issue(letter_id: int) -> None:
        with app.app_context():  # its own session, its own connection
            try:
                start.wait()
                issue_letter(db.session.get(User, issuer_id), db.session.get(WarningLetter, letter_id), DAYS)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(letter_id,)) for letter_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert _issued_numbers(cast.station) == list(range(1, CONCURRENT + 1))
    letters = db.session.scalars(select(WarningLetter).where(WarningLetter.id.in_(ids))).all()
    assert len({letter.number for letter in letters}) == CONCURRENT
    assert all(letter.pdf_sha256 and len(letter.followups) == len(DAYS) for letter in letters)


def test_an_issue_that_fails_midway_leaves_no_gap(cast):
    """Two corrections of one letter, both approved: the second issue takes a number, then the
    database refuses a second issued correction — the whole issue, number included, rolls back."""
    first = issued_letter(cast)
    corrections = []
    for name in ("张伟（更正一）", "张伟（更正二）"):
        correction = request_letter(cast.dvteam, cast.lead, letter_input(abuser_name=name))
        correction.supersedes = first  # two requested before either was issued
        decide_letter(cast.supervisor, correction, approve=True)
        corrections.append(correction.id)
    db.session.commit()
    issue_letter(cast.dvteam, db.session.get(WarningLetter, corrections[0]), DAYS)
    db.session.commit()
    assert _issued_numbers(cast.station) == [1, 2]

    with pytest.raises(IntegrityError):
        issue_letter(cast.dvteam, db.session.get(WarningLetter, corrections[1]), DAYS)
    db.session.rollback()
    failed = db.session.get(WarningLetter, corrections[1])
    assert failed.status == LetterStatus.APPROVED and failed.number_seq is None and failed.pdf_sha256 == ""

    later = issued_letter(cast)  # the next letter takes the number the failed issue gave back
    assert later.number_seq == 3
    assert _issued_numbers(cast.station) == [1, 2, 3]


def test_numbers_are_per_station(cast):
    here = issued_letter(cast)
    other = make_station("DV-PS2")
    team = make_user(other, Role.DV_TEAM)
    chief = make_user(other, Role.SUPERVISOR)
    officer = make_user(other, Role.OFFICER)
    lead = make_dv_lead(other, team, make_community(other, officer=officer))
    letter = request_letter(team, lead, letter_input())
    decide_letter(chief, letter, approve=True)
    issue_letter(team, letter, DAYS)
    db.session.commit()
    assert here.number_seq == 1 and letter.number_seq == 1
