from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass

import pytest

from tests.factories import commit, make_community, make_grid, make_station, make_user
from webapp.leads.codes import Source
from webapp.leads.deadlines import parse_deadlines
from webapp.leads.models import Lead
from webapp.leads.services import LeadInput, register_lead
from webapp.org.models import Community, Grid, Role, Station, User

DEADLINES = parse_deadlines("red=24h,orange=5d,yellow=30d,blue=30d")
MAX_PHOTO = 5_000_000


@dataclass
class FeedWorld:
    station: Station
    community: Community
    grid: Grid
    officer: User
    volunteer: User
    liaison: User
    supervisor: User
    admin: User

    def lead(self, **fields) -> Lead:
        fields.setdefault("source", Source.VOLUNTEER)
        fields.setdefault("category", "neighbour")
        fields.setdefault("summary", "邻里噪音纠纷")
        fields.setdefault("community", self.community)
        return register_lead(self.volunteer, LeadInput(**fields), DEADLINES, MAX_PHOTO).lead


@pytest.fixture
def feed_world(app_ctx) -> FeedWorld:
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="officer")
    community = make_community(station, "NA", officer=officer)
    grid = make_grid(community, "NA-G1")
    world = FeedWorld(station, community, grid, officer,
                      make_user(station, Role.VOLUNTEER, username="vol", community=community),
                      make_user(station, Role.LIAISON, username="liaison"),
                      make_user(station, Role.SUPERVISOR, username="chief"),
                      make_user(station, Role.ADMIN, username="admin"))
    commit()
    return world


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def random_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def random_mobile(rng: random.Random) -> str:
    digits = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    style = rng.randrange(5)
    if style == 1:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 2:
        return f"+86-{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == 3:  # full-width digits
        return "".join(chr(ord(c) + 0xFEE0) for c in digits)
    if style == 4:
        return f"+86{digits}"
    return digits


def random_landline(rng: random.Random) -> str:
    return f"0{rng.randint(10, 999)}-{rng.randint(1000000, 99999999)}"


def random_id(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(17))
    return body + rng.choice("0123456789Xx")


def random_card(rng: random.Random) -> str:
    digits = "62" + "".join(rng.choice("0123456789") for _ in range(rng.randint(14, 17)))
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4)) if rng.random() < 0.5 else digits


PLAIN_KEYS = {"ref", "compartment", "category", "subtype", "source", "community", "grid", "received_on",
              "closed_on", "status", "risk", "outcome", "summary"}
SEALED_KEYS = {"ref", "compartment", "received_on", "status"}
NUMBER = re.compile(r"\d(?:[\s.\-]?\d){6,}")


def _norm(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def assert_deidentified(record: dict, planted: list[str]) -> None:
    """The feed's check of one de-identified lead: only the allowed keys, none of the values planted
    in the lead (names, phones, IDs, address …), no long number anywhere."""
    text = json.dumps(record, ensure_ascii=False)
    for value in planted:
        assert value not in text and _norm(value) not in _norm(text), (value, text)
    if record["compartment"]:
        assert set(record) == SEALED_KEYS and record["ref"] is None
        assert record["compartment"] in {"domestic_violence", "minor"}
        return
    assert set(record) == PLAIN_KEYS
    assert re.fullmatch(r"[0-9a-f]{20}", record["ref"])
    for key, value in record.items():
        if key in {"ref", "received_on", "closed_on"} or value is None:
            continue
        assert not NUMBER.search(_norm(value)), (key, value)
