"""The one interface between Omnivox and a voice carrier.

Everything the dialer and the webhooks need from the carrier goes through
:class:`Carrier`; the Twilio implementation lives in ``twilio_carrier.py`` and
is pointed at the local carrier simulator in tests, demos and benchmarks.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Mapping

# Let the phone ring at least 15 seconds before giving up (FCC 47 CFR 64.1200).
MIN_RING_TIMEOUT_SECONDS = 15
MAX_RING_TIMEOUT_SECONDS = 600

# Statuses after which a call never changes again.
TERMINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Statuses in which a call has not been answered yet and can still be canceled.
UNANSWERED_STATUSES = frozenset({"queued", "initiated", "ringing"})

AMD_MODES = ("DetectMessageEnd", "Enable")


class CarrierError(Exception):
    """The carrier refused or failed a request (anything except rate limiting)."""

    def __init__(self, code: int | None, message: str, status: int | None = None, *,
                 unsent: bool = False):
        super().__init__(f"carrier error {code} (HTTP {status}): {message}")
        self.code = code
        self.message = message
        self.status = status
        # The request never reached the carrier (no connection made): nothing was done. Without
        # a status and not unsent (a read timed out, the connection dropped mid-answer), the
        # carrier may have done it.
        self.unsent = unsent

    @property
    def surely_not_done(self) -> bool:
        """The carrier refused the request (a 4xx, 429 included) or never received it."""
        return self.unsent or (self.status is not None and self.status < 500)


class CarrierRateLimited(CarrierError):
    """The carrier answered 429 / code 20429: retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "Too Many Requests",
                 code: int | None = 20429):
        super().__init__(code, message, 429)
        self.retry_after = retry_after


@dataclass(frozen=True)
class PlaceCallRequest:
    """One outbound call as the dialer wants it placed."""

    to: str
    from_: str
    answer_url: str
    status_callback_url: str
    timeout_seconds: int = 30
    machine_detection: bool = False
    amd_callback_url: str | None = None
    record: bool = False
    recording_callback_url: str | None = None
    # "DetectMessageEnd" waits for the beep (for leaving a message); "Enable"
    # reports as soon as a machine is recognised. Without amd_callback_url the
    # detection is synchronous: the answer URL is fetched only once it is done,
    # with AnsweredBy, which costs the callee seconds of silence.
    amd_mode: str = "DetectMessageEnd"
    # The call's longest life (Twilio's TimeLimit; its default is 4 hours).
    time_limit_seconds: int | None = None

    def __post_init__(self) -> None:
        if not self.to or not self.from_:
            raise ValueError("a call needs both a number to call and a caller ID")
        if not self.answer_url or not self.status_callback_url:
            raise ValueError("a call needs an answer URL and a status callback URL")
        if self.timeout_seconds < MIN_RING_TIMEOUT_SECONDS:
            raise ValueError(
                f"timeout_seconds must be at least {MIN_RING_TIMEOUT_SECONDS}: "
                "the phone has to ring at least 15 seconds"
            )
        if self.timeout_seconds > MAX_RING_TIMEOUT_SECONDS:
            raise ValueError(f"timeout_seconds must be at most {MAX_RING_TIMEOUT_SECONDS}")
        if self.amd_mode not in AMD_MODES:
            raise ValueError(f"amd_mode must be one of {AMD_MODES}")


@dataclass(frozen=True)
class PlacedCall:
    call_sid: str
    status: str


@dataclass(frozen=True)
class CallInfo:
    call_sid: str
    status: str
    duration: int | None
    answered_by: str | None
    start_time: datetime | None
    end_time: datetime | None
    to: str | None = None
    from_: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class RecordingInfo:
    """A call recording as the carrier reports it."""

    sid: str
    call_sid: str | None
    status: str               # in-progress | paused | stopped | completed | absent | ...
    channels: int | None
    duration: int | None      # seconds, once completed


@dataclass
class RecordingMedia:
    """A recording's audio as the carrier answers a (possibly ranged) request for it: the status
    (200, 206 or 416), the headers that describe the body, and the body a chunk at a time.
    `close()` releases the connection (always call it, also when not reading to the end)."""

    status: int
    content_type: str
    content_length: int | None
    content_range: str | None
    chunks: Iterator[bytes]
    close: Any


@dataclass(frozen=True)
class OwnedNumber:
    """A phone number the account holds at the carrier (Twilio: an IncomingPhoneNumber)."""

    sid: str
    phone_number: str         # E.164
    friendly_name: str
    voice: bool               # may place and receive calls
    voice_url: str | None = None  # where the carrier asks what to do with a call to it
    status_callback: str | None = None  # where the carrier says a call to it has ended


class RecordingGone(CarrierError):
    """The carrier has no such recording (deleted, or never made)."""


class Carrier(abc.ABC):
    """What Omnivox needs from a voice carrier."""

    @abc.abstractmethod
    def place_call(self, request: PlaceCallRequest) -> PlacedCall:
        """Create an outbound call; raises CarrierRateLimited or CarrierError."""

    @abc.abstractmethod
    def hangup(self, call_sid: str, *, cancel_only: bool = False) -> CallInfo:
        """End a call in whatever state it is.

        An unanswered call ends as ``canceled``, an answered one as ``completed``.
        With ``cancel_only`` a call that is already in progress is left alone,
        so stopping a campaign never cuts a live conversation.
        """

    @abc.abstractmethod
    def redirect(self, call_sid: str, twiml: str, *, within_seconds: float | None = None) -> CallInfo:
        """Replace what a call in progress is doing with `twiml` (it leaves a conference or
        queue it is in); raises CarrierError when the call is no longer in progress, or the
        carrier has not answered within `within_seconds` (when given)."""

    @abc.abstractmethod
    def add_participant(self, conference: str, to: str, from_: str, *, label: str,
                        timeout_seconds: int, status_callback_url: str | None = None,
                        within_seconds: float | None = None,
                        status_events: tuple[str, ...] = ("completed",),
                        end_conference_on_exit: bool = True) -> str:
        """Call `to` (a number or ``client:<identity>``) into the conference of that name (made
        if need be), ringing it for `timeout_seconds`; returns the new leg's CallSid. Raises
        CarrierError, also when the carrier has not answered the request `within_seconds`.
        Without `end_conference_on_exit` the new leg's leaving leaves the others talking (a
        party consulted in an agent's room). `status_events`: the leg's call progress events
        posted to `status_callback_url` (e.g. answered, completed)."""

    @abc.abstractmethod
    def update_participant(self, conference_sid: str, call_sid: str, *, hold: bool | None = None,
                           hold_url: str | None = None, muted: bool | None = None,
                           coaching: bool | None = None, call_sid_to_coach: str | None = None,
                           end_conference_on_exit: bool | None = None) -> None:
        """Hold (hearing `hold_url`'s TwiML, fetched with POST) or resume, mute or unmute the
        leg `call_sid` in the conference `conference_sid`, make it coach one participant
        (`coaching` with `call_sid_to_coach`: heard by that one only) or stop coaching, or
        change whether its leaving ends the conference; raises CarrierError when either is gone."""

    @abc.abstractmethod
    def live_conference_sid(self, name: str) -> str | None:
        """The sid of the conference of that name now in progress, or None."""

    @abc.abstractmethod
    def fetch(self, call_sid: str) -> CallInfo:
        """The carrier's current view of a call."""

    @abc.abstractmethod
    def validate_webhook(self, url: str, form_params: Mapping[str, Any] | Any,
                         signature: str | None) -> bool:
        """True when ``signature`` is the carrier's signature of this request.

        ``form_params`` must be the POST form only (``request.form``), never
        ``request.values``: the query string is already part of ``url``.
        """

    # -- recordings ------------------------------------------------------------------------
    @abc.abstractmethod
    def start_recording(self, call_sid: str, *, status_callback_url: str,
                        dual_channel: bool = True) -> RecordingInfo:
        """Start recording a call in progress from now (two channels: each party on its own),
        its status callbacks (in-progress, completed, absent) posted to `status_callback_url`.
        Raises CarrierError when the call is not in progress."""

    @abc.abstractmethod
    def set_recording_paused(self, call_sid: str, recording_sid: str, paused: bool) -> RecordingInfo:
        """Pause (the paused time is left out of the recording) or resume it; raises
        CarrierError when the recording is no longer live."""

    @abc.abstractmethod
    def fetch_recording(self, recording_sid: str) -> RecordingInfo:
        """The carrier's view of a recording; raises RecordingGone when it has none."""

    @abc.abstractmethod
    def delete_recording(self, recording_sid: str) -> bool:
        """Delete a completed recording at the carrier; False when it was already gone."""

    @abc.abstractmethod
    def open_recording_media(self, recording_sid: str, range_header: str | None = None) -> RecordingMedia:
        """The recording's audio (WAV) with the carrier's own credentials, the `Range` header
        passed on; raises RecordingGone when the carrier has no such recording."""

    @abc.abstractmethod
    def list_numbers(self) -> list[OwnedNumber]:
        """Every phone number the account holds, all pages read."""

    @abc.abstractmethod
    def set_voice_url(self, number_sid: str, url: str, status_callback: str) -> OwnedNumber:
        """Calls to the number are answered by `url` (POST) from now on, and their progress and
        end are posted to `status_callback`."""
