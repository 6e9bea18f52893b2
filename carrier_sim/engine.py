"""The life of each simulated call, from queued to its final status."""
from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from carrier_sim.webhook_sender import Delivery, Stats, WebhookSender
from carrier_sim import params, twiml_player
from carrier_sim.calls import Caller, CallStore, Plan, SimCall, duration_seconds, new_sid
from carrier_sim.conferences import PERSON, STAFF, Conferences
from carrier_sim.config import SimConfig
from carrier_sim.queues import Queues
from carrier_sim.recordings import RecordingStore, SimRecording
from carrier_sim.scheduler import Scheduler

log = logging.getLogger("carrier_sim.engine")
AMD_TIMEOUT_SECONDS = 30.0  # Twilio's MachineDetectionTimeout default


class CallEngine:
    def __init__(self, config: SimConfig):
        self.config = config
        self.store = CallStore()
        self.lock = self.store.lock
        self.stats = Stats()
        self.scheduler = Scheduler()
        self.sender = WebhookSender(lambda: self.config, self.scheduler, self.stats,
                                    self.chance)
        self._rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()
        self._fetch_pool: ThreadPoolExecutor | None = None
        self.public_base_url = "http://127.0.0.1"
        self.conferences = Conferences(self)
        self.queues = Queues(self)
        self.recordings = RecordingStore()
        # What each of our numbers does with a call (IncomingPhoneNumbers update): number ->
        # {"voice_url", "voice_method", "status_callback", "status_callback_method", ...}.
        self.number_settings: dict[str, dict[str, str]] = {}

    # -- lifecycle of the engine -------------------------------------------------
    def start(self) -> None:
        self.scheduler.start()
        self.sender.start()
        self._fetch_pool = ThreadPoolExecutor(max(1, self.config.fetch_threads),
                                              thread_name_prefix="carrier-sim-fetch")

    def stop(self) -> None:
        self.scheduler.stop()
        self.sender.stop()
        if self._fetch_pool is not None:
            self._fetch_pool.shutdown(wait=False, cancel_futures=True)

    def update_config(self, changes: dict[str, Any]) -> SimConfig:
        config = self.config.updated(changes)
        if "seed" in changes:
            with self._rng_lock:
                self._rng.seed(config.seed)
        self.config = config
        return config

    # -- randomness ---------------------------------------------------------------
    def chance(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self._rng_lock:
            return self._rng.random() < probability

    def draw(self, bounds: tuple[float, float]) -> float:
        with self._rng_lock:
            return self._rng.uniform(*bounds)

    def _draw_outcome(self, to: str, from_: str | None = None) -> str:
        config = self.config
        forced = config.outcomes.get(to)
        if forced:
            return forced
        if to.startswith("client:") or to in config.agent_phones:
            return "human"  # an agent's browser, which answers by itself, or their phone
        weights = config.outcome_weights()
        rate = config.answer_rates.get(from_ or "")
        with self._rng_lock:
            if rate is not None:  # this caller ID's own person-answer rate (a spam label)
                if self._rng.random() < rate:
                    return "human"
                weights.pop("human")
                if sum(weights.values()) <= 0:
                    return "no-answer"
            return self._rng.choices(list(weights), weights=list(weights.values()))[0]

    def keypress_for(self, call: SimCall) -> str | None:
        if call.caller is not None:
            return call.caller.next_digits()
        config = self.config
        if call.to in config.agent_phones:
            return config.agent_phones[call.to] or None
        if call.to in config.keypresses:
            return config.keypresses[call.to] or None
        return config.keypress_digits if self.chance(config.keypress_probability) else None

    def settings_of(self, number: str) -> dict[str, str]:
        """What a call to one of our numbers does: its REST-set settings, else the voice URL
        the knobs give it."""
        settings = dict(self.number_settings.get(number, {}))
        if "voice_url" not in settings:
            urls = self.config.voice_urls
            url = urls.get(number) or urls.get("*")
            if url:
                settings["voice_url"] = url
        return settings

    def caller_of(self, call: SimCall) -> Caller:
        """The person's behaviour: an inbound caller's own, else drawn from the knobs."""
        if call.caller is not None:
            return call.caller
        config = self.config
        return Caller(patience=self.draw(config.caller_patience_seconds),
                      voicemail_seconds=self.draw(config.voicemail_seconds))

    # -- timing helpers -------------------------------------------------------------
    def later(self, call: SimCall, sim_seconds: float, fn: Callable[..., Any], *args: Any,
              generation: int | None = None) -> None:
        """Run ``fn(*args)`` after simulated seconds unless the call moved on."""
        expected = call.generation if generation is None else generation
        config = self.config
        if call.answered_at is not None:  # no call outlives max_call_seconds
            up = (time.time() - call.answered_at) / config.time_scale
            if sim_seconds > config.max_call_seconds - up:
                sim_seconds = max(0.0, config.max_call_seconds - up)
                fn, args = self.finish, (call, "completed")

        def run() -> None:
            with self.lock:
                if call.terminal or call.generation != expected:
                    return
                fn(*args)

        self.scheduler.call_later(sim_seconds * config.time_scale, run)

    # -- creating a call ----------------------------------------------------------
    def place(self, party: str | None = None, **fields: Any) -> SimCall:
        """A call the REST API created; `party` says who answers (default: by the number)."""
        config = self.config
        outcome = self._draw_outcome(fields["to"], fields.get("from_"))
        timeout = fields["timeout"]
        ring = {"busy": config.busy_seconds, "failed": config.fail_seconds,
                "no-answer": (timeout, timeout)}.get(outcome, config.ring_seconds)
        staff = fields["to"].startswith("client:") or fields["to"] in config.agent_phones
        if outcome == "human" and fields["to"].startswith("client:"):
            ring = config.client_ring_seconds
        elif staff:
            ring = config.agent_answer_seconds
        talk = config.machine_message_seconds if outcome == "machine" else config.talk_seconds
        with self._rng_lock:  # one acquisition for the whole plan
            uniform = self._rng.uniform
            plan = Plan(outcome=outcome, queue=uniform(*config.queue_seconds),
                        dial=uniform(*config.dial_seconds), ring=uniform(*ring),
                        talk=uniform(*talk), amd=uniform(*config.amd_seconds),
                        answer_delay=uniform(*config.answer_delay_seconds))
        if outcome in ("human", "machine") and plan.ring >= timeout:
            plan.outcome, plan.ring = "no-answer", float(timeout)
        call = SimCall(sid=new_sid("CA"), account_sid=config.account_sid, plan=plan, **fields)
        call.party = STAFF if staff else (party or call.party)
        call.set_status("queued", call.created_at)
        self.store.add(call)
        self.stats.incr("calls_created")
        self.later(call, plan.queue, self._initiate, call)
        return call

    def receive(self, from_: str, to: str, caller: Caller, talk: float | None = None) -> SimCall:
        """A person calls one of our numbers: the call rings while the number's voice URL is
        asked for TwiML, and is answered when that TwiML starts (unless it is <Reject>)."""
        config = self.config
        settings = self.settings_of(to)
        plan = Plan(outcome="human", queue=0.0, dial=0.0, ring=0.0,
                    talk=talk if talk is not None else self.draw(config.talk_seconds),
                    amd=0.0, answer_delay=0.0)
        callback = settings.get("status_callback") or None
        call = SimCall(sid=new_sid("CA"), account_sid=config.account_sid, to=to, from_=from_,
                       url=settings["voice_url"], twiml=None,
                       method=settings.get("voice_method") or "POST", status_callback=callback,
                       status_events=frozenset({"completed"}), timeout=60, machine_detection=None,
                       async_amd=False, amd_callback=None, record=False, recording_callback=None,
                       plan=plan, party=PERSON, direction="inbound", caller=caller,
                       phone_number_sid=settings.get("sid"))
        self.stats.incr("inbound_calls")
        with self.lock:
            self.store.add(call)
            call.set_status("ringing")
            self.fetch_twiml(call, call.url)
        return call

    def answer_inbound(self, call: SimCall) -> None:
        self._mark_answered(call)
        self._emit(call, "answered")

    def _mark_answered(self, call: SimCall) -> None:
        call.answered_at = time.time()
        if call.time_limit:  # the call's TimeLimit holds whatever TwiML it plays
            self.scheduler.call_later(min(call.time_limit, self.config.max_call_seconds)
                                      * self.config.time_scale, self._time_up, call)
        call.set_status("in-progress", call.answered_at)

    def _initiate(self, call: SimCall) -> None:
        call.set_status("initiated")
        self._emit(call, "initiated")
        if call.plan.outcome == "failed":
            self.later(call, call.plan.ring, self.finish, call, "failed")
        else:
            self.later(call, call.plan.dial, self._ring, call)

    def _ring(self, call: SimCall) -> None:
        call.set_status("ringing")
        self._emit(call, "ringing")
        outcome = call.plan.outcome
        if outcome in ("busy", "no-answer"):
            self.later(call, call.plan.ring, self.finish, call, outcome)
        else:
            self.later(call, call.plan.ring, self._answer, call)

    def _answer(self, call: SimCall) -> None:
        self._mark_answered(call)
        self._emit(call, "answered")
        if call.record:  # Record=true: the whole call, from the answer, one channel
            self.recordings.start(call, channels=1, source="OutboundAPI",
                                  callback=call.recording_callback,
                                  events=frozenset({"completed"}), at=call.answered_at)
        plan = call.plan
        if not call.machine_detection:
            self.later(call, plan.answer_delay, self.fetch_twiml, call, call.url)
            return
        if plan.outcome == "human":
            answered_by = "human"
        elif call.machine_detection == "DetectMessageEnd":
            answered_by = self.config.machine_answered_by
        else:
            answered_by = "machine_start"
        detected, answered_by = self._verdict_after(call, answered_by)
        if call.async_amd:
            self.later(call, plan.answer_delay, self.fetch_twiml, call, call.url)
            self.scheduler.call_later(detected * self.config.time_scale, self._detect,
                                      call, answered_by)
        else:  # synchronous AMD: the answer URL waits for the verdict
            self.later(call, detected + plan.answer_delay, self._detect_then_fetch,
                       call, answered_by)

    def _verdict_after(self, call: SimCall, answered_by: str) -> tuple[float, str]:
        """(simulated seconds from the answer, verdict). With DetectMessageEnd a machine's
        verdict waits for the end of its greeting (machine_greeting_seconds, up to the beep),
        and a greeting longer than MachineDetectionTimeout ends the wait with "unknown", as
        Twilio does."""
        if call.machine_detection != "DetectMessageEnd" or call.plan.outcome != "machine":
            return call.plan.amd, answered_by
        greeting = self.greeting(call)
        if greeting > AMD_TIMEOUT_SECONDS:
            return AMD_TIMEOUT_SECONDS, "unknown"
        return max(call.plan.amd, greeting), answered_by

    def greeting(self, call: SimCall) -> float:
        """The machine's greeting, in simulated seconds from the answer (drawn once)."""
        if call.greeting_seconds is None:
            call.greeting_seconds = self.draw(self.config.machine_greeting_seconds)
        return call.greeting_seconds

    def _detect_then_fetch(self, call: SimCall, answered_by: str) -> None:
        self._record_amd(call, answered_by)
        self.fetch_twiml(call, call.url)

    def _detect(self, call: SimCall, answered_by: str) -> None:
        with self.lock:
            if not call.terminal:
                self._record_amd(call, answered_by)

    def _record_amd(self, call: SimCall, answered_by: str) -> None:
        if call.amd_done:
            return
        call.answered_by, call.amd_done, call.amd_at = answered_by, True, time.time()
        if call.async_amd and call.amd_callback:
            self.stats.incr("amd_callbacks")
            self.sender.enqueue(Delivery(call.amd_callback, params.amd(call), call, "amd"))

    # -- ending a call --------------------------------------------------------------
    def finish(self, call: SimCall, status: str, by: str = "far end") -> None:
        """Move a call to its final status; the caller holds the lock. `by`: see SimCall.ended_by."""
        if call.terminal:
            return
        call.ended_at, call.ended_by = time.time(), by
        call.duration = duration_seconds(call, self.config.time_scale)
        call.generation += 1
        self.conferences.leave(call)
        if call.answered_at is not None and call.machine_detection and not call.amd_done:
            self._record_amd(call, "unknown")
        call.set_status(status, call.ended_at)
        self.stats.incr(f"calls_{status}")
        if call.interrupt is not None:  # a queue's or a recording's action hears of it first
            hook, call.interrupt = call.interrupt, None
            hook("hangup")
        self._emit(call, "completed")
        self._finish_recordings(call)

    # -- recordings -------------------------------------------------------------------
    def start_recording(self, call: SimCall, channels: int, callback: str | None,
                        events: frozenset[str]) -> SimRecording | None:
        """A REST create on a call in progress; None when the call is not in progress."""
        with self.lock:
            if call.status != "in-progress":
                return None
            self.stats.incr("recordings_started")
            return self.recordings.start(call, channels=channels, source="StartCallRecordingAPI",
                                         callback=callback, events=events)

    def update_recording(self, recording: SimRecording, status: str, pause_behavior: str) -> bool:
        """Pause, resume or stop a live recording; False when it is no longer live."""
        with self.lock:
            if recording.status not in ("in-progress", "paused"):
                return False
            if status == "paused":
                recording.pause(pause_behavior)
            elif status == "in-progress":
                recording.resume()
            else:  # stopped: it completes now, the call goes on
                recording.finish(self.config.time_scale)
                self._recording_done(recording)
            self.stats.incr("recording_updates")
            return True

    def _finish_recordings(self, call: SimCall) -> None:
        """The call has ended: every live recording of it completes (a paused one too)."""
        for recording in self.recordings.of_call(call):
            if recording.status not in ("in-progress", "paused"):
                continue
            recording.finish(self.config.time_scale, at=call.ended_at)
            if recording.source == "OutboundAPI":  # the whole call, as billed
                recording.duration, recording.status = call.duration or 0, "completed"
            self._recording_done(recording)

    def complete_recording(self, recording: SimRecording, seconds: int) -> None:
        """A <Record> verb's recording ends with `seconds` of audio (none: absent)."""
        if recording.status not in ("in-progress", "paused"):
            return
        recording.finish(self.config.time_scale)
        recording.duration = seconds
        recording.status = "completed" if seconds > 0 else "absent"
        recording.history[-1]["status"] = recording.status
        self._recording_done(recording)

    def _recording_done(self, recording: SimRecording) -> None:
        if recording.callback and recording.status in recording.events:
            self.scheduler.call_later(
                self.draw(self.config.recording_delay_seconds) * self.config.time_scale,
                self._send_recording, recording)

    def hang_up(self, call: SimCall, status: str) -> None:
        """A REST update: ``canceled`` only stops unanswered calls, ``completed`` any."""
        with self.lock:
            if call.terminal:
                return
            unanswered = call.answered_at is None
            if unanswered:
                self.finish(call, "canceled", by="api")
            elif status == "completed":
                self.finish(call, "completed", by="api")

    def redirect(self, call: SimCall, url: str | None, twiml: str | None) -> bool:
        with self.lock:
            if call.status != "in-progress":
                return False
            if call.interrupt is not None:  # out of its queue, or its recording, first
                hook, call.interrupt = call.interrupt, None
                hook("redirected")
            call.generation += 1
            self.conferences.leave(call)  # a redirected call leaves its conference first
            if twiml:
                twiml_player.start_document(self, call, twiml, call.url)
            else:
                self.fetch_twiml(call, url)
            return True

    def connect_client(self, identity: str, url: str, status_callback: str | None,
                       params: dict[str, str] | None = None) -> SimCall:
        """What Twilio Voice JS's `Device.connect()` does: a call from `client:<identity>` to
        the TwiML App, answered at once, whose voice URL is asked for TwiML."""
        config = self.config
        plan = Plan(outcome="human", queue=0.0, dial=0.0, ring=0.0, talk=config.max_call_seconds,
                    amd=0.0, answer_delay=0.0)
        call = SimCall(sid=new_sid("CA"), account_sid=config.account_sid,
                       to=(params or {}).get("To", ""), from_=f"client:{identity}", url=url,
                       twiml=None, method="POST", status_callback=status_callback,
                       status_events=frozenset({"completed"}), timeout=60,
                       machine_detection=None, async_amd=False, amd_callback=None, record=False,
                       recording_callback=None, plan=plan, party=STAFF, direction="inbound")
        self.stats.incr("client_connects")
        with self.lock:
            self.store.add(call)
            call.set_status("ringing")
            call.answered_at = time.time()
            call.set_status("in-progress", call.answered_at)
            self.fetch_twiml(call, url, **(params or {}))
        return call

    def _time_up(self, call: SimCall) -> None:
        with self.lock:
            if not call.terminal:
                self.finish(call, "completed")

    def hang_up_far_end(self, call: SimCall) -> bool:
        """The far end hangs up (a browser closed, a phone put down, a network drop)."""
        with self.lock:
            if call.terminal:
                return False
            self.finish(call, "completed" if call.answered_at is not None else "canceled")
            return True

    def _send_recording(self, recording: SimRecording) -> None:
        call = self.store.get(recording.call_sid)
        if call is None:
            return
        self.stats.incr("recording_callbacks")
        with self.lock:
            form = recording.callback_params(call, self.public_base_url)
        self.sender.enqueue(Delivery(recording.callback, form, call, "recording"))

    # -- webhooks -------------------------------------------------------------------
    def _emit(self, call: SimCall, event: str) -> None:
        if not call.status_callback or event not in call.status_events:
            return
        self.stats.incr("status_callbacks")
        self.sender.send_status(Delivery(call.status_callback, params.status(call, event),
                                         call, "status"), final=event == "completed")

    def notify(self, call: SimCall, url: str | None, form: dict[str, str], kind: str) -> None:
        """Tell an action URL what happened when nothing it answers can be played (the caller
        hung up, or was redirected): posted once, in order with the call's status callbacks."""
        if not url:
            return
        self.stats.incr(f"{kind}_posts")
        self.sender.enqueue(Delivery(url, params.voice(call, **form), call, kind, retry=False))

    def submit_fetch(self, fn: Callable[..., Any], *args: Any) -> None:
        self._fetch_pool.submit(fn, *args)

    def fetch_wait(self, call: SimCall, conference, url: str) -> None:
        """Ask a conference's wait URL what a waiting participant hears (<Say>, <Play>, <Pause>,
        <Redirect> only), off the scheduler thread; it is asked again on <Redirect> for as long
        as the participant waits in a conference that has not started."""
        call.twiml_fetches += 1
        if call.twiml_fetches > self.config.max_twiml_fetches:
            return
        self.stats.incr("wait_url_fetches")
        form = params.voice(call, ConferenceSid=conference.sid, FriendlyName=conference.name)
        self._fetch_pool.submit(self._wait_and_play, call, call.generation, conference, url, form)

    def _wait_and_play(self, call: SimCall, generation: int, conference, url: str,
                       form: dict[str, str]) -> None:
        try:
            response = self.sender.post_form(url, form)
            body = response.text if response.status_code < 400 else ""
        except Exception:  # noqa: BLE001 - an unreachable wait URL: the participant hears silence
            body = ""
        with self.lock:
            still_waiting = (not call.terminal and call.generation == generation
                             and self.conferences.where.get(call.sid) is conference
                             and conference.status == "init")
            if not still_waiting or not body:
                return
            twiml_player.play_wait(self, call, conference, body, url)

    def fetch_twiml(self, call: SimCall, url: str | None, **extra: str) -> None:
        """Ask our app what to do next, off the scheduler thread."""
        if url is None:
            if call.twiml:  # created (or redirected) with inline TwiML
                twiml_player.start_document(self, call, call.twiml, None)
            else:
                self.application_error(call, "no URL to fetch TwiML from")
            return
        call.twiml_fetches += 1
        if call.twiml_fetches > self.config.max_twiml_fetches:
            call.errors.append("too many TwiML fetches")
            self.finish(call, "completed")
            return
        self.stats.incr("twiml_fetches")
        self._fetch_pool.submit(self._fetch_and_play, call, call.generation, url,
                                params.voice(call, **extra))

    def _fetch_and_play(self, call: SimCall, generation: int, url: str,
                        form: dict[str, str]) -> None:
        error = None
        try:
            response = self.sender.post_form(url, form)
            if response.status_code >= 400:
                error = f"HTTP {response.status_code} from {url}"
            body = response.text
        except Exception as exc:  # an unreachable app is an application error to the caller
            error = f"{type(exc).__name__} fetching {url}: {exc}"
        with self.lock:
            if call.terminal or call.generation != generation:
                return
            if error is None:
                twiml_player.start_document(self, call, body, url)
            else:
                self.application_error(call, error)

    def application_error(self, call: SimCall, error: str) -> None:
        """Twilio says 'an application error has occurred' and hangs up."""
        log.info("call %s: %s", call.sid, error)
        if call.answered_at is None:  # Twilio answers a call to our number to say so
            self.answer_inbound(call)
        call.errors.append(error)
        self.stats.incr("twiml_errors")
        self.later(call, 3.0, self.finish, call, "completed")
