"""The simulator's knobs.

Durations named ``*_seconds`` are simulated seconds, multiplied by
``time_scale`` to get wall-clock time (0.01 turns a 20 s ring into 0.2 s),
except the ``callback_*`` and ``rate_limit_*`` ones, which are wall-clock.
Ranges are ``(low, high)`` pairs drawn uniformly.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("human", "machine", "no-answer", "busy", "failed")

Range = tuple[float, float]

# The account's phone numbers when none are configured: fictional 555-01xx numbers in several
# area codes (NANP reserves 555-0100..0199 for fiction), so the demo has local presence to show.
DEMO_NUMBERS = {
    "+12025550101": "Washington DC",
    "+12125550102": "New York City",
    "+17185550103": "Brooklyn",
    "+13125550104": "Chicago",
    "+14155550105": "San Francisco",
    "+12135550106": "Los Angeles",
    "+13055550107": "Miami",
}


@dataclass(frozen=True)
class SimConfig:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "carrier-sim-token"
    seed: int | None = None
    time_scale: float = 1.0

    # Outcome mix: weights, normalised when drawn.
    p_human: float = 0.35
    p_machine: float = 0.15
    p_no_answer: float = 0.30
    p_busy: float = 0.12
    p_failed: float = 0.08
    # Forced outcome per To number, e.g. {"+15550100": "busy"}.
    outcomes: dict[str, str] = field(default_factory=dict)

    queue_seconds: Range = (0.1, 0.8)        # queued -> initiated
    dial_seconds: Range = (0.2, 1.0)         # initiated -> ringing
    ring_seconds: Range = (4.0, 25.0)        # ringing -> answered (no-answer if > Timeout)
    client_ring_seconds: Range = (0.3, 1.0)  # a browser client (client:<identity>) auto-accepting
    busy_seconds: Range = (1.0, 5.0)         # ringing -> busy
    fail_seconds: Range = (0.5, 2.0)         # initiated -> failed
    talk_seconds: Range = (30.0, 240.0)      # connected to an agent -> callee hangs up
    machine_message_seconds: Range = (8.0, 25.0)  # a machine's recording after <Dial>
    play_seconds: Range = (4.0, 12.0)        # one <Play>
    say_seconds_per_word: float = 0.4        # one <Say>, by its words
    answer_delay_seconds: Range = (0.0, 0.0)  # slow answers: delay before fetching Url
    amd_seconds: Range = (1.5, 4.0)          # answer -> machine detection result
    machine_answered_by: str = "machine_end_beep"  # with MachineDetection=DetectMessageEnd
    recording_delay_seconds: Range = (1.0, 3.0)
    # The account's longest call (Twilio: 4 hours unless the account's limit is raised, to
    # 24 hours at most): no call, an agent's session-long leg included, outlives it.
    max_call_seconds: float = 4 * 3600.0
    max_twiml_fetches: int = 50

    # The account's phone numbers (IncomingPhoneNumbers): number -> friendly name.
    incoming_numbers: dict[str, str] = field(default_factory=lambda: dict(DEMO_NUMBERS))
    # Person-answer rate per caller ID (From), 0..1: calls from that number are answered by a
    # person with this probability (the other outcomes keep their weights). A carrier's spam
    # label looks like this: the same people, answering one number far less often.
    answer_rates: dict[str, float] = field(default_factory=dict)

    # Keypresses for <Gather>: probability and digits, or forced per To number.
    keypress_probability: float = 0.0
    keypress_digits: str = "1"
    keypresses: dict[str, str] = field(default_factory=dict)
    # Phones that are agents' (number -> the digits pressed when asked to accept, "" for a
    # voicemail that presses nothing): they answer quickly and never hang up by themselves.
    agent_phones: dict[str, str] = field(default_factory=dict)
    agent_answer_seconds: Range = (1.0, 3.0)
    gather_delay_seconds: Range = (1.0, 3.0)

    # People who call our numbers (POST /_sim/inbound), unless the request says otherwise: how
    # long they hold in a queue before hanging up, and how long a voicemail they leave.
    caller_patience_seconds: Range = (60.0, 180.0)
    voicemail_seconds: Range = (6.0, 20.0)

    # Chaos.
    duplicate_probability: float = 0.0       # send a status callback twice
    out_of_order_probability: float = 0.0    # hold a status callback until after the next
    rate_limit_probability: float = 0.0      # reject a create with 429 / 20429
    rate_limit_period_seconds: float = 0.0   # with burst: reject every create in the first
    rate_limit_burst_seconds: float = 0.0    # burst seconds of each period (wall clock)
    max_cps: float = 0.0                     # creates per second before 429; 0 = no limit
    retry_after_seconds: int = 1

    # Delivery of webhooks (wall clock).
    callback_max_attempts: int = 4
    callback_retry_seconds: float = 0.2      # first backoff, doubled per attempt
    callback_timeout_seconds: float = 10.0
    sender_threads: int = 8
    fetch_threads: int = 8

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")
        for name, value in self.outcomes.items():
            if value not in OUTCOMES:
                raise ValueError(f"outcome for {name} must be one of {OUTCOMES}")
        for number, rate in self.answer_rates.items():
            if not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
                raise ValueError(f"answer rate for {number} must be a number from 0 to 1")
        weights = self.outcome_weights()
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("outcome probabilities must be >= 0 and not all zero")
        for f in dataclasses.fields(self):
            if f.name.endswith("_seconds") and isinstance(getattr(self, f.name), tuple):
                low, high = getattr(self, f.name)
                if low < 0 or high < low:
                    raise ValueError(f"{f.name} must be a range (low <= high, low >= 0)")

    def outcome_weights(self) -> dict[str, float]:
        return {"human": self.p_human, "machine": self.p_machine,
                "no-answer": self.p_no_answer, "busy": self.p_busy, "failed": self.p_failed}

    def updated(self, changes: dict[str, Any]) -> "SimConfig":
        """A copy with ``changes`` applied; unknown names raise KeyError."""
        known = {f.name: f for f in dataclasses.fields(self)}
        coerced = {}
        for name, value in changes.items():
            if name not in known:
                raise KeyError(name)
            coerced[name] = coerce(getattr(self, name), value)
            if name == "answer_rates":  # from the command line or JSON: "0.1" or 0.1
                coerced[name] = {number: float(rate) for number, rate in coerced[name].items()}
        return dataclasses.replace(self, **coerced)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["auth_token"] = "***"
        return data


def coerce(current: Any, value: Any) -> Any:
    """Turn a JSON or command-line value into the type of the current value."""
    if isinstance(current, tuple):
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        low, high = (float(v) for v in (value if len(value) == 2 else (value[0], value[0])))
        return (low, high)
    if isinstance(current, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    if isinstance(current, dict):
        return dict(value)
    if isinstance(current, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if current is None and value is not None:  # seed
        return int(value)
    return value

