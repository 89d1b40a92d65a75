"""The one definition of "de-identified", checked over every record of a generated data set."""

from __future__ import annotations

import json
import random

from sqlalchemy import select

from tests.govfeed.conftest import (
    assert_deidentified,
    random_card,
    random_id,
    random_landline,
    random_mobile,
    random_name,
)
from webapp.extensions import db
from webapp.govfeed.deidentify import deidentify, scrub
from webapp.govfeed.models import FeedEntry
from webapp.leads.codes import Source
from webapp.leads.services import PartyInput


def test_no_forbidden_field_or_pattern_over_a_generated_set(feed_world):
    rng = random.Random(13)
    planted: dict[int, list[str]] = {}
    reporter = feed_world.volunteer
    for index in range(240):
        names = [random_name(rng) for _ in range(2)]
        phones = [random_mobile(rng), random_landline(rng)]
        ids = [random_id(rng), random_id(rng)[:15]]
        card = random_card(rng)
        address = f"幸福路{rng.randint(1, 300)}号{rng.randint(1, 30)}栋"
        stranger = random_name(rng)
        summary = (f"{names[0]}与{names[1]}因噪音争吵，{names[0]}电话{phones[0]}，座机 {phones[1]}，"
                   f"身份证{ids[0]}，旧证{ids[1]}，卡号{card}，住{address}。联系人：{stranger} 报警人 "
                   f"{reporter.display_name}")
        kind = index % 8
        lead = feed_world.lead(
            source=Source.POLICE_110, source_ref=f"110-{phones[0]}", summary=summary,
            subtype=names[1] if index % 5 == 0 else "noise", address=address,
            flag_dv=kind == 0, flag_minor=kind == 1, grid=feed_world.grid if index % 2 else None,
            parties=[PartyInput(role="party", name=names[0], phone=phones[0], id_number=ids[0],
                                relation=names[1]),
                     PartyInput(role="party", name=names[1], phone=phones[1], id_number=ids[1])])
        planted[lead.id] = [*names, *phones, *ids, card, address, stranger, reporter.display_name,
                            reporter.username, summary]
    db.session.commit()

    entries = list(db.session.scalars(select(FeedEntry)))
    assert len(entries) == 240  # one "registered" entry per lead
    for entry in entries:
        record = json.loads(entry.payload)
        assert record == deidentify(_lead(entry.lead_id))
        assert_deidentified(record, planted[entry.lead_id])
        if record["compartment"]:
            continue
        assert "联系人：[已隐去]" in record["summary"]
        assert record["community"] == "NA" and record["source"] == "police_110"
        assert record["subtype"] in {"noise", "other"}


def _lead(lead_id):
    from webapp.leads.models import Lead
    return db.session.get(Lead, lead_id)


def test_scrub_keeps_ordinary_words_and_short_numbers(app_ctx):
    assert scrub("3号楼2单元噪音，已调解", []) == "3号楼2单元噪音，已调解"
    assert scrub("姓名：张三，电话：138-0013-8000", []) == "姓名：[已隐去]，电话：[已隐去]"
    assert "8000" not in scrub("拨打 (010) 6552 8000", [])
    assert scrub("\x00王五\ud800", ["王五"]) == "[已隐去]"
