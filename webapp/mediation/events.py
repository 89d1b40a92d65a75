"""What happens to mediation cases, for other features to react to.

Sent inside the transaction that made the change; receivers add to the same session and never
commit. Leads hear `case_concluded` (webapp/leads/mediation.py) and take the lead's resolve, fail
or transfer step: mediation never writes a lead's columns. This module imports nothing of ours, so
leads may import it (the one import leads has of mediation: see pyproject.toml's contracts).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the case id. kwargs: lead_id, outcome ("resolved" / "failed" / "transferred"), code (how
# resolved — a RESOLUTION code —, the route the parties were told — a FAILURE_ROUTE code —, or where
# it went — a TRANSFER_TARGET code), note, actor (User), at (datetime).
# A receiver that cannot apply the outcome raises; the conclusion is then refused as a whole.
case_concluded = _signals.signal("mediation-case-concluded")
# sender: the MediationSession just recorded. kwargs: named (the people on its panel), at.
session_recorded = _signals.signal("mediation-session-recorded")
