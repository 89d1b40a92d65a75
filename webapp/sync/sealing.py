"""Sealed outbox items: what a phone keeps about a domestic-violence or minor case is encrypted for
the server, and only the server can open it.

The phone encrypts such an item's fields and photos with a fresh AES-GCM key (the item's uuid as
associated data) and wraps that key with the station's RSA-OAEP public key, which the service
worker's config carries. The private key never leaves the server, so a copied or lost phone's
browser profile holds nothing readable of the case (docs/domain.md, privacy; docs/architecture.md).

Keys: `BEATBOOK_SEAL_PRIVATE_KEY` (PEM; every node the same), else generated once into instance/.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

KEY_FILE = "seal_private.pem"
KEY_BITS = 2048  # NIST-acceptable to 2030; generated in ~0.1 s on first use (3072: seconds on a busy node)
MAX_SEALED_CHARS = 4_000_000  # a sealed field set is small; photos travel beside it


@dataclass(frozen=True)
class SealKeys:
    private_key: rsa.RSAPrivateKey
    public_jwk: dict  # what the phone encrypts with (WebCrypto RSA-OAEP-256)


class SealError(ValueError):
    """The sealed item cannot be opened: damaged, or sealed for another key."""


def _b64url(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _generate(path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:  # several workers may start together: exactly one writes the key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


@cache
def _load(instance_path: str, pem_from_environment: str | None) -> SealKeys:
    pem = pem_from_environment
    if not pem:
        path = Path(instance_path) / KEY_FILE
        if not path.exists():
            _generate(path)
        pem = path.read_text()
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise RuntimeError("BEATBOOK_SEAL_PRIVATE_KEY must be an RSA private key")
    numbers = private_key.public_key().public_numbers()
    jwk = {"kty": "RSA", "alg": "RSA-OAEP-256", "ext": True, "key_ops": ["encrypt", "wrapKey"],
           "n": _b64url(numbers.n), "e": _b64url(numbers.e)}
    return SealKeys(private_key=private_key, public_jwk=jwk)


def seal_keys() -> SealKeys:
    return _load(current_app.instance_path, os.environ.get("BEATBOOK_SEAL_PRIVATE_KEY"))


def _bytes(value: object, what: str) -> bytes:
    if not isinstance(value, str) or len(value) > MAX_SEALED_CHARS * 2:
        raise SealError(what)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SealError(what) from error


def unseal(item: dict, keys: SealKeys) -> dict:
    """The item as the phone made it, fields and photos in the clear; an unsealed item unchanged.

    The envelope's plain fields (uuid, and a step's version, which the phone may change when the
    person resolves a conflict) are kept; the sealed ones are added to them.
    """
    sealed = item.get("sealed")
    if sealed is None:
        return item
    if not isinstance(sealed, dict) or not isinstance(item.get("uuid"), str):
        raise SealError("sealed")
    aad = item["uuid"].encode()
    try:
        content_key = keys.private_key.decrypt(
            _bytes(sealed.get("key"), "key"),
            padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
        box = AESGCM(content_key)
        opened = json.loads(box.decrypt(_bytes(sealed.get("iv"), "iv"), _bytes(sealed.get("data"), "data"),
                                        aad))
        photos = []
        for photo in item.get("photos") or []:
            if not isinstance(photo, dict):
                raise SealError("photo")
            plain = box.decrypt(_bytes(photo.get("iv"), "iv"), _bytes(photo.get("data"), "photo"), aad)
            kind = photo.get("type") or "image/jpeg"
            photos.append({"name": "photo.jpg", "type": kind, "data": base64.b64encode(plain).decode()})
    except (ValueError, InvalidTag, TypeError, RecursionError) as error:
        raise SealError("sealed") from error
    if not isinstance(opened, dict) or not isinstance(opened.get("fields"), dict):
        raise SealError("sealed")
    plain_fields = item.get("fields") if isinstance(item.get("fields"), dict) else {}
    opened_item = {key: value for key, value in item.items() if key != "sealed"}
    opened_item["fields"] = {**opened["fields"], **plain_fields}
    opened_item["photos"] = photos
    return opened_item
