"""Import one area code's file of the national Do Not Call Registry, replacing its copy whole.

The file (one ten-digit number a line, millions of lines) streams in 1 MB chunks; runs of good
lines go to COPY as they are, checked by one regular expression, and only a line that breaks a
run is looked at on its own and, if bad, reported with its line number (registry_file). The
numbers land in a new table created in the same transaction, so COPY FREEZE writes them frozen
and all-visible (lookups are index-only at once, and no vacuum ever has to freeze them); the
primary key is built once, sorted, after the load, instead of row by row. Then, still in that
transaction, the area code's old partition is dropped and the new table attached in its place.
Any failure (an unreadable or truncated file, a file that would shrink the copy, a crash) rolls
it all back: the previous copy stays as it was, and the job says why.

The table is an ordinary logged one: an unlogged table would load faster but come back empty
after a crash, while its area code's date still vouched for it.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import BinaryIO, Callable

import psycopg
from psycopg.copy import QueuedLibpqWriter

from app.audit import services as audit
from app.common.timeutil import utcnow
from app.dnc import registry_file
from app.dnc.registry import forget_copy_dates, is_us_area_code, number_range
from app.dnc.registry_file import ImportFailed, LineScanner
from app.extensions import db
from app.imports.models import ImportJob

log = logging.getLogger(__name__)

SHRINK_LIMIT = 0.9  # a new copy under 90% of the old one is refused unless allowed: truncated?
SWAP_TRIES, SWAP_LOCK_TIMEOUT = 20, "200ms"
INDEX_BUILD_MEMORY = "256MB"
LOCK_CLASS = 31_041  # pg_advisory_xact_lock(class, area code): one import per area code at a time


class RegistryImportError(ValueError):
    """The import cannot start (the message says why); nothing was changed."""


@dataclass
class Progress:
    phase: str  # loading, indexing, swapping, done
    bytes_read: int
    size_bytes: int
    lines: int
    rows: int
    rejected: int
    seconds: float


def import_area_code(source: str | os.PathLike | BinaryIO, area_code: int, downloaded_on: date, *,
                     allow_shrink: bool = False, created_by_id: int | None = None,
                     on_progress: Callable[[Progress], None] | None = None) -> ImportJob:
    """Replace `area_code`'s copy of the registry with the file `source` (a path or a binary
    file), which the registry produced on `downloaded_on`. Returns the job, done or failed."""
    if not is_us_area_code(area_code):
        raise RegistryImportError(f"{area_code} is not a geographic area code of the US or its territories.")
    if downloaded_on > utcnow().date() + timedelta(days=1):
        raise RegistryImportError(f"The download date {downloaded_on.isoformat()} is in the future.")
    if isinstance(source, (str, os.PathLike)):
        try:
            fh = open(source, "rb")
        except OSError as exc:
            raise RegistryImportError(f"Cannot read {os.fspath(source)}: {exc.strerror}.") from None
        name = os.path.basename(os.fspath(source))
    else:
        fh, name = source, getattr(source, "name", "registry file")
    try:
        try:
            size = os.fstat(fh.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            size = 0
        job = ImportJob(kind="registry", filename=str(name)[:255], size_bytes=size, status="running",
                        column_map={"area_code": area_code, "downloaded_on": downloaded_on.isoformat()},
                        started_at=utcnow(), created_by_id=created_by_id)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        try:
            return _load_and_swap(job, fh, area_code, downloaded_on, allow_shrink, on_progress)
        except ImportFailed as exc:
            return _fail(job_id, str(exc))
        except (OSError, psycopg.OperationalError) as exc:
            return _fail(job_id, f"The import stopped: {exc}. Nothing was changed.")
        except Exception:
            log.exception("registry import job %s stopped on an unexpected error", job_id)
            return _fail(job_id, "The import stopped on an unexpected error. Nothing was changed; "
                                 "try again or ask an administrator.")
    finally:
        if fh is not source:
            fh.close()


def _load_and_swap(job: ImportJob, fh: BinaryIO, area_code: int, downloaded_on: date,
                   allow_shrink: bool, on_progress) -> ImportJob:
    with LineScanner(area_code, job.id) as scanner:
        return _replace_copy(job, fh, scanner, area_code, downloaded_on, allow_shrink, on_progress)


def _replace_copy(job: ImportJob, fh: BinaryIO, scanner: LineScanner, area_code: int, downloaded_on: date,
                  allow_shrink: bool, on_progress) -> ImportJob:
    """One transaction: load a new table, index it, swap it in for the area code's partition."""
    started = time.perf_counter()

    def report(phase: str) -> None:
        if on_progress is not None:
            on_progress(Progress(phase, scanner.bytes_read, job.size_bytes, scanner.lines, scanner.rows,
                                 scanner.rejected, time.perf_counter() - started))

    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_CLASS, area_code))
    if not cursor.fetchone()[0]:
        raise ImportFailed(f"Another import of area code {area_code} is running. Nothing was changed.")
    cursor.execute("SELECT rows FROM dnc_registry_area_codes WHERE area_code = %s", (area_code,))
    previous = cursor.fetchone()
    low, high = number_range(area_code)
    part, load = f"dnc_registry_numbers_{area_code}", f"dnc_registry_numbers_{area_code}_load"
    cursor.execute(f"CREATE TABLE {load} (number bigint NOT NULL, "
                   f"CONSTRAINT {load}_range CHECK (number >= {low} AND number < {high}))")
    # The queued writer sends from a thread of its own, so the next chunk is checked meanwhile.
    with cursor.copy(f"COPY {load} (number) FROM STDIN (FREEZE)", writer=QueuedLibpqWriter(cursor)) as copy:
        for chunk in iter(lambda: fh.read(registry_file.CHUNK_BYTES), b""):
            good = scanner.feed(chunk)
            if good:
                copy.write(good)
            report("loading")
        copy.write(scanner.finish())
    if scanner.rows == 0:
        raise ImportFailed(f"No number of area code {area_code} in the file ({scanner.lines:,} lines, "
                           f"{scanner.rejected:,} bad). Nothing was changed.")
    report("indexing")
    duplicates = _add_primary_key(cursor, load)
    rows = scanner.rows - duplicates
    if previous and rows < previous[0] * SHRINK_LIMIT and not allow_shrink:
        raise ImportFailed(f"The file has {rows:,} numbers where the copy it would replace has {previous[0]:,}: "
                           "a truncated download? Nothing was changed (allow it if it is right).")
    scanner.store_rejections(cursor)
    cursor.execute(
        "INSERT INTO dnc_registry_area_codes (area_code, downloaded_on, rows, imported_at, import_job_id) "
        "VALUES (%s, %s, %s, now(), %s) "
        "ON CONFLICT (area_code) DO UPDATE SET downloaded_on = excluded.downloaded_on, rows = excluded.rows, "
        "imported_at = excluded.imported_at, import_job_id = excluded.import_job_id",
        (area_code, downloaded_on, rows, job.id))
    report("swapping")
    _swap(cursor, part, load, low, high)  # last: lookups wait on it until the commit
    job.status, job.finished_at = "done", utcnow()
    job.rows_read, job.imported, job.rejected, job.duplicates = scanner.lines, rows, scanner.rejected, duplicates
    audit.record("dnc.registry_import", target_type="import_job", target_id=job.id, area_code=area_code,
                 downloaded_on=downloaded_on.isoformat(), numbers=rows, rejected=scanner.rejected,
                 duplicates=duplicates, replaced=previous[0] if previous else None)
    db.session.commit()
    forget_copy_dates()
    report("done")
    return job


def _add_primary_key(cursor, load: str) -> int:
    """Index the loaded numbers (one sorted build); a number listed twice is kept once.
    Returns how many repeats were dropped."""
    add = f"ALTER TABLE {load} ADD CONSTRAINT {load}_pkey PRIMARY KEY (number)"
    # Millions of keys sort in memory instead of spilling to disk (a tenth faster); building
    # the index also records the table's size for the planner, so no ANALYZE is needed.
    cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
    cursor.execute("SAVEPOINT registry_pkey")
    try:
        cursor.execute(add)
        duplicates = 0
    except psycopg.errors.UniqueViolation:  # rare: the registry's files list a number once
        cursor.execute("ROLLBACK TO SAVEPOINT registry_pkey")
        cursor.execute(f"DELETE FROM {load} WHERE ctid IN (SELECT ctid FROM (SELECT ctid, row_number() "
                       f"OVER (PARTITION BY number) AS n FROM {load}) d WHERE d.n > 1)")
        duplicates = cursor.rowcount
        cursor.execute(add)
    cursor.execute("RELEASE SAVEPOINT registry_pkey")
    return duplicates


def _swap(cursor, part: str, load: str, low: int, high: int) -> None:
    """Drop the old partition, put the new table in its place. Dropping locks the registry
    against lookups until the commit (milliseconds); waiting long for a query that holds it would
    stall every lookup queued behind the lock, so each try waits briefly, then steps back."""
    for attempt in range(1, SWAP_TRIES + 1):
        cursor.execute("SAVEPOINT registry_swap")
        try:
            cursor.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
            cursor.execute(f"DROP TABLE IF EXISTS {part}")
            cursor.execute(f"ALTER TABLE {load} RENAME TO {part}")
            cursor.execute(f"ALTER INDEX {load}_pkey RENAME TO {part}_pkey")
            cursor.execute(f"ALTER TABLE dnc_registry_numbers ATTACH PARTITION {part} "
                           f"FOR VALUES FROM ({low}) TO ({high})")
            cursor.execute("SET LOCAL lock_timeout = 0")
            cursor.execute("RELEASE SAVEPOINT registry_swap")
            return
        except psycopg.errors.LockNotAvailable:
            cursor.execute("ROLLBACK TO SAVEPOINT registry_swap")
            if attempt == SWAP_TRIES:
                raise ImportFailed("The registry stayed busy (a long query held it); nothing was changed: "
                                   "try again.") from None
            time.sleep(min(attempt * 0.25, 2.0))


def _fail(job_id: int, message: str) -> ImportJob:
    db.session.rollback()
    job = db.session.get(ImportJob, job_id)
    job.status, job.error, job.finished_at = "failed", message, utcnow()
    job.rows_read = job.imported = job.rejected = job.duplicates = 0
    db.session.commit()
    log.warning("registry import job %s failed: %s", job_id, message)
    return job
