from flask import Response, request, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import roles_required
from app.common.ratelimit import creation_limit
from app.contacts import imports, services
from app.contacts.schemas import (
    ContactCreateSchema, ContactListArgsSchema, ContactPageSchema, ContactSchema, ImportJobSchema,
    ImportUploadSchema, RejectionArgsSchema, RejectionPageSchema,
)

blp = Blueprint("contacts", __name__, url_prefix="/api",
                description="Contacts of a campaign, CSV imports and their reports")


@blp.route("/campaigns/<int:campaign_id>/contacts", methods=["GET"])
@blp.arguments(ContactListArgsSchema, location="query")
@blp.response(200, ContactPageSchema)
@roles_required("admin", "supervisor")
def list_contacts(args, campaign_id):
    """The campaign's contacts, filtered by status, time zone, import or a search."""
    return services.list_contacts(current_user, campaign_id, **args)


@blp.route("/campaigns/<int:campaign_id>/contacts", methods=["POST"])
@creation_limit
@blp.arguments(ContactCreateSchema)
@blp.response(201, ContactSchema)
@roles_required("admin", "supervisor")
def create_contact(data, campaign_id):
    """Add one contact; the number is normalised to E.164 and its time zone derived."""
    return services.create_contact(current_user, campaign_id, data)


@blp.route("/campaigns/<int:campaign_id>/contacts/<int:contact_id>", methods=["GET"])
@blp.response(200, ContactSchema)
@roles_required("admin", "supervisor")
def get_contact(campaign_id, contact_id):
    """One contact of the campaign."""
    return services.get_contact(current_user, campaign_id, contact_id)


@blp.route("/campaigns/<int:campaign_id>/contacts/import", methods=["POST"])
@creation_limit
@blp.arguments(ImportUploadSchema, location="form", content_type="multipart/form-data")
@blp.response(202, ImportJobSchema)
@blp.alt_response(413, description="The file is over the import size limit")
@roles_required("admin", "supervisor")
def import_contacts(form, campaign_id):
    """Upload a UTF-8 CSV of contacts; a `default` worker imports it (poll GET /api/imports/<id>)."""
    job = imports.accept_upload(current_user, "contacts", campaign_id, request.files.get("file"),
                                form.get("column_map"))
    imports.enqueue(job)
    return job


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
