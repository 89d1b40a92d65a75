"""What happens in the DV task force's work, for others (and the feature's own alerts) to react to.
Sent inside the transaction that made the change; receivers add to the session, never commit."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the WarningLetter just issued. kwargs: actor, at.
letter_issued = _signals.signal("dv-letter-issued")
# sender: the FollowUp that found violence again. kwargs: actor, at.
violence_recurred = _signals.signal("dv-violence-recurred")
