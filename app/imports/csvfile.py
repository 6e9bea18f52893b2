"""CSV uploads: stored to disk as they stream in, refused early when they cannot be imported.

What can be known before a worker starts is checked here (size, header, columns), so a broken
file is refused with a clear error and no job. Rows are read one at a time with their line
numbers; nothing here holds a whole file in memory. How the text is encoded: textcoding.py.
"""
from __future__ import annotations

import codecs
import csv
import os
import re
import uuid
from dataclasses import dataclass

from app.common.csvout import encode_row
from app.errors import ApiError
from app.imports.textcoding import (ENCODING, ENCODING_NAMES, UNREADABLE, EncodingWatch, shown_byte,
                                    unreadable_at)

CHUNK = 64 * 1024
SAVE_AS = "save it from your spreadsheet as 'CSV UTF-8' (or plain 'CSV') and upload it again"

CONTACT_FIELDS = ("phone", "alt_phones", "first_name", "last_name", "name", "email", "timezone",
                  "state", "postal_code", "consent_kind", "consent_at", "consent_source", "consent_evidence",
                  "custom")
LIST_FIELDS = ("alt_phones", "custom")
ALIASES = {
    "phone": ("phone", "phone_number", "phonenumber", "number", "telephone", "tel", "mobile", "cell",
              "primary_phone", "phone1", "phone_1", "msisdn"),
    "first_name": ("first_name", "firstname", "first", "given_name"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name"),
    "name": ("name", "full_name", "fullname", "contact_name"),
    "email": ("email", "e_mail", "email_address"),
    "timezone": ("timezone", "time_zone", "tz"),
    "state": ("state", "region", "province", "state_code"),
    "postal_code": ("postal_code", "zip", "zip_code", "zipcode", "postcode", "postal"),
    "reason": ("reason", "note", "notes"),
    "consent_kind": ("consent_kind", "consent", "consent_type"),
    "consent_at": ("consent_at", "consent_date", "consent_given_at", "consented_at"),
    "consent_source": ("consent_source", "consent_url", "lead_source"),
    "consent_evidence": ("consent_evidence", "consent_text", "consent_language"),
}
_ALT_PHONE = re.compile(r"^((alt|alternate|other|secondary|home|work)_?phone_?\d*|phone_?[2-9])$")


def refuse(message: str, field: str = "file", status: int = 422, code: str = "invalid_file") -> ApiError:
    return ApiError(status, message, code, {field: [message]})


@dataclass(frozen=True)
class StoredUpload:
    path: str
    size: int      # bytes as uploaded
    encoding: str  # how to read the stored file: ENCODING or WINDOWS_1252
    read_as: str   # the uploaded file's encoding in words ("UTF-8", "Windows-1252", "UTF-16")


def save_upload(stream, upload_dir: str, max_bytes: int) -> StoredUpload:
    """Copy `stream` to a new file under `upload_dir`, checking its size and reading its
    encoding on the way (see the module's docstring).

    Refuses (and removes the partial file) when the upload is too big, empty or binary.
    """
    os.makedirs(upload_dir, exist_ok=True)
    path = os.path.join(upload_dir, f"{uuid.uuid4().hex}.csv")
    watch = EncodingWatch()
    utf16 = None  # an incremental decoder once a UTF-16 byte-order mark is seen
    size = 0
    try:
        with open(path, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                if size + len(chunk) > max_bytes:
                    raise refuse(f"The file is larger than the {max_bytes // (1024 * 1024)} MB import limit; "
                                 "split it and import the parts.", status=413, code="payload_too_large")
                if size == 0:
                    if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                        utf16 = codecs.getincrementaldecoder("utf-16")(errors="strict")
                    watch.utf8_bom = chunk.startswith(codecs.BOM_UTF8)
                size += len(chunk)
                if utf16 is not None:
                    out.write(_from_utf16(utf16, chunk))
                    continue
                if b"\x00" in chunk:
                    raise refuse("The file is binary (it contains NUL bytes), not a CSV text file: "
                                 f"{SAVE_AS}.")
                watch.feed(chunk)
                out.write(chunk)
            if utf16 is not None:
                out.write(_from_utf16(utf16, b"", final=True))
            else:
                watch.feed(b"", final=True)
        if size == 0:
            raise refuse("The file is empty: choose the CSV file again, or save the sheet before uploading it.")
    except BaseException:
        discard(path)
        raise
    if utf16 is not None:
        return StoredUpload(path, size, ENCODING, "UTF-16")
    encoding = watch.encoding()
    return StoredUpload(path, size, encoding, ENCODING_NAMES[encoding])


def _from_utf16(decoder, chunk: bytes, final: bool = False) -> bytes:
    try:
        return decoder.decode(chunk, final).encode("utf-8")
    except UnicodeError:  # a lone surrogate, or an odd number of bytes
        raise refuse(f"The file starts as UTF-16 text but is broken part-way: {SAVE_AS}.") from None


def discard(path: str | None) -> None:
    if path:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def stored_encoding(job) -> str:
    """How an import job's stored file is read (a file stored before this was recorded: UTF-8)."""
    return (job.column_map or {}).get("encoding") or ENCODING


def open_csv(path: str, encoding: str = ENCODING):
    """The stored file as text; a byte that is not text in `encoding` reads as a lone surrogate
    (U+DC80 to U+DCFF) for `records` to find and report."""
    return open(path, encoding=encoding, errors="surrogateescape", newline="")


def read_header(path: str, encoding: str = ENCODING) -> list[str]:
    with open_csv(path, encoding) as fh:
        try:
            header = next(csv.reader(fh, strict=True), None)
        except csv.Error as exc:
            raise refuse(f"The header line cannot be read as CSV: {exc}.") from None
    if header and (where := unreadable_at([",".join(header)])):
        raise refuse(f"The header line (line 1) is not readable text ({where}): {SAVE_AS}.")
    if not header or not any(h.strip() for h in header):
        raise refuse("The first line must be a header naming the columns (phone, first_name, ...).")
    return [h.strip() for h in header]


def _key(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", name.strip().lower())


def resolve_columns(header: list[str], column_map: dict | None, fields=CONTACT_FIELDS) -> dict:
    """Which header column feeds which field: explicit `column_map` first, then known names.

    Returns {field: column name} (lists for alt_phones and custom). Refuses a map naming columns
    the header lacks, and a file without a phone column.
    """
    column_map = dict(column_map or {})
    unknown = sorted(set(column_map) - set(fields))
    if unknown:
        raise refuse(f"Unknown fields in the column map: {', '.join(unknown)}. Known: {', '.join(fields)}.",
                     field="column_map")
    missing = []
    for field, value in column_map.items():
        names = value if isinstance(value, list) else [value]
        if field in LIST_FIELDS and not isinstance(value, list) or not all(isinstance(n, str) for n in names):
            raise refuse(f"column_map.{field} must be {'a list of' if field in LIST_FIELDS else 'a'} "
                         "column name(s).", field="column_map")
        missing += [n for n in names if n not in header]
    if missing:
        raise refuse(f"The column map names columns the file does not have: {', '.join(missing)}. "
                     f"The header is: {', '.join(header)}.", field="column_map")
    resolved: dict = {}
    used = set()
    for field in fields:
        if field in column_map:
            resolved[field] = column_map[field]
        elif field in ALIASES:
            match = next((h for h in header if _key(h) in ALIASES[field] and h not in used), None)
            if match is not None:
                resolved[field] = match
        elif field == "alt_phones":
            resolved[field] = [h for h in header if _ALT_PHONE.match(_key(h))]
        else:
            continue
        value = resolved.get(field)
        used.update(value if isinstance(value, list) else [value] if value else [])
    if "custom" in fields and "custom" not in column_map:
        resolved["custom"] = [h for h in header if h and h not in used]
    if not resolved.get("phone"):
        raise refuse("The file has no phone column. Name one 'phone' (or phone_number, mobile, ...) "
                     f"or say which it is in column_map; the header is: {', '.join(header)}.")
    return resolved


MAX_FIELD = 1000  # characters a field may hold; a longer one rejects its line (see records)


class _Lines:
    """The physical lines csv.reader takes, kept until the record they make is read."""

    def __init__(self, fh):
        self.fh = fh
        self.taken: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        text = next(self.fh)
        self.taken.append(text)
        return text

    def take(self) -> list[str]:
        taken, self.taken = self.taken, []
        return taken


def records(fh, header: list[str]):
    """Yield (line, fields, problem) for each non-blank record after the header.

    `line` is where the record starts in the file (the header is line 1). `problem` is why the
    line is not imported, in words: bad quoting, a wrong number of fields, a byte that is not
    text, a field longer than MAX_FIELD characters. `fields` is None when the line could not
    be parsed at all.

    A field over MAX_FIELD rejects its line rather than being cut: a cut field is data lost
    without anyone seeing it, and a cell that long is nearly always a broken export (columns
    run together). The whole line stays in the rejected rows, to fix and upload again.
    """
    lines = _Lines(fh)
    reader = csv.reader(lines, strict=True)
    next(reader, None)
    lines.take()
    previous = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line, previous = previous + 1, reader.line_num
            where = unreadable_at(lines.take())
            yield line, None, f"not readable text ({where})" if where else f"broken CSV line: {exc}"
            continue
        line, previous = previous + 1, reader.line_num
        taken = lines.take()
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        where = unreadable_at(taken)
        if where:
            yield line, fields, f"not readable text ({where}); the line is kept as it came in the rejected rows"
            continue
        if len(fields) != len(header):
            yield line, fields, f"broken line: {len(fields)} fields where the header has {len(header)}"
            continue
        long = next((i for i, value in enumerate(fields) if len(value) > MAX_FIELD), None)
        if long is not None:
            yield line, fields, (f"column '{header[long][:40]}' holds {len(fields[long]):,} characters; "
                                 f"a field may hold at most {MAX_FIELD:,}")
            continue
        yield line, fields, None


BATCH_ROWS = 5000  # rows an import writes (and reports progress) at a time
MAX_RAW = 20_000  # characters of a rejected row kept for the report


def raw_line(fields: list[str] | None) -> str:
    """A rejected row as it came, for the report (one CSV line, cut at MAX_RAW characters).

    A byte that is not UTF-8 is shown as the character Windows-1252 gives it (or Latin-1 where
    that has none): the database stores text only, and that is what the sender most likely meant.
    """
    if fields is None:
        return ""
    return UNREADABLE.sub(shown_byte, encode_row(fields)[:MAX_RAW])
