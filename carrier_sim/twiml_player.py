"""Plays a TwiML document on a simulated call, one verb at a time.

Every function here runs with the engine lock held. Time passes only through
``engine.later``, which drops the step if the call has moved on (hung up,
redirected, or a newer document started).
"""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from carrier_sim import media
from carrier_sim.calls import SimCall, new_sid

if TYPE_CHECKING:
    from carrier_sim.engine import CallEngine

MAX_LOOPS = 10
RECORD_BEEP_SECONDS = 0.5
MAX_RECORD_SECONDS = 3600.0  # <Record maxLength> default
DEFAULT_DIAL_TIME_LIMIT = 4 * 3600.0  # Twilio's <Dial timeLimit> default
DIAL_NOUNS = {"Client", "Conference", "Number", "Sip", "Queue", "Application"}


def start_document(engine: "CallEngine", call: SimCall, body: str, url: str | None) -> None:
    try:
        root = ET.fromstring(body.encode() if isinstance(body, str) else body)
    except ET.ParseError as exc:
        engine.application_error(call, f"invalid TwiML from {url}: {exc}")
        return
    if root.tag != "Response":
        engine.application_error(call, f"TwiML from {url} has no <Response> root")
        return
    if call.answered_at is None:  # a call to our number rings until its first TwiML is known
        first = root[0] if len(root) else None
        if first is not None and first.tag == "Reject":  # never answered, never billed
            engine.finish(call, "busy" if first.get("reason") == "busy" else "no-answer")
            return
        engine.answer_inbound(call)
    call.generation += 1  # a new document supersedes whatever was still pending
    Playback(engine, call, list(root), url).step()


def play_wait(engine: "CallEngine", call: SimCall, conference, body: str, url: str) -> None:
    """A wait URL's document: what it says is heard; a <Redirect> asks again once the rest has
    played, if the participant is still waiting."""
    try:
        root = ET.fromstring(body.encode() if isinstance(body, str) else body)
    except ET.ParseError:
        return
    seconds, again = 0.0, None
    for verb in root:
        if verb.tag in ("Say", "Play"):
            heard(call, verb)
            seconds += speech_seconds(engine, verb)
        elif verb.tag == "Pause":
            seconds += number(verb.get("length"), 1.0)
        elif verb.tag == "Redirect":
            again = _absolute((verb.text or "").strip() or url, url)
            break
    if again:
        generation = call.generation

        def ask_again() -> None:
            if (call.generation == generation and engine.conferences.where.get(call.sid) is conference
                    and conference.status == "init"):
                engine.fetch_wait(call, conference, again)

        engine.later(call, seconds, ask_again, generation=generation)


class Playback:
    def __init__(self, engine: "CallEngine", call: SimCall, verbs: list[ET.Element],
                 url: str | None):
        self.engine = engine
        self.call = call
        self.verbs = verbs
        self.url = url
        self.generation = call.generation
        self.index = 0

    def step(self) -> None:
        if self.index >= len(self.verbs):
            self.engine.finish(self.call, "completed", by="twiml")  # the end of TwiML hangs up
            return
        verb = self.verbs[self.index]
        self.index += 1
        handler = getattr(self, f"_verb_{verb.tag.lower()}", None)
        if handler is None:
            self.call.errors.append(f"unsupported verb <{verb.tag}> skipped")
            self.step()
        else:
            handler(verb)

    def _after(self, sim_seconds: float) -> None:
        self.engine.later(self.call, sim_seconds, self.step, generation=self.generation)

    # -- verbs ------------------------------------------------------------------------
    def _verb_say(self, verb: ET.Element) -> None:
        heard(self.call, verb)
        self._after(speech_seconds(self.engine, verb))

    def _verb_play(self, verb: ET.Element) -> None:
        if (verb.text or "").strip() and not verb.get("digits"):  # a file: fetched, as long as its audio
            loops = int(number(verb.get("loop"), 1.0)) or MAX_LOOPS
            media.play(self, _absolute(verb.text.strip(), self.url), loops)  # noted in call.played
            return
        self._after(speech_seconds(self.engine, verb))

    def _verb_pause(self, verb: ET.Element) -> None:
        self._after(number(verb.get("length"), 1.0))

    def _verb_hangup(self, verb: ET.Element) -> None:
        self.engine.finish(self.call, "completed", by="twiml")

    _verb_reject = _verb_hangup

    def _verb_redirect(self, verb: ET.Element) -> None:
        target = (verb.text or "").strip() or self.url
        self.engine.fetch_twiml(self.call, _absolute(target, self.url))

    def _verb_record(self, verb: ET.Element) -> None:
        """The caller hears the beep and speaks (or, not wanting to, hangs up: an empty
        recording, nothing posted); see _record_start for how the recording ends."""
        caller = self.engine.caller_of(self.call)
        beep = RECORD_BEEP_SECONDS if flag(verb, "playBeep", True) else 0.0
        if not caller.voicemail:
            self.engine.later(self.call, beep + RECORD_BEEP_SECONDS, self.engine.finish,
                              self.call, "completed", generation=self.generation)
            return
        self.engine.later(self.call, beep, self._record_start, verb, caller,
                          generation=self.generation)

    def _record_start(self, verb: ET.Element, caller) -> None:
        """The recording ends at maxLength, or as the caller ends it: hanging up (the action is
        still told, with Digits=hangup), pressing a finishOnKey key, or falling silent for
        `timeout` seconds (trimmed from the recording unless trim="do-not-trim")."""
        callback = verb.get("recordingStatusCallback")
        events = (verb.get("recordingStatusCallbackEvent") or "completed").replace(",", " ")
        recording = self.engine.recordings.start(
            self.call, channels=1, source="RecordVerb",
            callback=_absolute(callback, self.url) if callback else None,
            events=frozenset(events.split()))
        self.engine.stats.incr("record_verbs")
        action = _absolute(verb.get("action") or self.url, self.url)
        max_length = number(verb.get("maxLength"), MAX_RECORD_SECONDS) or MAX_RECORD_SECONDS
        silence = number(verb.get("timeout"), 5.0)
        speech, ends = caller.voicemail_seconds, caller.voicemail_ends
        keys = verb.get("finishOnKey", "1234567890*#")
        self.call.interrupt = lambda reason: self._record_interrupted(recording, action, reason)
        trimmed = verb.get("trim", "trim-silence") != "do-not-trim"
        if speech >= max_length:
            at, seconds, digits = max_length, max_length, None
        elif ends == "hangup":
            at, seconds, digits = speech, speech, "hangup"
        elif len(ends) == 1 and ends in keys:
            at, seconds, digits = speech, speech, ends
        else:  # the caller falls silent: `timeout` seconds of it end the recording
            at = speech + silence if silence > 0 else max_length
            seconds, digits = speech if trimmed else at, None
        self.engine.later(self.call, at, self._record_over, recording, action, seconds, digits,
                          generation=self.generation)

    def _record_over(self, recording, action: str | None, seconds: float,
                     digits: str | None) -> None:
        if digits == "hangup":  # the caller puts the phone down: the call ends, the action hears
            self.call.interrupt = lambda _: self._record_closed(recording, action, seconds, digits)
            self.engine.finish(self.call, "completed")
            return
        self.call.interrupt = None
        self.engine.complete_recording(recording, round(seconds))
        if digits:
            self.call.digits_pressed.append({"digits": digits, "at": time.time(), "verb": "Record"})
        if not recording.duration:  # an empty recording: no request, the next verb plays
            self.step()
            return
        self.call.generation += 1
        self.engine.fetch_twiml(self.call, action, **self._recording_form(recording, digits))

    def _record_interrupted(self, recording, action: str | None, reason: str) -> None:
        """The call ended (or was redirected) under the recording: it keeps what was said."""
        seconds = recording.recorded_seconds(self.engine.config.time_scale)
        self._record_closed(recording, action, seconds, "hangup" if reason == "hangup" else None)

    def _record_closed(self, recording, action: str | None, seconds: float,
                       digits: str | None) -> None:
        """After a hangup Twilio still tells the action (Digits=hangup); nothing it answers
        can be played."""
        self.engine.complete_recording(recording, round(seconds))
        if digits == "hangup" and recording.duration:
            self.engine.notify(self.call, action, self._recording_form(recording, digits),
                               "record-action")

    def _recording_form(self, recording, digits: str | None) -> dict[str, str]:
        form = {"RecordingUrl": recording.media_url(self.engine.public_base_url),
                "RecordingSid": recording.sid, "RecordingDuration": str(recording.duration or 0)}
        if digits:
            form["Digits"] = digits
        return form

    def _verb_enqueue(self, verb: ET.Element) -> None:
        wait_url = verb.get("waitUrl")
        action = _absolute(verb.get("action"), self.url) if verb.get("action") else None
        self.engine.queues.enqueue(
            self.call, (verb.text or "").strip(), action=action,
            wait_url=_absolute(wait_url, self.url) if wait_url else wait_url,
            on_leave=lambda form: self._left_queue(action, form))

    def _left_queue(self, action: str | None, form: dict[str, str]) -> None:
        """After <Leave/> (or a full queue): the action's TwiML, else the verbs after."""
        if action:
            self.call.generation += 1
            self.engine.fetch_twiml(self.call, action, **form)
        else:
            self.generation = self.call.generation
            self.step()

    def _verb_leave(self, verb: ET.Element) -> None:
        self.step()  # outside a queue's wait TwiML there is nothing to leave

    def _verb_gather(self, verb: ET.Element) -> None:
        for child in verb:
            heard(self.call, child)
        prompt = sum(speech_seconds(self.engine, child) if child.tag in ("Say", "Play")
                     else number(child.get("length"), 1.0) if child.tag == "Pause" else 0.0
                     for child in verb)
        wait = number(verb.get("timeout"), 5.0)
        talking = self._machine_talking_for() if "speech" in (verb.get("input") or "") else 0.0
        if talking > 0.0:
            # Speech recognition hears the greeting and ends when the line has been quiet for
            # speechTimeout ("auto": about a second), as Twilio does: the action gets what it
            # heard. (A line already quiet falls through after `timeout`, below.)
            quiet = verb.get("speechTimeout")
            quiet = 1.0 if quiet in (None, "auto") else number(quiet, 1.0)
            action = _absolute(verb.get("action") or self.url, self.url)
            self.engine.later(self.call, max(prompt, talking) + quiet, self._heard, action,
                              generation=self.generation)
            return
        digits = self.engine.keypress_for(self.call)
        if digits:
            num_digits = int(number(verb.get("numDigits"), len(digits)))
            digits = digits[:num_digits] if num_digits > 0 else digits
            press_at = min(self.engine.draw(self.engine.config.gather_delay_seconds),
                           prompt + wait)
            action = _absolute(verb.get("action") or self.url, self.url)
            self.engine.later(self.call, press_at, self._press, action, digits,
                              generation=self.generation)
        else:
            self._after(prompt + wait)  # no input: fall through to the next verb

    def _machine_talking_for(self) -> float:
        """Simulated seconds of an answering machine's greeting still to come (0: none, or a
        person, whose silence the simulator does not model)."""
        call = self.call
        if call.plan.outcome != "machine" or call.answered_at is None:
            return 0.0
        elapsed = (time.time() - call.answered_at) / self.engine.config.time_scale
        return max(0.0, self.engine.greeting(call) - elapsed)

    def _heard(self, action: str) -> None:
        self.engine.stats.incr("gather_posts")
        self.call.generation += 1  # the speech result ends the <Gather>
        self.engine.fetch_twiml(self.call, action, SpeechResult="(a recorded greeting)",
                                Confidence="0.5")

    def _press(self, action: str | None, digits: str) -> None:
        self.engine.stats.incr("gather_posts")
        self.call.digits_pressed.append({"digits": digits, "at": time.time(), "verb": "Gather"})
        self.call.generation += 1  # the keypress ends the <Gather>
        self.engine.fetch_twiml(self.call, action, Digits=digits, FinishedOnKey="")

    def _verb_dial(self, verb: ET.Element) -> None:
        nouns = [child for child in verb if child.tag in DIAL_NOUNS]
        if nouns and nouns[0].tag == "Conference":
            self._join_conference(nouns[0], verb)
            return
        if nouns:
            kind, dialled = nouns[0].tag.lower(), (nouns[0].text or "").strip()
        else:
            kind, dialled = "number", (verb.text or "").strip()
        action = _absolute(verb.get("action"), self.url) if verb.get("action") else None
        # A number forced busy / no-answer / failed (SimConfig.outcomes) is not put through:
        # as Twilio does, the Dial ends with that DialCallStatus, posted to its action URL
        # (whose TwiML plays next), or the verbs after <Dial> play.
        outcome = self.engine.config.outcomes.get(dialled) if kind == "number" else None
        if outcome in ("busy", "no-answer", "failed"):
            self.call.dial_attempts.append({"to": dialled, "status": outcome})
            config = self.engine.config
            ring = {"busy": self.engine.draw(config.busy_seconds),
                    "failed": self.engine.draw(config.fail_seconds),
                    "no-answer": number(verb.get("timeout"), 30.0)}[outcome]
            self.engine.later(self.call, ring, self._dial_over, action, outcome, 0,
                              generation=self.generation)
            return
        self.call.connected_to = f"{kind}:{dialled}"
        self.call.dial_attempts.append({"to": dialled, "status": "answered"})
        self.engine.stats.incr("dials_connected")
        talk = self.call.plan.talk
        limit = verb.get("timeLimit")
        if limit:
            talk = min(talk, number(limit, talk))
        if action:  # the callee hangs up: the action is told the Dial completed
            self.engine.later(self.call, talk, self._dial_over, action, "completed", talk,
                              generation=self.generation)
            return
        # When the callee hangs up the whole call ends; nothing after <Dial> runs.
        self.engine.later(self.call, talk, self.engine.finish, self.call, "completed",
                          generation=self.generation)

    def _dial_over(self, action: str | None, status: str, talked: float) -> None:
        if status == "completed":
            self.call.connected_to = None
        if action is None:
            self.step()
            return
        self.engine.stats.incr("dial_actions")
        self.call.generation += 1  # the action's TwiML replaces the rest of this document
        self.engine.fetch_twiml(self.call, action, DialCallStatus=status,
                                DialCallSid=new_sid("CA") if status == "completed" else "",
                                DialCallDuration=str(round(talked)))

    def _join_conference(self, noun: ET.Element, dial: ET.Element) -> None:
        """The call waits in the conference; when it is over for this call (the conference
        ends, or the call is removed) the verbs after <Dial> play. A person or an outside
        party hangs up after their talk time; a staff member's leg never hangs up by itself,
        but no leg outlives the <Dial>'s timeLimit (Twilio's default: 4 hours)."""
        self.engine.stats.incr("conference_joins")
        self.engine.conferences.join(self.call, noun, on_leave=lambda: self._after(0.0))
        limit = number(dial.get("timeLimit"), DEFAULT_DIAL_TIME_LIMIT)
        talk = limit if self.call.party == "staff" else min(self.call.plan.talk, limit)
        self.engine.later(self.call, talk, self.engine.finish, self.call, "completed",
                          generation=self.generation)



def heard(call: SimCall, verb: ET.Element) -> None:
    """Note what a <Say> or <Play> gave the callee to hear."""
    if verb.tag == "Say":
        call.said.append((verb.text or "").strip())
    elif verb.tag == "Play" and not verb.get("digits"):  # not fetched here (hold music, a prompt)
        call.played.append({"url": (verb.text or "").strip(), "status": None, "seconds": None,
                            "at": time.time()})


def speech_seconds(engine: "CallEngine", verb: ET.Element) -> float:
    """How long a <Say> or <Play> lasts, its loops counted."""
    loops = int(number(verb.get("loop"), 1.0)) or MAX_LOOPS
    if verb.tag == "Say":
        once = max(1.0, len((verb.text or "").split()) * engine.config.say_seconds_per_word)
    elif verb.tag == "Play" and verb.get("digits"):
        once = 0.5 * len(verb.get("digits"))
    else:
        once = engine.draw(engine.config.play_seconds)
    return once * min(loops, MAX_LOOPS)


def flag(verb: ET.Element, name: str, default: bool) -> bool:
    value = verb.get(name)
    return default if value is None else value.strip().lower() == "true"


def number(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def _absolute(target: str | None, base: str | None) -> str | None:
    if not target or base is None:
        return target
    return urljoin(base, target)
