"""Demo government feed: one pull token for the street office's system, with a published value
(demo only: a real token is random and shown once), and the demo leads' entries numbered.

Try it: `curl -H "Authorization: Bearer bbf_demo-street-office" http://localhost:5000/api/feed`.
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.govfeed.models import FeedToken
from webapp.govfeed.services import TOKEN_PREFIX, number_new_entries, token_hash
from webapp.org.models import Station, User

DEMO_TOKEN = TOKEN_PREFIX + "demo-street-office"


def load_demo_feed(station: Station, users: dict[str, User]) -> int:
    """Add the demo token if missing and number the entries; returns how many tokens were added."""
    added = 0
    if db.session.scalar(select(FeedToken.id).where(FeedToken.token_hash == token_hash(DEMO_TOKEN))) is None:
        db.session.add(FeedToken(station_id=station.id, name="街道综治中心（演示）",
                                 token_hash=token_hash(DEMO_TOKEN), prefix=DEMO_TOKEN[:12],
                                 created_by_id=users["liaison"].id))
        added = 1
    db.session.flush()
    number_new_entries()
    return added
