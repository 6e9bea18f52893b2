"""An area code's file of the national Do Not Call Registry, read line by line without a
Python loop per line (see LineScanner)."""
from __future__ import annotations

import re
import tempfile

CHUNK_BYTES = 1 << 20
MAX_LINE = 200  # longer lines are bad for sure; only this much of one is kept


class ImportFailed(Exception):
    """The import stopped; the message says why (the previous copy stays)."""


class LineScanner:
    """Splits the file into lines across chunks, numbers them, and keeps the good ones.

    Good lines come back as COPY text (one number and a newline each); bad ones are written,
    with their line number and reason, to a temporary file for import_rejections, so neither a
    huge file nor a file of nothing but bad lines grows the memory.
    """

    def __init__(self, area_code: int, job_id: int):
        self.prefix = str(area_code).encode()
        self.clean = re.compile(rb"(?:%s[0-9]{7}\n)*" % self.prefix)
        self.clean_crlf = re.compile(rb"(?:%s[0-9]{7}\r\n)*" % self.prefix)
        self.job_id = job_id
        self.rejections = tempfile.TemporaryFile()
        self.bytes_read = self.lines = self.rows = self.rejected = 0
        self.tail = b""  # the start of a line the next chunk ends
        self.overlong = False  # the current line is already longer than MAX_LINE
        self.crlf: bool | None = None  # lines end in CR LF (known from the first line)

    def __enter__(self) -> LineScanner:
        return self

    def __exit__(self, *exc) -> None:
        self.rejections.close()

    def feed(self, chunk: bytes) -> bytes:
        self.bytes_read += len(chunk)
        end = chunk.rfind(b"\n")
        if end < 0:
            self._grow_tail(chunk)
            return b""
        block, rest = chunk[:end + 1], chunk[end + 1:]
        if self.tail or self.overlong:
            first = block.find(b"\n")
            head, block = block[:first], block[first + 1:]
            self._grow_tail(head)
            good = self._line(self.tail, self.overlong)
            self.tail, self.overlong = b"", False
        else:
            good = b""
        self._grow_tail(rest)
        return good + self._block(block)

    def finish(self) -> bytes:
        """The last line, if the file does not end with a newline. A last line cut short is the
        mark of a truncated download: the import stops rather than drop the rest of the copy."""
        if not self.tail and not self.overlong:
            return b""
        line, tail = self.lines + 1, self.tail
        good = self._line(tail, self.overlong)
        if not good and tail.strip():
            raise ImportFailed(f"The file ends in the middle of line {line:,} ({tail[:20].decode('latin-1')!r}): "
                               "it looks truncated. Nothing was changed.")
        return good

    def _grow_tail(self, piece: bytes) -> None:
        if self.overlong:
            return
        self.tail += piece
        if len(self.tail) > MAX_LINE:
            self.tail, self.overlong = self.tail[:MAX_LINE], True

    def _block(self, block: bytes) -> bytes:
        """Whole lines. Runs of good lines pass at C speed (one regular expression, no copy per
        line); only a line that breaks a run is looked at on its own."""
        if self.crlf is None:
            self.crlf = block[:block.find(b"\n")].endswith(b"\r")
        if not self.crlf and self._all_good(block):
            count = len(block) // 11
            self.lines += count
            self.rows += count
            return block
        good, width = (self.clean_crlf, 12) if self.crlf else (self.clean, 11)
        out, at, size = [], 0, len(block)
        while at < size:
            end = good.match(block, at).end()
            if end > at:
                self.lines += (end - at) // width
                self.rows += (end - at) // width
                out.append(block[at:end].replace(b"\r\n", b"\n") if self.crlf else block[at:end])
            if end == size:
                break
            at = block.index(b"\n", end) + 1
            out.append(self._line(block[end:at - 1]))
        return b"".join(out)

    def _all_good(self, block: bytes) -> bool:
        """Is `block` nothing but lines of ten digits starting with the area code? Slices and a
        translate, each one C loop over the block: six times the regular expression's speed,
        for the block that is all good, as nearly every one is."""
        count, extra = divmod(len(block), 11)
        return (not extra and block.count(b"\n") == count and block[10::11] == b"\n" * count
                and not block.translate(None, b"0123456789\n")
                and all(block[i::11] == self.prefix[i:i + 1] * count for i in range(3)))

    def _line(self, raw: bytes, overlong: bool = False) -> bytes:
        self.lines += 1
        line = raw.strip()
        if overlong or len(raw) > MAX_LINE:
            reason = "not a ten-digit number (the line is too long)"
        elif len(line) == 10 and line.isdigit():
            if line.startswith(self.prefix):
                self.rows += 1
                return line + b"\n"
            reason = f"area code {line[:3].decode()}, not {self.prefix.decode()} (this file's)"
        elif not line:
            reason = "blank line"
        else:
            reason = "not a ten-digit number"
        self.rejected += 1
        text = raw.decode("utf-8", "replace")[:MAX_LINE]
        self.rejections.write(f"{self.job_id}\t{self.lines}\tinvalid\t{reason}\t{_copy_text(text)}\n".encode())
        return b""

    def store_rejections(self, cursor) -> None:
        self.rejections.seek(0)
        with cursor.copy("COPY import_rejections (import_job_id, line, kind, reason, raw) FROM STDIN") as copy:
            for block in iter(lambda: self.rejections.read(CHUNK_BYTES), b""):
                copy.write(block)


def _copy_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\x00", ""))
