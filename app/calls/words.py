"""A call in people's words: how it ended, how it was placed.

calls.outcome holds the carrier's words ("no-answer", "human"); screens, exports and histories
show these instead.
"""
from __future__ import annotations

from app.calls.models import Call

# How a call ended, as the floor says it (calls.outcome holds the carrier's words).
OUTCOME_WORDS = {
    "human": "Answered by a person",
    "machine": "Answering machine",
    "no-answer": "No answer",
    "busy": "Busy",
    "failed": "Could not be placed",
    "canceled": "Cancelled before answer",
}
KIND_WORDS = {"auto": "Dialled by the dialer", "preview": "Preview call", "manual": "Dialled by hand",
              "inbound": "Called us"}
DIRECTION_WORDS = {"outbound": "Outbound (we called)", "inbound": "Inbound (they called us)"}


WITHHELD_WORDS = "Withheld"


def person_number(call: Call) -> str:
    """The person's number: the one we called, or the caller's on a call to our numbers
    ("Withheld" when they withheld it: never our own number, which would read as theirs)."""
    if call.direction == "inbound":
        return call.from_number if call.from_number.startswith("+") else WITHHELD_WORDS
    return call.to_number


def our_number(call: Call) -> str:
    """Our number on the call: the caller ID we showed, or the number they called."""
    return call.to_number if call.direction == "inbound" else call.from_number


def outcome_words(call: Call) -> str:
    """One phrase for how the call ended; an abandoned call says so (the law counts it)."""
    if call.abandoned:
        return "Answered, no agent free (abandoned)"
    if call.outcome:
        return OUTCOME_WORDS.get(call.outcome, call.outcome.replace("-", " ").capitalize())
    return "In progress" if call.ended_at is None else "Ended"
