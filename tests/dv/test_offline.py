"""A delivery (with the photo of the signed receipt) and a follow-up visit recorded offline: kept
sealed on the phone (fields and photo encrypted for the server), sent through /sync, applied once —
a replay answers `duplicate` and stores nothing more. The pages' forms are marked to be sealed."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image
from sqlalchemy import func, select

from tests.dv.conftest import issued_letter
from webapp.dv.models import Delivery, FollowUp
from webapp.extensions import db
from webapp.sync.sealing import seal_keys

NOTE = "受害人称丈夫近期未再动手，已签收告诫书"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (240, 240, 230)).save(out, "JPEG")
    return out.getvalue()


def seal(kind: str, fields: dict, photos: list[bytes] = ()) -> dict:
    """What static/js/offline.js keeps: fields and photos under one fresh AES-GCM key (the uuid bound
    in), the key wrapped with the station's RSA-OAEP public key; in the clear only the uuid."""
    item_uuid = str(uuid.uuid4())
    key = AESGCM.generate_key(bit_length=256)
    box, aad = AESGCM(key), item_uuid.encode()
    iv = os.urandom(12)
    data = box.encrypt(iv, json.dumps({"fields": {**fields, "uuid": item_uuid}}).encode(), aad)
    sealed_photos = []
    for photo in photos:
        photo_iv = os.urandom(12)
        sealed_photos.append(
            {
                "name": "photo.jpg",
                "type": "image/jpeg",
                "iv": _b64(photo_iv),
                "data": _b64(box.encrypt(photo_iv, photo, aad)),
            }
        )
    wrapped = (
        seal_keys()
        .private_key.public_key()
        .encrypt(key, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    )
    return {
        "uuid": item_uuid,
        "kind": kind,
        "fields": {"uuid": item_uuid},
        "photos": sealed_photos,
        "sealed": {"key": _b64(wrapped), "iv": _b64(iv), "data": _b64(data)},
    }


def _send(browser, items: list[dict]) -> list[str]:
    token = browser.client.get("/sync/session").get_json()["csrf"]
    response = browser.client.post("/sync", json={"items": items}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [result["status"] for result in response.get_json()["results"]]


def test_sealed_delivery_and_follow_up_arrive_once(cast, make_client):
    letter = issued_letter(cast)
    followup = letter.followups[0]
    photo = _jpeg()
    delivery = seal(
        "dv.delivery",
        {
            "letter_id": str(letter.id),
            "recipient": "victim",
            "method": "in_person",
            "outcome": "signed",
            "note": NOTE,
            "recorded_at": "2026-11-30T08:00:00+00:00",
        },
        [photo],
    )
    visit = seal("dv.followup", {"followup_id": str(followup.id), "recurred": "no", "note": NOTE})
    outbox = json.dumps([delivery, visit], ensure_ascii=False)
    assert NOTE not in outbox and _b64(photo) not in outbox
    assert [delivery["fields"], visit["fields"]] == [{"uuid": delivery["uuid"]}, {"uuid": visit["uuid"]}]

    team = cast.browser(make_client(), "dvteam")
    assert _send(team, [delivery, visit]) == ["created", "created"]
    assert _send(team, [delivery, visit]) == ["duplicate", "duplicate"]  # the phone sent it again
    stored = db.session.scalars(select(Delivery)).one()
    assert stored.uuid == delivery["uuid"] and stored.note == NOTE and stored.recipient == "victim"
    assert stored.photo and stored.photo_sha256 == hashlib.sha256(stored.photo).hexdigest()
    db.session.refresh(followup)
    assert followup.uuid == visit["uuid"] and followup.done_by_id == cast.dvteam.id and followup.note == NOTE
    assert (
        db.session.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.done_at.is_not(None)))
        == 1
    )


def test_the_forms_are_sealed_on_the_phone(cast, make_client):
    letter = issued_letter(cast)
    team = cast.browser(make_client(), "dvteam")
    delivery_form = team.client.get(f"/dv/letters/{letter.id}/deliveries/new").get_data(as_text=True)
    assert 'data-client-record="dv.delivery"' in delivery_form and "data-sealed" in delivery_form
    followup_form = team.client.get(f"/dv/followups/{letter.followups[0].id}").get_data(as_text=True)
    assert 'data-client-record="dv.followup"' in followup_form and "data-sealed" in followup_form
    assert 'name="uuid"' in followup_form and 'name="recorded_at"' in followup_form
