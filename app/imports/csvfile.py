"""CSV uploads: stored to disk as they stream in, refused early when they cannot be imported.

What can be known before a worker starts is checked here (size, encoding, header, columns), so
a broken file is refused with a clear error and no job. Rows are read one at a time with their
line numbers; nothing here holds a whole file in memory.
"""
from __future__ import annotations

import codecs
import csv
import os
import re
import uuid

from app.common.csvout import encode_row
from app.errors import ApiError

ENCODING = "utf-8-sig"  # UTF-8, with or without the byte-order mark spreadsheets write
CHUNK = 64 * 1024

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


def save_upload(stream, upload_dir: str, max_bytes: int) -> tuple[str, int]:
    """Copy `stream` to a new file under `upload_dir`, checking size and UTF-8 on the way.

    Returns (path, size). Refuses (and removes the partial file) when the upload is too big,
    empty, binary or not UTF-8, naming the byte offset of the first bad byte.
    """
    os.makedirs(upload_dir, exist_ok=True)
    path = os.path.join(upload_dir, f"{uuid.uuid4().hex}.csv")
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
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
                if b"\x00" in chunk:
                    raise refuse("The file is binary (it contains NUL bytes), not a CSV text file.")
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise refuse(f"The file is not UTF-8 text (byte 0x{chunk[exc.start]:02x} at offset "
                                 f"{size + exc.start}); save it as 'CSV UTF-8' and upload it again.") from None
                out.write(chunk)
                size += len(chunk)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise refuse("The file is not UTF-8 text (it ends inside a character).") from None
        if size == 0:
            raise refuse("The file is empty.")
    except BaseException:
        discard(path)
        raise
    return path, size


def discard(path: str | None) -> None:
    if path:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def open_csv(path: str):
    return open(path, encoding=ENCODING, errors="strict", newline="")


def read_header(path: str) -> list[str]:
    with open_csv(path) as fh:
        try:
            header = next(csv.reader(fh, strict=True), None)
        except csv.Error as exc:
            raise refuse(f"The header line cannot be read as CSV: {exc}.") from None
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


def records(fh, header_length: int):
    """Yield (line, fields, problem) for each non-blank record after the header.

    `line` is where the record starts in the file (the header is line 1). `problem` is why the
    line is broken (bad quoting, wrong number of fields); `fields` is None when it could not be
    parsed at all. A decode error is not caught here: it means the file itself is broken.
    """
    reader = csv.reader(fh, strict=True)
    next(reader, None)
    previous = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line, previous = previous + 1, reader.line_num
            yield line, None, f"broken CSV line: {exc}"
            continue
        line, previous = previous + 1, reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) != header_length:
            yield line, fields, f"broken line: {len(fields)} fields where the header has {header_length}"
            continue
        yield line, fields, None


BATCH_ROWS = 5000  # rows an import writes (and reports progress) at a time
MAX_RAW = 2000  # characters of a rejected row kept for the report


def raw_line(fields: list[str] | None) -> str:
    """A rejected row as it came, for the report (one CSV line, cut at MAX_RAW characters)."""
    if fields is None:
        return ""
    return encode_row(fields)[:MAX_RAW]
