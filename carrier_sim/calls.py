"""Calls as the simulator holds them, and their Twilio-shaped JSON."""
from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

API_VERSION = "2010-04-01"
TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


# Not uuid4: with the sender threads busy, its os.urandom call cost milliseconds per
# create in profiles here; sids need to be unique, not secret.
_sid_random = random.Random()


def new_sid(prefix: str) -> str:
    return f"{prefix}{_sid_random.getrandbits(128):032x}"


def rfc2822(ts: float | None) -> str | None:
    return None if ts is None else formatdate(ts, usegmt=True)


@dataclass
class Plan:
    """What will happen to a call, drawn when it is created."""

    outcome: str
    queue: float
    dial: float
    ring: float
    talk: float
    amd: float
    answer_delay: float


@dataclass
class Caller:
    """What the person on an inbound call does (POST /_sim/inbound): the keys they press at each
    <Gather> (a string: at every one; a list: one entry per <Gather>, in order), how long they
    hold in a queue before hanging up, whether they leave a voicemail at <Record>, how long it
    is and how they end it ("hangup", "silence", or a key such as "#")."""

    digits: str | list[str] | None = None
    patience: float = 120.0
    voicemail: bool = True
    voicemail_seconds: float = 12.0
    voicemail_ends: str = "hangup"

    def next_digits(self) -> str | None:
        if not isinstance(self.digits, list):
            return self.digits or None
        return self.digits.pop(0) or None if self.digits else None

    def as_dict(self) -> dict[str, Any]:
        return {"digits": self.digits, "patience": self.patience, "voicemail": self.voicemail,
                "voicemail_seconds": self.voicemail_seconds, "voicemail_ends": self.voicemail_ends}


@dataclass
class SimCall:
    sid: str
    account_sid: str
    to: str
    from_: str
    url: str | None
    twiml: str | None
    method: str
    status_callback: str | None
    status_events: frozenset[str]
    timeout: int
    machine_detection: str | None
    async_amd: bool
    amd_callback: str | None
    record: bool
    recording_callback: str | None
    plan: Plan
    created_at: float = field(default_factory=time.time)
    status: str = "queued"
    updated_at: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    duration: int | None = None
    answered_by: str | None = None
    amd_done: bool = False
    connected_to: str | None = None
    sequence: int = 0
    generation: int = 0
    twiml_fetches: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # what <Say> spoke to the callee, in order
    # Each <Play> of a file (carrier_sim.media): {"url", "status", "seconds", "at"} (at: it began).
    played: list[dict] = field(default_factory=list)
    amd_at: float | None = None  # when the machine detection verdict was reached
    # An answering machine's greeting, simulated seconds from the answer (drawn once: for the
    # DetectMessageEnd verdict, or when a speech <Gather> first listens to it).
    greeting_seconds: float | None = None
    # Who ended the call: "far end" (the callee hung up, or a time limit), "api" (a REST update
    # to completed or canceled) or "twiml" (a <Hangup>, or the end of the document).
    ended_by: str | None = None
    # Each <Dial> to a number or client: {"to", "status"} (answered, busy, no-answer, failed).
    dial_attempts: list[dict] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    held_callback: Any = None
    # Who is at the far end: "person" (a callee), "staff" (an agent's or supervisor's browser
    # or phone) or "outside" (a third party dialled into a conference).
    party: str = "person"
    direction: str = "outbound-api"
    time_limit: float | None = None  # TimeLimit on create: the call ends this long after its answer
    recording_sids: list[str] = field(default_factory=list)  # carrier_sim.recordings, in order
    caller: Caller | None = None  # an inbound call's person (None: the config's keypress knobs)
    digits_pressed: list[dict[str, Any]] = field(default_factory=list)  # {"digits", "at", "verb"}
    # Each time in a queue: {"queue", "queue_sid", "entered_at", "left_at", "result", "seconds"}.
    queue_history: list[dict[str, Any]] = field(default_factory=list)
    # What a verb in progress (<Enqueue>, <Record>) does when the call hangs up or is redirected
    # under it: called once with "hangup" or "redirected".
    interrupt: Any = None
    phone_number_sid: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def set_status(self, status: str, at: float | None = None) -> None:
        at = at or time.time()
        if status != "initiated":  # "initiated" is a callback event, not a resource status
            self.status = status
        self.updated_at = at
        self.history.append({"status": status, "at": at})

    def next_sequence(self) -> int:
        number = self.sequence
        self.sequence += 1
        return number

    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        base = self.uri()[: -len(".json")]
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "parent_call_sid": None,
            "date_created": rfc2822(self.created_at),
            "date_updated": rfc2822(self.updated_at or self.created_at),
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "phone_number_sid": self.phone_number_sid,
            "status": self.status,
            "start_time": rfc2822(self.answered_at),
            "end_time": rfc2822(self.ended_at),
            "duration": None if self.duration is None else str(self.duration),
            "price": None,
            "price_unit": "USD",
            "direction": self.direction,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": self.uri(),
            "subresource_uris": {
                "notifications": f"{base}/Notifications.json",
                "recordings": f"{base}/Recordings.json",
                "events": f"{base}/Events.json",
            },
        }

    def introspect(self) -> dict[str, Any]:
        return {
            "sid": self.sid, "to": self.to, "from": self.from_, "status": self.status,
            "party": self.party, "direction": self.direction,
            "caller": self.caller.as_dict() if self.caller else None,
            "digits_pressed": [dict(d) for d in self.digits_pressed],
            "queue_history": [dict(q) for q in self.queue_history],
            "outcome": self.plan.outcome, "answered_by": self.answered_by,
            "duration": self.duration, "connected_to": self.connected_to, "said": list(self.said),
            "played": [dict(p) for p in self.played], "amd_at": self.amd_at, "ended_by": self.ended_by,
            "answered_at": self.answered_at, "greeting_seconds": self.greeting_seconds,
            "dial_attempts": [dict(a) for a in self.dial_attempts],
            "history": list(self.history), "callbacks": list(self.callbacks),
            "errors": list(self.errors), "twiml_fetches": self.twiml_fetches,
            "recordings": list(self.recording_sids),
            "request": {"url": self.url, "status_callback": self.status_callback,
                        "status_events": sorted(self.status_events), "timeout": self.timeout,
                        "machine_detection": self.machine_detection,
                        "async_amd": self.async_amd, "amd_callback": self.amd_callback,
                        "record": self.record, "recording_callback": self.recording_callback},
        }


def duration_seconds(call: SimCall, time_scale: float) -> int:
    """Simulated seconds the call was up; 0 if it was never answered."""
    if call.answered_at is None or call.ended_at is None:
        return 0
    return max(1, math.ceil((call.ended_at - call.answered_at) / time_scale - 1e-6))


class CallStore:
    """All calls by sid, plus how many create requests each To number got."""

    def __init__(self) -> None:
        # The engine's lock for call state. The create path stays off it: a
        # request thread waiting behind the scheduler costs more than the work.
        self.lock = threading.RLock()
        self._count_lock = threading.Lock()
        self.calls: dict[str, SimCall] = {}
        self.create_requests_by_to: Counter[str] = Counter()
        self.participants: dict[str, list[tuple[str, str]]] = {}  # conference -> (sid, label)

    def add(self, call: SimCall) -> None:
        self.calls[call.sid] = call  # a single dict store is atomic

    def add_participant(self, conference: str, call_sid: str, label: str) -> None:
        with self._count_lock:
            self.participants.setdefault(conference, []).append((call_sid, label))

    def get(self, sid: str) -> SimCall | None:
        return self.calls.get(sid)

    def count_request(self, to: str) -> None:
        with self._count_lock:
            self.create_requests_by_to[to] += 1

    def requests_by_to(self) -> dict[str, int]:
        with self._count_lock:
            return dict(self.create_requests_by_to)

    def snapshot(self, to: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            calls = list(self.calls.values())
            return [c.introspect() for c in calls if to is None or c.to == to]

    def outcomes_by_from(self) -> dict[str, dict[str, int]]:
        """The outcome each caller ID's calls drew (what the simulator decided, not yet seen)."""
        found: dict[str, Counter] = {}
        for call in list(self.calls.values()):
            found.setdefault(call.from_, Counter())[call.plan.outcome] += 1
        return {number: dict(counts) for number, counts in found.items()}

    def status_counts(self) -> dict[str, int]:
        return dict(Counter(c.status for c in list(self.calls.values())))

    def clear(self) -> None:
        with self.lock, self._count_lock:
            self.calls.clear()
            self.create_requests_by_to.clear()
            self.participants.clear()
