"""How an uploaded CSV's text is encoded, and where a byte that is not text sits.

The text encoding is settled while the upload streams to disk, from every byte of it:

- a UTF-16 byte-order mark: the file is UTF-16 (Excel's "Unicode text"), stored as UTF-8;
- valid UTF-8 (with or without its byte-order mark): UTF-8;
- not UTF-8, but every byte reads as Windows-1252 and no byte sequence of the file is UTF-8
  beyond ASCII: Windows-1252, which is what Excel on Windows writes as "CSV";
- otherwise UTF-8, and each record holding a byte that is not UTF-8 is rejected on its own,
  by line and column, while every other line imports.
"""
from __future__ import annotations

import codecs
import re

ENCODING = "utf-8-sig"  # UTF-8, with or without the byte-order mark spreadsheets write
WINDOWS_1252 = "cp1252"
ENCODING_NAMES = {ENCODING: "UTF-8", WINDOWS_1252: "Windows-1252", "utf-16": "UTF-16"}
# Bytes Windows-1252 leaves undefined: a file holding one is not Windows-1252 text.
_NOT_1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# What a byte that is not UTF-8 becomes when read with errors="surrogateescape".
UNREADABLE = re.compile("[\udc80-\udcff]")
_GOOD_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


class EncodingWatch:
    """Notes, chunk by chunk, what the bytes say about their encoding."""

    def __init__(self):
        self.utf8 = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self.unreadable = False  # a byte that is not UTF-8
        self.multibyte = False   # a character beyond ASCII that is good UTF-8
        self.not_1252 = False    # a byte Windows-1252 does not define
        self.utf8_bom = False

    def feed(self, chunk: bytes, final: bool = False) -> None:
        text = self.utf8.decode(chunk, final)
        if not text.isascii():
            self.unreadable = self.unreadable or bool(UNREADABLE.search(text))
            self.multibyte = self.multibyte or bool(_GOOD_NON_ASCII.search(text))
        self.not_1252 = self.not_1252 or bool(_NOT_1252.search(chunk))

    def encoding(self) -> str:
        if self.unreadable and not self.multibyte and not self.not_1252 and not self.utf8_bom:
            return WINDOWS_1252
        return ENCODING


def unreadable_at(lines: list[str]) -> str | None:
    """Where the first byte that is not text is in `lines` (the physical lines of one record),
    in words: "byte 0xff at column 12" ("... at column 3 of its line 2" past the first line)."""
    for index, text in enumerate(lines):
        if text.isascii():
            continue
        match = UNREADABLE.search(text)
        if match:
            byte = ord(match.group()) - 0xDC00
            where = f" of its line {index + 1}" if index else ""
            return f"byte 0x{byte:02x} at column {match.start() + 1}{where}"
    return None


def shown_byte(match: re.Match) -> str:
    """A byte that is not UTF-8 as text: Windows-1252's character for it, else Latin-1's."""
    byte = bytes([ord(match.group()) - 0xDC00])
    try:
        return byte.decode(WINDOWS_1252)
    except UnicodeDecodeError:
        return byte.decode("latin-1")
