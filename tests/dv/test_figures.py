"""dv_figures on a hand-made year: four DV households, letters issued in 2025 and 2026 (one
corrected), deliveries, follow-ups done on time, late, not yet, and one that found violence again.
Every expected number is counted by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime

from tests.dv.conftest import DAYS, letter_input, make_dv_lead
from tests.factories import commit, make_community
from webapp.dv.figures import dv_figures
from webapp.dv.models import WarningLetter
from webapp.dv.services import (
    DeliveryInput,
    decide_letter,
    issue_letter,
    record_delivery,
    record_followup,
    request_letter,
)
from webapp.timeutil import STATION_TZ

YEAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=STATION_TZ)


def test_figures_on_a_known_year(cast):
    team, chief = cast.dvteam, cast.supervisor
    community = make_community(cast.station, officer=cast.officer)
    leads = [cast.lead] + [
        make_dv_lead(cast.station, cast.volunteer, community, f"家暴线索{n}") for n in (2, 3, 4)
    ]

    def issue(lead, when: datetime, supersedes: WarningLetter | None = None) -> WarningLetter:
        letter = request_letter(team, lead, letter_input(), supersedes)
        decide_letter(chief, letter, approve=True)
        return issue_letter(team, letter, DAYS, now=when)

    def deliver(letter, recipient: str, when: datetime, outcome: str = "signed") -> None:
        record_delivery(
            team,
            letter,
            DeliveryInput(recipient=recipient, method="in_person", outcome=outcome, recorded_at=when),
        )

    def visit(letter, index: int, when: datetime, recurred: bool = False) -> None:
        record_followup(team, letter.followups[index], recurred, "查访记录", recorded_at=when)

    # Household 1: letter A on 1 Mar (follow-ups 8 Mar, 31 Mar, 30 May), corrected by A' on 5 Mar.
    a = issue(leads[0], at(3, 1))
    deliver(a, "abuser", at(3, 2))
    deliver(a, "victim", at(3, 2))
    deliver(a, "committee", at(3, 3))  # a notification, not a delivery
    issue(leads[0], at(3, 5), supersedes=a)
    visit(a, 0, at(3, 8))
    visit(a, 1, at(3, 30))
    visit(a, 2, at(5, 30))
    # Household 2: letter B on 1 Apr (8 Apr, 1 May, 30 Jun); the first visit late and violence again.
    b = issue(leads[1], at(4, 1))
    deliver(b, "abuser", at(4, 2), outcome="refused")
    visit(b, 0, at(4, 10), recurred=True)
    visit(b, 1, at(4, 30))
    visit(b, 2, at(6, 29))
    # Household 3: letter C on 15 Sep (22 Sep, 15 Oct, 14 Dec): only the first visit done.
    c = issue(leads[2], at(9, 15))
    visit(c, 0, at(9, 22))
    refused = request_letter(team, leads[2], letter_input())
    decide_letter(chief, refused, approve=False, reason="重复申请")
    approved = request_letter(team, leads[2], letter_input())
    decide_letter(chief, approved, approve=True)  # approved, never issued: not a letter yet
    # Household 4: letter D on 20 Dec 2025 (27 Dec 2025, 19 Jan, 20 Mar 2026); the last visit late.
    d = issue(leads[3], at(12, 20, 2025))
    deliver(d, "victim", at(12, 21, 2025))
    visit(d, 0, at(12, 27, 2025))
    visit(d, 1, at(1, 19))
    visit(d, 2, at(3, 25))
    commit()

    figures = dv_figures(cast.station, YEAR_2026)
    assert figures.letters_issued == 4  # A, A', B, C (D is 2025's; the approved one is not issued)
    assert figures.deliveries_completed == 3  # A abuser, A victim, B abuser (refused); not the committee
    assert figures.followups_due == 11  # A 3, B 3, C 3, D 2 (19 Jan, 20 Mar)
    assert figures.followups_on_time == 7  # A 3, B 2 (8 Apr late), C 1, D 1 (20 Mar late)
    assert figures.households == 3  # 1, 2 and 4: last visit in 2026 and done; 3's last is not done
    assert figures.households_no_repeat == 2  # 1 and 4 (2 found violence again)
    assert figures.no_repeat_share == 2 / 3
    assert d.number_year == 2025 and a.number_year == 2026 and a.number_seq == 1

    only_2025 = dv_figures(cast.station, (date(2025, 1, 1), date(2025, 12, 31)))
    assert (
        only_2025.letters_issued,
        only_2025.deliveries_completed,
        only_2025.followups_due,
        only_2025.followups_on_time,
        only_2025.households,
        only_2025.no_repeat_share,
    ) == (1, 1, 1, 1, 0, None)
