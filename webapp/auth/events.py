"""What happens to sign-in sessions that other features react to (blinker signals)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the User whose sessions ended (inside the request's transaction). Kwargs:
# `session_ids` — the sessions revoked now; `everywhere` — every session of the person except
# `kept` (None: all of them), including rows that predate this bookkeeping. Whatever a feature
# keeps per device (push subscriptions) must stop working for those sessions.
sessions_revoked = _signals.signal("sessions-revoked")
