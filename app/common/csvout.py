"""The one CSV writer for every CSV Omnivox hands out (reports, exports).

Cells often hold text someone else chose (an uploaded row, a carrier's error message), and a
spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
(CSV injection). Such a cell is written with a leading single quote, as OWASP advises, so it
shows as text. A plain number is left alone: "+12125550100" and "-12.5" stay readable, while
"+1+1" or "-1+cmd|..." are not plain numbers and are defused.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\Z")
CHUNK_CHARS = 64 * 1024


def neutralise(value):
    """The cell as it is safe to write: None is empty, formula-like text gets a leading quote."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value  # numbers and booleans cannot carry a formula
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


class CsvWriter:
    """Rows in, CSV text out in chunks: every cell goes through `neutralise`."""

    def __init__(self):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def writerow(self, cells: Iterable) -> None:
        self._writer.writerow([neutralise(cell) for cell in cells])

    def pending(self) -> int:
        """Characters written since the last `take`."""
        return self._buffer.tell()

    def take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


def stream_csv(header: Iterable, rows: Iterable[Iterable], chunk_chars: int = CHUNK_CHARS) -> Iterator[str]:
    """The header and rows as CSV text, a chunk of about `chunk_chars` at a time, for streaming."""
    out = CsvWriter()
    out.writerow(header)
    for row in rows:
        out.writerow(row)
        if out.pending() >= chunk_chars:
            yield out.take()
    yield out.take()


def encode_row(fields: Iterable[str]) -> str:
    """One row as a CSV line without its line end, kept as it came (not for handing out).

    Imports store each rejected row in this form so that its report can give it back column by
    column; the report itself is written with `CsvWriter`, which defuses it then.
    """
    out = io.StringIO()
    csv.writer(out).writerow(list(fields))
    return out.getvalue().rstrip("\r\n")
