"""Sealed outbox items (DV and minor cases encrypted on the phone) through POST /sync: the server
opens them with its private key; a damaged or foreign one is answered `invalid`, alone."""

from __future__ import annotations

import base64
import json
import os
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import commit, make_community, make_station, make_user
from webapp.extensions import db
from webapp.leads.models import Lead
from webapp.org.models import Role
from webapp.sync.sealing import seal_keys

SUMMARY = "李秀兰反映丈夫酒后殴打，电话13955120001"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _seal(item: dict, public_key) -> dict:
    """What static/js/offline.js does: AES-GCM with the uuid bound in, key wrapped with RSA-OAEP."""
    content_key = AESGCM.generate_key(bit_length=256)
    box = AESGCM(content_key)
    aad = item["uuid"].encode()
    iv = os.urandom(12)
    data = box.encrypt(iv, json.dumps({"fields": item["fields"]}).encode(), aad)
    wrapped = public_key.encrypt(content_key, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                           algorithm=hashes.SHA256(), label=None))
    return {"uuid": item["uuid"], "kind": item["kind"], "fields": {"uuid": item["uuid"]}, "photos": [],
            "sealed": {"key": _b64(wrapped), "iv": _b64(iv), "data": _b64(data)}}


def _report(community_id: int, summary: str = SUMMARY) -> dict:
    item_uuid = str(uuid.uuid4())
    return {"uuid": item_uuid, "kind": "lead.report", "photos": [], "fields": {
        "uuid": item_uuid, "category": "marriage_family", "community_id": str(community_id),
        "summary": summary, "flag_dv": "y", "recorded_at": "2026-11-30T08:00:00+00:00"}}


def _signed_in(client):
    station = make_station()
    officer = make_user(station, Role.OFFICER, username="oa")
    community = make_community(station, officer=officer)
    make_user(station, Role.VOLUNTEER, username="va", community=community)
    commit()
    Browser(client).login("va")
    return community, client.get("/sync/session").get_json()["csrf"]


def test_a_sealed_report_is_opened_and_stored_like_any_other(client):
    community, token = _signed_in(client)
    sealed = _seal(_report(community.id), seal_keys().private_key.public_key())
    assert SUMMARY not in json.dumps(sealed, ensure_ascii=False)
    response = client.post("/sync", json={"items": [sealed]}, headers={"X-CSRFToken": token})
    assert response.get_json()["results"][0]["status"] == "created", response.get_json()
    lead = db.session.scalars(select(Lead).where(Lead.uuid == sealed["uuid"])).one()
    assert lead.summary == SUMMARY and lead.flag_dv


def test_damaged_or_foreign_sealed_items_are_invalid_alone(client):
    community, token = _signed_in(client)
    public_key = seal_keys().private_key.public_key()
    damaged = _seal(_report(community.id), public_key)
    data = bytearray(base64.b64decode(damaged["sealed"]["data"]))
    data[0] ^= 1
    damaged["sealed"]["data"] = _b64(bytes(data))
    foreign = _seal(_report(community.id), rsa.generate_private_key(65537, 2048).public_key())
    swapped = _seal(_report(community.id), public_key)
    swapped["uuid"] = str(uuid.uuid4())  # sealed for another item: the uuid is bound in
    not_base64 = {**_seal(_report(community.id), public_key), "sealed": {"key": "%%%", "iv": 1, "data": None}}
    good = _report(community.id, "楼道堆物纠纷（未加密）")
    good["fields"].pop("flag_dv")
    response = client.post("/sync", json={"items": [damaged, foreign, swapped, not_base64, good]},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["invalid"] * 4 + ["created"]
    assert all(r["errors"]["_form"] for r in results[:4])
    stored = db.session.scalar(select(Lead.summary).where(Lead.uuid == good["uuid"]))
    assert stored == "楼道堆物纠纷（未加密）"
    assert db.session.scalar(select(Lead.id).where(Lead.summary == SUMMARY)) is None
