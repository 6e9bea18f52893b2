"""TwiML answers for the voice webhooks, built with the twilio SDK."""
from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

# Seconds the callee has to press the opt-out key after the safe-harbour message.
OPT_OUT_WAIT_SECONDS = 5


def bridge_to_conference(conference_name: str, agent_identity: str | None = None, *,
                         start_conference_on_enter: bool = True,
                         end_conference_on_exit: bool = True,
                         beep: bool = False,
                         wait_url: str = "",
                         status_callback_url: str | None = None) -> str:
    """Put the answered callee into the conference named for the call.

    The agent joins the same conference from the browser. With
    ``agent_identity`` the agent's browser client is rung instead of waiting
    for it to join: the callee is bridged straight to that agent.
    """
    response = VoiceResponse()
    dial = response.dial()
    if agent_identity:
        dial.client(agent_identity)
        return str(response)
    options = {}
    if status_callback_url:
        options.update(status_callback=status_callback_url, status_callback_method="POST",
                       status_callback_event="start end join leave")
    dial.conference(conference_name,
                    start_conference_on_enter=start_conference_on_enter,
                    end_conference_on_exit=end_conference_on_exit,
                    beep=beep, wait_url=wait_url, participant_label="callee", **options)
    return str(response)


def safe_harbour(message: str, opt_out_action_url: str, *,
                 timeout: int = OPT_OUT_WAIT_SECONDS) -> str:
    """The abandoned-call message with a keypress opt-out, then hang up.

    ``message`` must name the seller, give a call-back number and announce the
    opt-out key; a key pressed during or after it is posted to the action URL.
    """
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, action=opt_out_action_url,
                             method="POST", timeout=timeout)
    gather.say(message)
    response.hangup()
    return str(response)


def say_and_hangup(message: str) -> str:
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
