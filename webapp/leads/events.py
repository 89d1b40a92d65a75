"""What happens to leads, for other features (and leads' own alerts) to react to.

Sent inside the transaction that made the change; receivers add to the same session and never
commit. See docs/architecture.md for how a feature subscribes.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the Lead, just registered, graded and routed. kwargs: routed (bool), at (datetime).
lead_registered = _signals.signal("lead-registered")
# sender: the Lead after a lifecycle step. kwargs: step (name), actor, from_status, detail (the
# timeline entry's detail), at. An assignment is the step "assign" (or "reopen", back to the assignee).
lead_stepped = _signals.signal("lead-stepped")
