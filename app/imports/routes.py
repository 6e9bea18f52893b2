"""An import's progress and its rejected lines (contacts and do-not-call imports alike)."""
from flask import Response, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import roles_required
from app.imports import jobs as imports
from app.imports.schemas import ImportJobSchema, RejectionArgsSchema, RejectionPageSchema

blp = Blueprint("imports", __name__, url_prefix="/api", description="CSV imports and their reports")


@blp.route("/imports/<int:job_id>", methods=["GET"])
@blp.response(200, ImportJobSchema)
@roles_required("admin", "supervisor")
def get_import(job_id):
    """Progress and counts of an import: rows read, imported, rejected, duplicates, DNC skipped."""
    return imports.get_job(current_user, job_id)


@blp.route("/imports/<int:job_id>/rejections", methods=["GET"])
@blp.arguments(RejectionArgsSchema, location="query")
@blp.response(200, RejectionPageSchema)
@roles_required("admin", "supervisor")
def list_rejections(args, job_id):
    """Rows not imported, by line, with the reason (kind: invalid, duplicate, dnc)."""
    return imports.list_rejections(current_user, job_id, **args)


@blp.route("/imports/<int:job_id>/rejections.csv", methods=["GET"])
@blp.arguments(RejectionArgsSchema, location="query")
@blp.response(200, description="CSV: line, kind, reason, then the row's own columns")
@roles_required("admin", "supervisor")
def download_rejections(args, job_id):
    """The rows not imported as a CSV to fix and upload again."""
    job, chunks = imports.rejections_csv(current_user, job_id, args.get("kind"))
    return Response(stream_with_context(chunks), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="import-{job.id}-rejections.csv"'})
