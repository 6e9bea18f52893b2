"""The do-not-call import a `default` worker runs: stream the CSV, add numbers in batches.

Adding a number twice is harmless (ON CONFLICT DO NOTHING on the list's unique index), so a
rerun after a crash simply continues. A file broken part-way fails the job and removes what it
had added, so nothing half-imported stays on the list.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import delete

from app.audit import services as audit
from app.auth.models import User
from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.imports import csvfile
from app.imports.models import ImportJob, ImportRejection
from app.common.phones import normalize_phone
from app.dnc.models import DncEntry
from app.extensions import db

log = logging.getLogger(__name__)


def run_dnc_import(job_id: int) -> ImportJob | None:
    job = db.session.get(ImportJob, job_id)
    if job is None or job.kind != "dnc" or job.status in ("done", "failed"):
        return job
    db.session.execute(delete(ImportRejection).where(ImportRejection.import_job_id == job.id))
    job.status, job.started_at, job.error = "running", utcnow(), None
    job.rows_read = job.imported = job.rejected = job.duplicates = job.dnc_skipped = 0
    db.session.commit()
    region = current_app.config["DEFAULT_PHONE_REGION"]
    if job.campaign_id is not None:
        region = db.session.get(Campaign, job.campaign_id).default_region
    header = job.column_map["header"]
    phone_at = header.index(job.column_map["columns"]["phone"])
    reason_name = job.column_map["columns"].get("reason")
    reason_at = header.index(reason_name) if reason_name else None
    line = 0
    rows, rejections, read = {}, [], 0
    try:
        with csvfile.open_csv(job.stored_path, csvfile.stored_encoding(job)) as fh:
            for line, fields, problem in csvfile.records(fh, header):
                read += 1
                if problem is None:
                    try:
                        phone = normalize_phone(fields[phone_at], region)
                    except ValueError as exc:
                        problem = f"phone: {exc}"
                if problem is not None:
                    rejections.append((line, "invalid", problem, csvfile.raw_line(fields)))
                elif phone in rows:
                    rejections.append((line, "duplicate", f"duplicate of line {rows[phone][0]}", ""))
                else:
                    reason = fields[reason_at].strip()[:500] if reason_at is not None else ""
                    rows[phone] = (line, reason)
                if read >= csvfile.BATCH_ROWS:
                    _land(job, rows, rejections, read)
                    rows, rejections, read = {}, [], 0
            _land(job, rows, rejections, read)
    except (UnicodeDecodeError, OSError) as exc:
        db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        db.session.execute(delete(DncEntry).where(DncEntry.source == f"import:{job.id}"))
        db.session.execute(delete(ImportRejection).where(ImportRejection.import_job_id == job.id))
        job.status, job.finished_at = "failed", utcnow()
        log.warning("DNC import %s could not read its file after line %s: %s", job.id, line, exc)
        job.error = (f"The stored file could not be read after line {line}. Nothing was imported: "
                     "upload the file again.")
        job.rows_read = job.imported = job.rejected = job.duplicates = 0
        db.session.commit()
        csvfile.discard(job.stored_path)
        return job
    job.status, job.finished_at = "done", utcnow()
    audit.record("dnc.import_done", target_type="import_job", target_id=job.id,
                 actor=db.session.get(User, job.created_by_id) if job.created_by_id else None,
                 campaign_id=job.campaign_id, added=job.imported, already_listed=job.duplicates,
                 rejected=job.rejected)
    db.session.commit()
    csvfile.discard(job.stored_path)
    return job


def _land(job: ImportJob, rows: dict, rejections: list, read: int) -> None:
    if not read:
        return
    cursor = db.session.connection().connection.driver_connection.cursor()
    inserted: set[str] = set()
    if rows:
        phones = list(rows)
        target = ("(phone_e164) WHERE campaign_id IS NULL" if job.campaign_id is None
                  else "(campaign_id, phone_e164) WHERE campaign_id IS NOT NULL")
        cursor.execute(
            "INSERT INTO dnc_entries (phone_e164, campaign_id, source, reason, created_by_id) "
            "SELECT p, %s, %s, r, %s FROM unnest(%s::text[], %s::text[]) AS t(p, r) "
            f"ON CONFLICT {target} DO NOTHING RETURNING phone_e164",
            (job.campaign_id, f"import:{job.id}"[:16], job.created_by_id, phones,
             [rows[p][1] for p in phones]),
        )
        inserted = {r[0] for r in cursor.fetchall()}
        for phone in phones:
            if phone not in inserted:
                rejections.append((rows[phone][0], "duplicate", "the number is already on the list", ""))
    with cursor.copy("COPY import_rejections (import_job_id, line, kind, reason, raw) FROM STDIN") as copy:
        for line, kind, reason, raw in rejections:
            copy.write_row((job.id, line, kind, reason, raw))
    job.rows_read += read
    job.imported += len(inserted)
    job.rejected += sum(1 for r in rejections if r[1] == "invalid")
    job.duplicates += sum(1 for r in rejections if r[1] == "duplicate")
    db.session.commit()
