"""What happens to people that other features react to (blinker signals; see docs/architecture.md)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the User who was just disabled (inside the request's transaction): whatever a feature
# keeps to reach them (push devices, sessions) must stop working.
person_disabled = _signals.signal("person-disabled")
