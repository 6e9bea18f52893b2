"""What an agent's handling of calls announces.

`agent_freed` is sent after a disposition is committed: the agent's talk and wrap-up of one
call are over. Keyword arguments: `at` (datetime) and `handle_seconds` (talk + wrap-up); the
sender is the campaign's id.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

agent_freed = _signals.signal("agent-freed")

# Sent when an agent's disposition is saved, inside its transaction just before the commit (the
# interaction carries its code, notes and times; receivers must not commit). Keyword arguments:
# interaction, disposition (the DispositionCode), contact (or None), campaign, callback (the
# Callback row scheduled by a callback code, or None), at.
disposition_saved = _signals.signal("disposition-saved")

# Sent when a voicemail left on our numbers schedules a callback (app.interactions.voicemails),
# inside its transaction before the commit. Keyword arguments: callback, contact, campaign,
# call_id (the call the voicemail was left on), at.
voicemail_callback = _signals.signal("voicemail-callback")
