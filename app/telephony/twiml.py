"""TwiML answers for the voice webhooks, built with the twilio SDK."""
from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

# Seconds the callee has to press the opt-out key after the safe-harbour message.
OPT_OUT_WAIT_SECONDS = 5


def join_room(room: str, *, label: str = "customer", end_on_exit: bool = False,
              start_on_enter: bool = True, wait_url: str = "",
              status_callback_url: str | None = None, after: str | None = None,
              time_limit: int | None = None) -> str:
    """Put this call into the conference `room` (an agent's own room, or a transfer's).

    The answered person joins the reserved agent's room, where the agent's leg already is:
    the bridge is the join. The person's leaving never ends the room (`end_on_exit`), the
    agent's does. A participant that does not `start_on_enter` waits, hearing `wait_url`,
    until one that does is there. `after` is said once the conference is over for this call."""
    response = VoiceResponse()
    dial = response.dial(time_limit=time_limit) if time_limit else response.dial()
    options = {}
    if wait_url:
        options["wait_method"] = "POST"
    if status_callback_url:
        options.update(status_callback=status_callback_url, status_callback_method="POST",
                       status_callback_event="start end join leave")
    dial.conference(room, start_conference_on_enter=start_on_enter, end_conference_on_exit=end_on_exit,
                    beep=False, wait_url=wait_url, participant_label=label, **options)
    if after:
        response.say(after)
    response.hangup()
    return str(response)


# An agent's leg lasts the session: Twilio's default <Dial> limit (4 hours) would cut it, and
# the person on the line with it, mid-shift. 12 hours needs the account's call length limit
# raised accordingly (README, "Agents' audio").
AGENT_LEG_TIME_LIMIT_SECONDS = 12 * 3600


def agent_room(room: str, status_callback_url: str) -> str:
    """The agent's leg into their own room for the whole session: silence between calls (no
    wait music), and the room ends when the agent's leg leaves it, taking any person with it."""
    return join_room(room, label="agent", end_on_exit=True, status_callback_url=status_callback_url,
                     time_limit=AGENT_LEG_TIME_LIMIT_SECONDS)


def keep_waiting(url: str, seconds: int = 1) -> str:
    """A wait URL's answer: silence, then ask again (only <Play>, <Say>, <Pause> and <Redirect>
    may answer a wait URL)."""
    response = VoiceResponse()
    response.pause(length=seconds)
    response.redirect(url, method="POST")
    return str(response)


def say_only(message: str) -> str:
    """A wait URL's answer that speaks (it cannot hang up or gather)."""
    response = VoiceResponse()
    response.say(message)
    return str(response)


def _back_home(response: VoiceResponse, home: str, status_callback_url: str) -> None:
    """Once a staff leg's visit to another room is over, it goes back into its own room, as
    `agent_room` put it there."""
    home_dial = response.dial(time_limit=AGENT_LEG_TIME_LIMIT_SECONDS)
    home_dial.conference(home, start_conference_on_enter=True, end_conference_on_exit=True,
                         beep=False, wait_url="", participant_label="agent",
                         status_callback=status_callback_url, status_callback_method="POST",
                         status_callback_event="start end join leave")
    response.hangup()


def consult_then_home(room: str, home: str, status_callback_url: str) -> str:
    """An agent's leg consulted on a warm transfer: into the other agent's `room` (its leaving
    never ends that room), and once that is over for it, back into its own `home` room."""
    response = VoiceResponse()
    dial = response.dial()
    dial.conference(room, start_conference_on_enter=True, end_conference_on_exit=False,
                    beep=False, wait_url="", participant_label="consulted-agent")
    _back_home(response, home, status_callback_url)
    return str(response)


def monitor_then_home(room: str, home: str, status_callback_url: str, *, muted: bool,
                      coach: str | None = None) -> str:
    """A supervisor's leg into an agent's `room` to listen (`muted`), whisper (`coach`: the
    agent's CallSid, the only one who hears them) or barge (neither). Its leaving never ends
    that room, and it never starts one (an agent's room that has just ended is not made anew
    around the supervisor). Once that room is over for the leg, it goes back to its own `home`
    room, as it came."""
    response = VoiceResponse()
    dial = response.dial()
    options = {"coach": coach} if coach else {}
    dial.conference(room, start_conference_on_enter=False, end_conference_on_exit=False,
                    beep=False, wait_url="", muted=muted, participant_label="monitor", **options)
    _back_home(response, home, status_callback_url)
    return str(response)


# Twilio's own public hold music; HOLD_MUSIC_URL replaces it.
DEFAULT_HOLD_MUSIC_URL = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"


def hold_music(music_url: str) -> str:
    """What a person on hold hears: a word that they are held, then music until resumed."""
    response = VoiceResponse()
    response.say("Please hold. Your call will continue in a moment.")
    response.play(music_url, loop=0)
    return str(response)


def accept_prompt(message: str, action_url: str, *, timeout: int = 10) -> str:
    """A phone agent's first words: press a key to accept (a voicemail presses none)."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, action=action_url, method="POST",
                             timeout=timeout)
    gather.say(message)
    response.say("No key was pressed. Goodbye.")
    response.hangup()
    return str(response)


def dial_number(number: str, caller_id: str, *, timeout: int = 30,
                action_url: str | None = None) -> str:
    """Hand this call to an outside number (a cold transfer). With `action_url` the carrier
    posts the outcome there (DialCallStatus) and plays the TwiML it answers."""
    response = VoiceResponse()
    options = {"action": action_url, "method": "POST"} if action_url else {}
    response.dial(number, caller_id=caller_id, timeout=timeout, **options)
    response.hangup()
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


def voicemail(message: str, opt_out_action_url: str | None, record_action_url: str,
              recording_status_callback_url: str, *, max_length: int, nothing_heard: str) -> str:
    """A message, then a voicemail after the beep, then goodbye.

    With `opt_out_action_url` the message is said inside a <Gather>: the opt-out key pressed
    during it (or in the seconds after) goes there instead. The recording ends on silence, the
    # key or `max_length` seconds; the carrier then posts it to `record_action_url` and plays
    what that answers. An empty recording is never posted: the call goes on to `nothing_heard`.
    """
    response = VoiceResponse()
    if opt_out_action_url:
        gather = response.gather(input="dtmf", num_digits=1, action=opt_out_action_url, method="POST",
                                 timeout=OPT_OUT_WAIT_SECONDS)
        gather.say(message)
    else:
        response.say(message)
    response.record(action=record_action_url, method="POST", max_length=max_length, play_beep=True,
                    finish_on_key="#", timeout=5, recording_status_callback=recording_status_callback_url,
                    recording_status_callback_method="POST", recording_status_callback_event="completed absent")
    response.say(nothing_heard)
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


def play_and_hangup(audio_url: str) -> str:
    response = VoiceResponse()
    response.play(audio_url)
    response.hangup()
    return str(response)


# Seconds of quiet after speech that end the wait for an answering machine's greeting to finish.
QUIET_SECONDS = 2


def after_quiet(url: str, *, wait_for_speech: int = 3) -> str:
    """Listen (speech, nothing kept) until the line goes quiet, then ask `url` again: the way to
    find a greeting's end when the carrier's machine detection cannot. A line already quiet for
    `wait_for_speech` seconds goes straight on."""
    response = VoiceResponse()
    response.gather(input="speech", speech_timeout=QUIET_SECONDS, timeout=wait_for_speech,
                    action=url, method="POST")
    response.redirect(url, method="POST")
    return str(response)


def enqueue(queue: str, wait_url: str, action_url: str) -> str:
    """Put a caller into the carrier's queue `queue`: the wait URL is asked what they hear
    (again each time its answer has played) until it answers <Leave/>, then the action URL is
    asked what follows (it also hears of a hang-up: QueueResult)."""
    response = VoiceResponse()
    response.enqueue(queue, wait_url=wait_url, wait_url_method="POST", action=action_url, method="POST")
    return str(response)


def leave_queue() -> str:
    """A wait URL's answer taking the caller out of the queue (to the Enqueue's action URL)."""
    response = VoiceResponse()
    response.leave()
    return str(response)


def queue_hold(words: list[str], pause_seconds: int) -> str:
    """A wait URL's answer: what the caller is told, if anything, then a short silence (the wait
    URL is asked again after it)."""
    response = VoiceResponse()
    for said in words:
        response.say(said)
    response.pause(length=pause_seconds)
    return str(response)
