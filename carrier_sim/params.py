"""The form parameters of each webhook, named and valued as Twilio sends them."""
from __future__ import annotations

import math
import time

from carrier_sim import geography
from carrier_sim.calls import API_VERSION, SimCall, rfc2822

# The CallStatus each requested StatusCallbackEvent reports.
EVENT_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}


def _call(call: SimCall) -> dict[str, str]:
    form = {"AccountSid": call.account_sid, "CallSid": call.sid,
            "From": call.from_, "To": call.to, "Caller": call.from_, "Called": call.to,
            "Direction": call.direction, "ApiVersion": API_VERSION}
    if call.caller is not None:  # a person who called one of our numbers: where they and it are
        form.update(geography.params(call.from_, call.to))
    return form


def status(call: SimCall, event: str) -> dict[str, str]:
    """A status callback; takes the call's next SequenceNumber."""
    form = _call(call)
    form.update(CallStatus=EVENT_STATUS.get(event, call.status),
                SequenceNumber=str(call.next_sequence()), Timestamp=rfc2822(time.time()),
                CallbackSource="call-progress-events")
    if call.answered_by:
        form["AnsweredBy"] = call.answered_by
    if event == "completed":
        form["CallDuration"] = str(call.duration or 0)
        form["Duration"] = str(math.ceil((call.duration or 0) / 60))  # billed minutes
    return form


def voice(call: SimCall, **extra: str) -> dict[str, str]:
    """The request for TwiML: the answer URL, a <Redirect>, a <Gather> action."""
    form = _call(call)
    form["CallStatus"] = call.status
    if call.answered_by and not call.async_amd:  # asynchronous: the verdict has its own callback
        form["AnsweredBy"] = call.answered_by
    form.update(extra)
    return form


def amd(call: SimCall) -> dict[str, str]:
    return {"AccountSid": call.account_sid, "CallSid": call.sid,
            "AnsweredBy": call.answered_by or "unknown",
            "MachineDetectionDuration": str(int(call.plan.amd * 1000))}
