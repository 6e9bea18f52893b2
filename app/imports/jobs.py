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
    path, size = csvfile.save_upload(upload.stream, config["UPLOAD_DIR"], config["IMPORT_MAX_BYTES"])
    try:
        header = csvfile.read_header(path)
        fields = csvfile.CONTACT_FIELDS if kind == "contacts" else DNC_FIELDS
        columns = csvfile.resolve_columns(header, column_map, fields)
    except BaseException:
        csvfile.discard(path)
        raise
    job = ImportJob(kind=kind, campaign_id=campaign_id, filename=upload.filename[:255], stored_path=path,
                    size_bytes=size, column_map={"columns": columns, "header": header},
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
    """The skipped rows as CSV (line, kind, reason, then the row), streamed; formulas defused."""
    job = get_job(user, job_id)
    query = (select(ImportRejection.line, ImportRejection.kind, ImportRejection.reason, ImportRejection.raw)
             .where(ImportRejection.import_job_id == job.id).order_by(ImportRejection.line))
    if kind:
        query = query.where(ImportRejection.kind == kind)
    header = (job.column_map or {}).get("header") or []

    def rows():
        for line, row_kind, reason, raw in db.session.execute(query.execution_options(yield_per=2000)):
            yield [line, row_kind, reason, *(next(csv.reader([raw]), []) if raw else [])]

    return job, stream_csv(["line", "kind", "reason", *header], rows())


def require_kind(job: ImportJob, kind: str) -> None:
    if job.kind != kind:
        raise ApiError(404, "No such import", "not_found")
