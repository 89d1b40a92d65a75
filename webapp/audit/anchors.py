"""Anchors: the chain's head, copied outside the database.

The hash chain shows any edit that leaves a later entry in place. Someone with write access to
the database could still rewrite the newest entries and recompute every hash after them, or
delete the tail and move the head back. An anchor — (position, hash) of the head at a moment —
kept where the database's users cannot write (a file on the job worker's disk, and the log,
which production ships elsewhere) makes both visible: the entry at an anchored position must
still have the anchored hash, and the chain must still reach the newest anchor.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app

from webapp.audit.models import AuditChainHead
from webapp.audit.services import HEAD_ID
from webapp.extensions import db
from webapp.jobs import sweep_step
from webapp.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str  # when it was written (ISO 8601, UTC)


class AnchorFileError(Exception):
    """The anchor file is unreadable: verifying against it would prove nothing."""


def anchor_file() -> Path | None:
    """Where anchors are kept (BEATBOOK_AUDIT_ANCHORS); None when anchoring is off."""
    setting = current_app.config.get("BEATBOOK_AUDIT_ANCHORS")
    return Path(setting) if setting else None


def read_anchors(path: Path) -> list[Anchor]:
    if not path.exists():
        return []
    anchors = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                anchors.append(Anchor(int(row["seq"]), str(row["hash"]), str(row["at"])))
            except (ValueError, KeyError, TypeError) as error:
                raise AnchorFileError(f"{path}, line {number}: {error}") from error
    return anchors


def write_anchor(path: Path) -> Anchor | None:
    """Append the current head, unless it has not moved since the last anchor."""
    head = db.session.get(AuditChainHead, HEAD_ID)
    if head is None or head.seq == 0:
        return None
    known = read_anchors(path)
    if known and known[-1].seq == head.seq:
        return None
    anchor = Anchor(head.seq, head.last_hash, utcnow().isoformat())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:  # append only; fsync: an anchor must outlive a crash
        out.write(json.dumps({"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at}) + "\n")
        out.flush()
        os.fsync(out.fileno())
    log.info("audit anchor seq=%d hash=%s", anchor.seq, anchor.hash)
    return anchor


@sweep_step("audit_anchored")
def anchor_head(stale_after: timedelta) -> int:
    path = anchor_file()
    return 1 if path is not None and write_anchor(path) is not None else 0
