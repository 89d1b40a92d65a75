"""VAPID keys: from the environment (every node the same), or generated into `instance/` once."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid


@dataclass(frozen=True)
class VapidKeys:
    private_key: Vapid  # what pywebpush signs with (given a str, it would expect base64 DER, not PEM)
    public_key: str  # base64url uncompressed P-256 point: the browser's applicationServerKey
    subject: str


def _public_key(vapid: Vapid) -> str:
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def load_keys(instance_path: Path) -> VapidKeys:
    subject = os.environ.get("VAPID_SUBJECT", "mailto:beatbook-admin@localhost")
    pem = os.environ.get("VAPID_PRIVATE_KEY")
    if not pem:
        path = instance_path / "vapid_private.pem"
        if not path.exists():
            generated = Vapid()
            generated.generate_keys()
            try:  # several workers may start together: exactly one writes the key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(generated.private_pem())
        pem = path.read_text()
    vapid = Vapid.from_pem(pem.encode())
    return VapidKeys(private_key=vapid, public_key=_public_key(vapid), subject=subject)
