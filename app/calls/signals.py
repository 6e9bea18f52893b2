"""What the life of a call announces to the features that act on it.

`call_finished` is sent once per call, inside the transaction that moves it to a terminal
status (placement failures included), after the call's own facts are settled (its outcome, and
an answered call that never reached an agent marked abandoned). Receivers act in that same
transaction and must not commit: the dialer schedules the contact's next attempt and feeds the
pacer; interactions close the agent's talk and start their wrap-up.

    call_finished.send(call, outcome="human", at=datetime, unrouted=bool)

`unrouted`: a person answered and routing never ran for the call (it is abandoned now, and
nothing has reported that abandonment yet).
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

call_finished = _signals.signal("call-finished")

# Sent when a queued call may not be placed after all (a calling rule refused it at the
# instant the carrier was to be asked), before its never-sent row is removed, inside that
# transaction. Keyword arguments: contact (locked, or None), reason (a gate's code), at, and
# next_at (when the calling window next opens, or None).
placement_refused = _signals.signal("placement-refused")

# Sent when a person is about to be joined into an agent's room (the answer bridged, or a
# transfer handed over), after the call is committed as theirs and before the TwiML or redirect
# that joins them goes out. Receivers act at once (a monitoring session whose supervisor may not
# hear this call leaves the room first). Keyword arguments: agent_id.
call_bridged = _signals.signal("call-bridged")
