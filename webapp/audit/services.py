from __future__ import annotations

import json

from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.org.models import User


def record(actor: User | None, action: str, object_type: str, object_id: int,
           address: str = "", **detail) -> AuditEntry:
    """Write an audit entry in the current unit of work (it commits with the request)."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None, action=action, object_type=object_type,
        object_id=object_id, address=address[:64],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "",
    )
    db.session.add(entry)
    return entry
