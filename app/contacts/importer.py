"""The contact import a `default` worker runs: stream the stored CSV, land it in batches.

Per batch: rows are checked in Python (numbers to E.164, time zone), deduplicated within the
batch, checked against the do-not-call lists in one query, copied into a temporary table and
inserted with ON CONFLICT DO NOTHING (the (campaign, phone) key dedupes against everything
already in the campaign). Progress is committed after each batch so the API can report it. A
line that cannot be read (a byte that is not text, bad quoting) is rejected on its own; a file
that cannot be read on at all (removed from disk) fails the job and removes every contact it
had inserted: nothing half-imported remains.
"""
from __future__ import annotations

import csv
import hashlib
import logging
from datetime import datetime
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb
from sqlalchemy import delete

from app.campaigns.models import Campaign
from app.common.locks import TokenLock
from app.common.timeutil import utcnow
from app.contacts.models import MANUAL_DIAL_SOURCE, Contact
from app.imports import csvfile
from app.imports.models import ImportJob, ImportRejection
from app.common.phones import check_state, contact_timezone, format_e164, parse_phone, zones_agree
from app.extensions import db

log = logging.getLogger(__name__)


STAGE_COLUMNS = ("line", "phone_e164", "alt_phones", "first_name", "last_name", "email",
                 "custom_fields", "timezone", "region", "postal_code", "zones_agree",
                 "consent_kind", "consent_at", "consent_source", "consent_evidence_sha256")
STAGE_TYPES = ("int4", "text", "text[]", "text", "text", "text", "jsonb", "text", "text", "text", "bool",
               "text", "timestamptz", "text", "text")
# How a file may say which consent a contact gave.
CONSENT_WORDS = {"prior_express": "prior_express", "express": "prior_express",
                 "prior_express_written": "prior_express_written", "written": "prior_express_written",
                 "pewc": "prior_express_written"}


class RowError(ValueError):
    """Why one row cannot be imported (the message is shown to the user)."""


@dataclass
class Batch:
    rows: list = field(default_factory=list)        # tuples in STAGE_COLUMNS order
    rejections: list = field(default_factory=list)  # (line, kind, reason, raw)
    seen: dict = field(default_factory=dict)        # phone -> first line, within the batch
    read: int = 0


def _cell(fields: list[str], index: int | None) -> str:
    return fields[index].strip() if index is not None else ""


def column_indexes(header: list[str], resolved: dict) -> dict:
    def at(name):
        return header.index(name) if name else None

    return {
        "phone": at(resolved["phone"]),
        "alt_phones": [header.index(n) for n in resolved.get("alt_phones") or []],
        "custom": [(n, header.index(n)) for n in resolved.get("custom") or []],
        **{f: at(resolved.get(f)) for f in ("first_name", "last_name", "name", "email", "timezone",
                                             "state", "postal_code", "consent_kind", "consent_at",
                                             "consent_source", "consent_evidence")},
    }


def contact_row(fields: list[str], idx: dict, region: str) -> tuple:
    """One CSV row as a stage tuple (without the line); RowError with the reason otherwise."""
    try:
        number = parse_phone(fields[idx["phone"]], region)
    except ValueError as exc:
        raise RowError(f"phone: {exc}") from None
    phone = format_e164(number)
    alt = []
    for i in idx["alt_phones"]:
        if fields[i].strip():
            try:
                alt.append(format_e164(parse_phone(fields[i], region)))
            except ValueError as exc:
                raise RowError(f"alternate phone: {exc}") from None
    first, last = _cell(fields, idx["first_name"]), _cell(fields, idx["last_name"])
    if not first and not last and idx["name"] is not None:
        first, _, last = _cell(fields, idx["name"]).partition(" ")
    if len(first) > 100 or len(last) > 100:
        raise RowError("name: longer than 100 characters")
    email = _cell(fields, idx["email"]) or None
    if email is not None and ("@" not in email or len(email) > 254 or " " in email):
        raise RowError(f"email: not an email address: {email[:60]!r}")
    state, postal = _cell(fields, idx["state"]), _cell(fields, idx["postal_code"])
    if len(state) > 64 or len(postal) > 16:
        raise RowError("state or postal code: too long")
    try:
        state = check_state(state, phone) or ""
    except ValueError as exc:
        raise RowError(f"state: {exc}") from None
    try:
        zone = contact_timezone(phone, _cell(fields, idx["timezone"]), state, postal)
    except ValueError as exc:
        raise RowError(f"timezone: {exc}") from None
    custom = {name: fields[i] for name, i in idx["custom"] if fields[i] != ""}
    agree = zones_agree(zone, phone, state, postal)  # the refill windows it in SQL when True
    return (phone, alt, first, last, email, Jsonb(custom), zone, state or None, postal or None, agree,
            *consent_of(fields, idx))


def consent_of(fields: list[str], idx: dict) -> tuple:
    """(kind, given at, source, evidence SHA-256) of the row's consent, all None without one."""
    raw = _cell(fields, idx["consent_kind"]).lower().replace(" ", "_").replace("-", "_")
    if not raw:
        return (None, None, None, None)
    kind = CONSENT_WORDS.get(raw)
    if kind is None:
        raise RowError(f"consent_kind: {raw[:40]!r} is not prior_express or prior_express_written")
    when = _cell(fields, idx["consent_at"])
    try:
        given_at = datetime.fromisoformat(when)
    except ValueError:
        raise RowError(f"consent_at: not an ISO 8601 date and time: {when[:40]!r}") from None
    if given_at.tzinfo is None:
        raise RowError("consent_at: give the UTC offset (2026-11-01T10:00:00-05:00)")
    source = _cell(fields, idx["consent_source"])
    if not source or len(source) > 500:
        raise RowError("consent_source: say where the consent was given (1 to 500 characters)")
    evidence = _cell(fields, idx["consent_evidence"])
    return (kind, given_at, source, hashlib.sha256(evidence.encode()).hexdigest() if evidence else None)


def run_contact_import(job_id: int) -> ImportJob | None:
    """Run (or re-run after a crash) the import job `job_id`. Idempotent once finished.

    A redelivered task finds the job locked by the worker still running it and leaves it be.
    """
    lock = TokenLock(f"import:lock:{job_id}", ttl=300)
    if not lock.acquire():
        return db.session.get(ImportJob, job_id)
    try:
        return _run_contact_import(job_id, lock)
    finally:
        lock.release()


def _run_contact_import(job_id: int, lock: TokenLock) -> ImportJob | None:
    job = db.session.get(ImportJob, job_id)
    if job is None or job.kind != "contacts" or job.status in ("done", "failed"):
        return job
    if job.status == "running":  # a worker died mid-way: start again from a clean slate
        discard_job_rows(job)
    region = db.session.get(Campaign, job.campaign_id).default_region
    header = job.column_map["header"]
    idx = column_indexes(header, job.column_map["columns"])
    job.status, job.started_at, job.error = "running", utcnow(), None
    job.rows_read = job.imported = job.rejected = job.duplicates = job.dnc_skipped = 0
    db.session.commit()
    line = 0
    writer = BatchWriter(job)
    try:
        with csvfile.open_csv(job.stored_path, csvfile.stored_encoding(job)) as fh:
            batch = Batch()
            for line, fields, problem in csvfile.records(fh, header):
                batch.read += 1
                if problem is None:
                    try:
                        row = contact_row(fields, idx, region)
                    except RowError as exc:
                        problem = str(exc)
                if problem is not None:
                    batch.rejections.append((line, "invalid", problem, csvfile.raw_line(fields)))
                elif row[0] in batch.seen:
                    batch.rejections.append((line, "duplicate",
                                             f"duplicate of line {batch.seen[row[0]]}", csvfile.raw_line(fields)))
                else:
                    batch.seen[row[0]] = line
                    batch.rows.append((line, *row))
                if batch.read >= csvfile.BATCH_ROWS:
                    writer.submit(batch)
                    lock.refresh()
                    batch = Batch()
            writer.submit(batch)
            writer.finish()
    except (UnicodeDecodeError, OSError, csv.Error):
        writer.abandon()
        db.session.rollback()
        log.warning("import job %s could not read its file after line %s", job_id, line, exc_info=True)
        return _fail(job_id, f"The stored file could not be read after line {line}. Nothing was imported: "
                             "upload the file again.")
    except Exception:
        writer.abandon()
        db.session.rollback()
        log.exception("import job %s stopped on an unexpected error", job_id)
        return _fail(job_id, f"The import stopped on an unexpected error after line {line}. "
                             "Nothing was imported; try again or ask an administrator.")
    job.status, job.finished_at = "done", utcnow()
    db.session.commit()
    csvfile.discard(job.stored_path)
    return job


class BatchWriter:
    """Writes batches on a helper thread so the database works while the next batch is parsed.

    The thread only runs SQL on the session's own connection (never the ORM); the caller's
    thread touches the session only between batches, when the thread is idle, to record the
    counts and commit. So one connection and one transaction, as in any other service.
    """

    def __init__(self, job: ImportJob):
        self.job = job
        self.job_id, self.campaign_id = job.id, job.campaign_id
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"import-{job.id}")
        self.pending: tuple[Future, Batch] | None = None

    def submit(self, batch: Batch) -> None:
        self._collect()
        if batch.read:
            connection = db.session.connection().connection.driver_connection
            self.pending = (self.pool.submit(_write_batch, connection, self.job_id, self.campaign_id, batch), batch)

    def _collect(self) -> None:
        """Wait for the batch in flight, then count it and commit the progress."""
        if self.pending is None:
            return
        future, batch = self.pending
        self.pending = None
        inserted = future.result()
        counts = {"invalid": 0, "duplicate": 0, "dnc": 0}
        for rejection in batch.rejections:
            counts[rejection[1]] += 1
        job = self.job
        job.rows_read += batch.read
        job.imported += inserted
        job.rejected += counts["invalid"]
        job.duplicates += counts["duplicate"]
        job.dnc_skipped += counts["dnc"]
        db.session.commit()

    def finish(self) -> None:
        self._collect()
        self.pool.shutdown()

    def abandon(self) -> None:
        if self.pending is not None:
            try:
                self.pending[0].result()
            except Exception:  # noqa: BLE001 - the import is failing anyway; its cause is reported
                pass
            self.pending = None
        self.pool.shutdown()


def _write_batch(connection, job_id: int, campaign_id: int, batch: Batch) -> int:
    """DNC check, insert and skipped-row report of one batch; returns how many were inserted."""
    cursor = connection.cursor()
    # Each batch commits on its own for progress; waiting for its WAL flush buys nothing, since
    # a crash re-runs the whole job from a clean slate. The final commit of the job is durable.
    cursor.execute("SET LOCAL synchronous_commit TO OFF")
    cursor.execute("SELECT phone_e164 FROM dnc_entries WHERE phone_e164 = ANY(%s) "
                   "AND (campaign_id IS NULL OR campaign_id = %s)", ([r[1] for r in batch.rows], campaign_id))
    dnc = {r[0] for r in cursor.fetchall()}
    rows = []
    for row in batch.rows:
        if row[1] in dnc:
            batch.rejections.append((row[0], "dnc", "the number is on a do-not-call list", ""))
        else:
            rows.append(row)
    inserted = _insert(cursor, job_id, campaign_id, rows)
    for row in rows:
        if row[1] not in inserted:
            batch.rejections.append((row[0], "duplicate", "the number is already in the campaign", ""))
    with cursor.copy("COPY import_rejections (import_job_id, line, kind, reason, raw) FROM STDIN") as copy:
        for line, kind, reason, raw in batch.rejections:
            copy.write_row((job_id, line, kind, reason, raw))
    return len(inserted)


def _insert(cursor, job_id: int, campaign_id: int, rows: list[tuple]) -> set[str]:
    if not rows:
        return set()
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS contact_import_stage (line int, phone_e164 text, "
        "alt_phones text[], first_name text, last_name text, email text, custom_fields jsonb, "
        "timezone text, region text, postal_code text, zones_agree bool, consent_kind text, "
        "consent_at timestamptz, consent_source text, consent_evidence_sha256 text)"
    )
    with cursor.copy(f"COPY contact_import_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(STAGE_TYPES)
        for row in rows:
            copy.write_row(row)
    cursor.execute(
        "INSERT INTO contacts (campaign_id, import_job_id, phone_e164, alt_phones, first_name, "
        "last_name, email, custom_fields, timezone, region, postal_code, zones_agree) "
        "SELECT %s, %s, phone_e164, alt_phones, first_name, last_name, email, custom_fields, "
        "timezone, region, postal_code, zones_agree FROM contact_import_stage ORDER BY line "
        "ON CONFLICT (campaign_id, phone_e164) DO NOTHING RETURNING phone_e164",
        (campaign_id, job_id),
    )
    inserted = {r[0] for r in cursor.fetchall()}
    # A number an agent dialled by hand (never dialled on its own) that a list now brings: the
    # list's lead it becomes, with the row's details where the hand-made contact had none.
    cursor.execute(
        "UPDATE contacts c SET import_job_id = %s, "
        "first_name = CASE WHEN c.first_name = '' THEN s.first_name ELSE c.first_name END, "
        "last_name = CASE WHEN c.last_name = '' THEN s.last_name ELSE c.last_name END, "
        "email = COALESCE(c.email, s.email), region = COALESCE(c.region, s.region), "
        "postal_code = COALESCE(c.postal_code, s.postal_code), "
        "custom_fields = (c.custom_fields - 'source') || s.custom_fields "
        "FROM contact_import_stage s WHERE c.campaign_id = %s AND c.phone_e164 = s.phone_e164 "
        "AND c.import_job_id IS NULL AND c.custom_fields->>'source' = %s RETURNING c.phone_e164",
        (job_id, campaign_id, MANUAL_DIAL_SOURCE))
    inserted |= {r[0] for r in cursor.fetchall()}
    cursor.execute(  # consent given with a row goes with the contact it created
        "INSERT INTO consents (contact_id, phone_e164, kind, given_at, source, evidence_sha256) "
        "SELECT c.id, s.phone_e164, s.consent_kind, s.consent_at, s.consent_source, s.consent_evidence_sha256 "
        "FROM contact_import_stage s JOIN contacts c ON c.campaign_id = %s AND c.phone_e164 = s.phone_e164 "
        "AND c.import_job_id = %s WHERE s.consent_kind IS NOT NULL", (campaign_id, job_id))
    cursor.execute("TRUNCATE contact_import_stage")
    return inserted


def discard_job_rows(job: ImportJob) -> None:
    """Remove everything the job inserted: its contacts and its reported rows."""
    db.session.execute(delete(Contact).where(Contact.campaign_id == job.campaign_id,
                                             Contact.import_job_id == job.id))
    db.session.execute(delete(ImportRejection).where(ImportRejection.import_job_id == job.id))


def _fail(job_id: int, message: str) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    discard_job_rows(job)
    job.status, job.error, job.finished_at = "failed", message, utcnow()
    job.rows_read = job.imported = job.rejected = job.duplicates = job.dnc_skipped = 0
    db.session.commit()
    csvfile.discard(job.stored_path)
    log.warning("import job %s failed: %s", job_id, message)
    return job
