"""Call recordings as Twilio keeps them: started with the call (`Record=true`) or on a call in
progress (REST create, mono or dual channel), paused and resumed (REST update, PauseBehavior
`skip` leaves the paused time out, `silence` keeps it as silence), completed when the call ends
(or is stopped), then fetched (`.json` metadata, `.wav` media, with HTTP ranges) and deleted.

The media is a small generated WAV: 8 kHz, 16-bit, one channel or two (the agent's a quiet
440 Hz tone, the customer's 250 Hz), as long as the recorded seconds at the simulator's time
scale (wall seconds / time_scale), so a pause shows in the media's length.

Every function that changes a recording runs with the engine lock held.
"""
from __future__ import annotations

import io
import math
import struct
import time
import wave
from dataclasses import dataclass, field
from typing import Any

from carrier_sim.calls import API_VERSION, SimCall, new_sid, rfc2822

RATE = 8000
LIVE = frozenset({"in-progress", "paused"})
RECORDING_EVENTS = frozenset({"in-progress", "completed", "absent"})


@dataclass
class SimRecording:
    sid: str
    account_sid: str
    call_sid: str
    channels: int
    source: str                          # OutboundAPI (Record=true) | StartCallRecordingAPI
    callback: str | None
    events: frozenset[str]
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    status: str = "in-progress"          # in-progress | paused | stopped | completed | absent | deleted
    pause_behavior: str = "silence"  # Twilio's default
    running_since: float | None = None   # wall time the current unpaused stretch began
    recorded_wall: float = 0.0           # wall seconds recorded so far (closed stretches)
    paused_since: float | None = None
    paused_wall: float = 0.0             # wall seconds spent paused (closed pauses)
    ended_at: float | None = None
    duration: int | None = None          # simulated seconds, once completed
    deleted_at: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.running_since = self.created_at
        self.history.append({"status": "in-progress", "at": self.created_at})

    # -- changes ------------------------------------------------------------------------
    def pause(self, behavior: str, at: float | None = None) -> None:
        at = at or time.time()
        if self.status != "in-progress":
            return
        self.pause_behavior = behavior or "silence"
        if self.pause_behavior == "skip":
            self._close_stretch(at)
        self.paused_since = at
        self._set("paused", at)

    def resume(self, at: float | None = None) -> None:
        at = at or time.time()
        if self.status != "paused":
            return
        if self.running_since is None:
            self.running_since = at
        self._end_pause(at)
        self._set("in-progress", at)

    def finish(self, time_scale: float, at: float | None = None, status: str = "completed") -> None:
        at = at or time.time()
        if self.status not in LIVE:
            return
        self._close_stretch(at)
        self._end_pause(at)
        self.ended_at = at
        self.duration = max(0, round(self.recorded_wall / time_scale))
        self._set(status if self.duration > 0 else "absent", at)

    def delete(self, at: float | None = None) -> None:
        self.deleted_at = at or time.time()
        self._set("deleted", self.deleted_at)

    def _close_stretch(self, at: float) -> None:
        if self.running_since is not None:
            self.recorded_wall += max(0.0, at - self.running_since)
            self.running_since = None

    def _end_pause(self, at: float) -> None:
        if self.paused_since is not None:
            self.paused_wall += max(0.0, at - self.paused_since)
            self.paused_since = None

    def _set(self, status: str, at: float) -> None:
        self.status, self.updated_at = status, at
        self.history.append({"status": status, "at": at})

    # -- views ----------------------------------------------------------------------------
    def recorded_seconds(self, time_scale: float, now: float | None = None) -> float:
        running = 0.0
        if self.running_since is not None and self.status in LIVE:
            running = max(0.0, (now or time.time()) - self.running_since)
        return (self.recorded_wall + running) / time_scale

    def uri(self, under_call: bool = False) -> str:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}"
        if under_call:
            return f"{base}/Calls/{self.call_sid}/Recordings/{self.sid}.json"
        return f"{base}/Recordings/{self.sid}.json"

    def media_url(self, api_base_url: str) -> str:
        """Without an extension, as Twilio's RecordingUrl: add .wav or .mp3 to fetch it."""
        return f"{api_base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{self.sid}"

    def to_json(self, under_call: bool = False) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "call_sid": self.call_sid,
            "conference_sid": None, "sid": self.sid, "channels": self.channels,
            "date_created": rfc2822(self.created_at), "date_updated": rfc2822(self.updated_at),
            "start_time": rfc2822(self.created_at),
            "duration": "-1" if self.duration is None else str(self.duration),
            "price": None, "price_unit": "USD", "source": self.source,
            "status": self.status, "error_code": None, "encryption_details": None, "track": "both",
            "media_url": None, "uri": self.uri(under_call),
            "subresource_uris": {
                "add_on_results": f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/"
                                  f"{self.sid}/AddOnResults.json",
                "transcriptions": f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/"
                                  f"{self.sid}/Transcriptions.json"},
        }

    def introspect(self, time_scale: float) -> dict[str, Any]:
        return {"sid": self.sid, "call_sid": self.call_sid, "status": self.status,
                "channels": self.channels, "source": self.source, "duration": self.duration,
                "recorded_seconds": self.recorded_seconds(time_scale),
                "paused_seconds": (self.paused_wall + (time.time() - self.paused_since
                                                       if self.paused_since is not None else 0.0))
                                  / time_scale,
                "pause_behavior": self.pause_behavior, "callback": self.callback,
                "events": sorted(self.events), "history": list(self.history),
                "deleted_at": self.deleted_at}

    def callback_params(self, call: SimCall, api_base_url: str) -> dict[str, str]:
        return {"AccountSid": self.account_sid, "CallSid": self.call_sid,
                "RecordingSid": self.sid, "RecordingUrl": self.media_url(api_base_url),
                "RecordingStatus": self.status,
                "RecordingDuration": str(self.duration if self.duration is not None else 0),
                "RecordingChannels": str(self.channels), "RecordingSource": self.source,
                "RecordingStartTime": rfc2822(self.created_at), "ErrorCode": "0",
                "RecordingTrack": "both"}


class RecordingStore:
    """Every recording by sid (deleted ones stay as tombstones, answering 404)."""

    def __init__(self) -> None:
        self.by_sid: dict[str, SimRecording] = {}

    def start(self, call: SimCall, *, channels: int, source: str, callback: str | None,
              events: frozenset[str], at: float | None = None) -> SimRecording:
        recording = SimRecording(sid=new_sid("RE"), account_sid=call.account_sid,
                                 call_sid=call.sid, channels=channels, source=source,
                                 callback=callback, events=events,
                                 created_at=at or time.time())
        self.by_sid[recording.sid] = recording
        call.recording_sids.append(recording.sid)
        return recording

    def get(self, sid: str) -> SimRecording | None:
        recording = self.by_sid.get(sid)
        return None if recording is None or recording.status == "deleted" else recording

    def of_call(self, call: SimCall) -> list[SimRecording]:
        return [self.by_sid[s] for s in call.recording_sids if s in self.by_sid]

    def clear(self) -> None:
        self.by_sid.clear()


def _tone(frequency: int, amplitude: int = 2000) -> bytes:
    period = RATE // frequency  # 8000 / 440 -> 18 samples: close enough for a test tone
    return b"".join(struct.pack("<h", int(amplitude * math.sin(2 * math.pi * i / period)))
                    for i in range(period))


def wav_bytes(seconds: int, channels: int) -> bytes:
    """`seconds` of audio at 8 kHz, 16-bit: one channel, or two (agent, customer)."""
    frames = max(0, int(seconds)) * RATE
    if channels == 2:
        left, right = _tone(440), _tone(250)
        # one frame = left sample + right sample; repeat a joint period of both tones
        joint = math.lcm(len(left) // 2, len(right) // 2)
        block = b"".join(left[(i % (len(left) // 2)) * 2:(i % (len(left) // 2)) * 2 + 2]
                         + right[(i % (len(right) // 2)) * 2:(i % (len(right) // 2)) * 2 + 2]
                         for i in range(joint))
        per = joint
    else:
        block, per = _tone(440), len(_tone(440)) // 2
    body = block * (frames // per) + block[: (frames % per) * 2 * channels]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(2)
        audio.setframerate(RATE)
        audio.writeframes(body)
    return buffer.getvalue()


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """The (first, last) bytes a `Range: bytes=...` header asks for; None for the whole body;
    False when it cannot be satisfied (416)."""
    if not header or not header.startswith("bytes="):
        return None
    spec = header[len("bytes="):].split(",")[0].strip()
    first, _, last = spec.partition("-")
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                return False
            return max(0, size - length), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)
