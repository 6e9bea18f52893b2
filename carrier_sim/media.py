"""<Play> of an audio file as Twilio plays it: the file is fetched (GET) from its URL, and the verb
lasts as long as the audio does (times its loops). What was played, the fetch's HTTP status and
the audio's length are kept on the call (`played`) for the tests to see.

The length is read here from the file itself, independently of the app: a WAV's data size over its
byte rate, an MP3's size over its first frame's bit rate (constant bit rate). A file that cannot be
fetched or read is an error on the call (Twilio's 11200), and the verb takes the simulator's usual
<Play> time instead.
"""
from __future__ import annotations

import struct
import time
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    from carrier_sim.twiml_player import Playback

FETCH_TIMEOUT_SECONDS = 10.0
_MP3_KBPS = {3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),   # MPEG-1 layer III
             2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}     # MPEG-2 layer III


def play(playback: "Playback", url: str, loops: int) -> None:
    """Start the <Play> of `url` (the engine lock is held): fetched off the lock, then played."""
    engine, generation = playback.engine, playback.generation
    engine._fetch_pool.submit(_fetch_then_play, playback, url, loops, generation)


def _fetch_then_play(playback: "Playback", url: str, loops: int, generation: int) -> None:
    status, seconds = fetch_audio_seconds(url)
    engine, call = playback.engine, playback.call
    with engine.lock:
        if call.terminal or call.generation != generation:
            return
        call.played.append({"url": url, "status": status, "seconds": seconds, "at": time.time()})
        if seconds is None:
            call.errors.append(f"<Play> could not read audio from {url} (HTTP {status})")
            seconds = engine.draw(engine.config.play_seconds)
        playback._after(seconds * loops)


def fetch_audio_seconds(url: str) -> tuple[int | None, float | None]:
    """(HTTP status, the audio's length in seconds or None when it is not WAV or MP3 audio)."""
    try:
        with requests.Session() as session:
            session.trust_env = False  # the app under test is on loopback: never via a proxy
            response = session.get(url, timeout=FETCH_TIMEOUT_SECONDS, headers={"User-Agent": "TwilioProxy/1.1"})
    except requests.RequestException:
        return None, None
    if response.status_code != 200:
        return response.status_code, None
    return 200, audio_seconds(response.content)


def audio_seconds(data: bytes) -> float | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav_seconds(data)
    return _mp3_seconds(data)


def _wav_seconds(data: bytes) -> float | None:
    offset, byte_rate = 12, 0
    while offset + 8 <= len(data):
        name, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if name == b"fmt ":
            byte_rate = struct.unpack_from("<I", data, offset + 16)[0]
        elif name == b"data" and byte_rate:
            return min(size, len(data) - offset - 8) / byte_rate
        offset += 8 + size + (size & 1)
    return None


def _mp3_seconds(data: bytes) -> float | None:
    start = 10 + (data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]) if data[:3] == b"ID3" else 0
    header = data[start:start + 4]
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0 or (header[1] >> 1) & 3 != 1:
        return None  # not an MPEG layer III frame
    version, index = (header[1] >> 3) & 3, header[2] >> 4
    kbps = _MP3_KBPS.get(3 if version == 3 else 2, ())[index] if 0 < index < 15 else 0
    return (len(data) - start) * 8 / (kbps * 1000) if kbps else None
