"""Import jobs as the API sees them: accept an upload, then report progress and skipped rows."""
from __future__ import annotations

import csv

from flask import current_app
from sqlalchemy import select

from app.audit import services as audit
from app.campaigns import access
from app.common import tasks
from app.common.csvout import stream_csv
from app.common.jsonbody import load_json
from app.common.pagination import paginate
from app.imports import csvfile
from app.imports.models import ImportJob, ImportRejection
from app.imports.schemas import OUTCOMES
from app.errors import ApiError
from app.extensions import db

TASKS = {"contacts": tasks.IMPORT_CONTACTS, "dnc": tasks.IMPORT_DNC}
DNC_FIELDS = ("phone", "reason")


def parse_column_map(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = load_json(text)
    except ValueError:  # not JSON, or nested past what the parser takes
        raise csvfile.refuse("column_map must be a JSON object", field="column_map") from None
    if not isinstance(value, dict):
        raise csvfile.refuse("column_map must be a JSON object", field="column_map")
    return value


def accept_upload(user, kind: str, campaign_id: int | None, upload, column_map_text: str | None) -> ImportJob:
    """Store the upload and create its job; refuse what cannot import before any work starts."""
    if campaign_id is not None or kind == "contacts":
        access.get_campaign(user, campaign_id, manage=True)
    if upload is None or not upload.filename:
        raise csvfile.refuse("Attach the CSV file as the multipart field 'file'.")
    column_map = parse_column_map(column_map_text)
    config = current_app.config
    stored = csvfile.save_upload(upload.stream, config["UPLOAD_DIR"], config["IMPORT_MAX_BYTES"])
    path, size = stored.path, stored.size
    try:
        header = csvfile.read_header(path, stored.encoding)
        fields = csvfile.CONTACT_FIELDS if kind == "contacts" else DNC_FIELDS
        columns = csvfile.resolve_columns(header, column_map, fields)
    except BaseException:
        csvfile.discard(path)
        raise
    # How the stored file is read rides with the header and columns (the job has no column for
    # it); the report says it in words ("read as Windows-1252").
    job = ImportJob(kind=kind, campaign_id=campaign_id, filename=upload.filename[:255], stored_path=path,
                    size_bytes=size, column_map={"columns": columns, "header": header,
                                                 "encoding": stored.encoding, "read_as": stored.read_as},
                    created_by_id=user.id)
    db.session.add(job)
    db.session.flush()
    audit.record(f"{kind}.import", target_type="import_job", target_id=job.id, campaign_id=campaign_id,
                 filename=job.filename, size_bytes=size)
    db.session.commit()
    return job


def enqueue(job: ImportJob) -> None:
    """Hand the job to a `default` worker (by task name: the web process imports no worker code)."""
    tasks.send(TASKS[job.kind], job.id)


def get_job(user, job_id: int) -> ImportJob:
    """Admins see every job; supervisors the jobs of their campaigns and their own DNC imports."""
    job = db.session.get(ImportJob, job_id)
    if job is None:
        raise access.not_found("import")
    if user.role == "admin":
        return job
    if job.campaign_id is not None:
        if not access.can_see_campaign(user, job.campaign_id) or user.role != "supervisor":
            raise access.not_found("import")
    elif job.created_by_id != user.id:
        raise access.not_found("import")
    return job


def list_rejections(user, job_id: int, page: int, per_page: int, kind: str | None = None) -> dict:
    job = get_job(user, job_id)
    query = select(ImportRejection).where(ImportRejection.import_job_id == job.id).order_by(ImportRejection.line)
    if kind:
        query = query.where(ImportRejection.kind == kind)
    return paginate(query, page, per_page)


def rejections_csv(user, job_id: int, kind: str | None = None):
    """The skipped rows as CSV (line, outcome, reason, then the row's own cells), streamed.

    Every cell, the row's own above all (text someone uploaded), is written by `stream_csv`,
    which defuses what a spreadsheet would run as a formula.
    """
    job = get_job(user, job_id)
    query = (select(ImportRejection.line, ImportRejection.kind, ImportRejection.reason, ImportRejection.raw)
             .where(ImportRejection.import_job_id == job.id).order_by(ImportRejection.line))
    if kind:
        query = query.where(ImportRejection.kind == kind)
    header = (job.column_map or {}).get("header") or []

    def rows():
        for line, row_kind, reason, raw in db.session.execute(query.execution_options(yield_per=2000)):
            yield [line, OUTCOMES.get(row_kind, row_kind), reason, *raw_cells(raw)]

    return job, stream_csv(["line", "outcome", "reason", *header], rows())


def raw_cells(raw: str) -> list[str]:
    """A rejected row's cells from its stored line (a line broken past reading: the one cell)."""
    if not raw:
        return []
    try:
        return next(csv.reader([raw], strict=True), [])
    except csv.Error:
        return [raw]


def require_kind(job: ImportJob, kind: str) -> None:
    if job.kind != kind:
        raise ApiError(404, "No such import", "not_found")
