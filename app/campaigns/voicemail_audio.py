"""What an uploaded voicemail message is: a WAV or an MP3 the carrier can play, and how long.

Read from the bytes themselves, never from the file's name or the browser's content type: a
file that is neither is refused with words, before anything is stored. The length is what the
admin page shows and what the carrier will take to play it.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_BYTES = 5 * 1024 * 1024
MAX_SECONDS = 120.0
MIN_SECONDS = 1.0

# MPEG audio frame header tables: bitrates (kbit/s) by (version is MPEG-1, layer), sample rates
# by version. Index 0 is "free", 15 is invalid.
# MPEG layer III (MP3) only: the carrier plays MP3; layers I and II are "audio/mpeg" too, but
# not a file it is known to play. Keyed by MPEG-1 or not (MPEG-2 and 2.5 share a table).
_BITRATES = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
MIN_MP3_FRAMES = 10  # a run of frames, not a stray 0xFFE bit pattern in some other file


class AudioRefused(ValueError):
    """The file is not a message the carrier can play; the text says why, in words."""


@dataclass(frozen=True)
class AudioFacts:
    content_type: str   # audio/wav | audio/mpeg
    extension: str      # wav | mp3
    seconds: float


def read_audio(data: bytes) -> AudioFacts:
    """The facts of a WAV or MP3 file; AudioRefused when it is neither, too big, or too short
    or long for a voicemail message."""
    if not data:
        raise AudioRefused("The file is empty.")
    if len(data) > MAX_BYTES:
        raise AudioRefused(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        facts = AudioFacts("audio/wav", "wav", _wav_seconds(data))
    else:
        seconds = _mp3_seconds(data)
        if seconds is None:
            raise AudioRefused("This is not a WAV or MP3 audio file.")
        facts = AudioFacts("audio/mpeg", "mp3", seconds)
    if facts.seconds < MIN_SECONDS:
        raise AudioRefused(f"The message is shorter than {MIN_SECONDS:g} second.")
    if facts.seconds > MAX_SECONDS:
        raise AudioRefused(f"The message is longer than {MAX_SECONDS:g} seconds: machines cut "
                           "long messages off. Keep it short.")
    return facts


def _wav_seconds(data: bytes) -> float:
    """The data chunk's length over the format's bytes per second (any WAV encoding: PCM,
    mu-law, ...), walking the RIFF chunks."""
    byte_rate, offset = None, 12
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if chunk == b"fmt " and size >= 16:
            byte_rate = struct.unpack_from("<I", data, offset + 16)[0]
        elif chunk == b"data":
            if not byte_rate:
                break
            return min(size, len(data) - offset - 8) / byte_rate
        offset += 8 + size + (size & 1)
    raise AudioRefused("The WAV file has no readable audio (its format or data part is missing).")


def _mp3_seconds(data: bytes) -> float | None:
    """The sum of the MPEG audio frames' durations, after any ID3v2 tag; None when the bytes
    are not a run of MPEG audio frames."""
    offset = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
        offset = 10 + size
    frames, seconds = 0, 0.0
    while offset + 4 <= len(data):
        frame = _mp3_frame(data[offset:offset + 4])
        if frame is None:
            break
        length, duration = frame
        frames += 1
        seconds += duration
        offset += length
    return seconds if frames >= MIN_MP3_FRAMES else None


def _mp3_frame(header: bytes) -> tuple[int, float] | None:
    """(bytes, seconds) of the MPEG audio frame this header starts, or None."""
    b1, b2 = header[1], header[2]
    if header[0] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved values, or not layer III
    mpeg1 = version == 3
    bitrate = _BITRATES[mpeg1][bitrate_index] * 1000
    rate = _SAMPLE_RATES[version][rate_index]
    samples = 1152 if mpeg1 else 576
    return samples // 8 * bitrate // rate + padding, samples / rate
