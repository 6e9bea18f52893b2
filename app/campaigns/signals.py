"""What changes to a campaign announce to the features that act on them.

`assignment_ended` is sent, after the change is committed, for each person taken off a
campaign: sender the campaign's id, keyword arguments `user_id` and `role` ("agent" or
"supervisor"). Agents subscribe: an agent working the campaign is signed off it at once.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

assignment_ended = _signals.signal("assignment-ended")
