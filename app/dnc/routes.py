from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import roles_required
from app.common.ratelimit import creation_limit
from app.dnc import services
from app.imports import jobs as imports
from app.imports.schemas import ImportJobSchema
from app.dnc.schemas import (
    DncAddSchema, DncCheckArgsSchema, DncCheckSchema, DncEntrySchema, DncImportFormSchema,
    DncListArgsSchema, DncPageSchema,
)

blp = Blueprint("dnc", __name__, url_prefix="/api/dnc",
                description="Do-not-call lists: internal and per campaign (every change audited)")


@blp.route("", methods=["GET"])
@blp.arguments(DncListArgsSchema, location="query")
@blp.response(200, DncPageSchema)
@roles_required("admin", "supervisor")
def list_dnc(args):
    """Search the lists (supervisors: the internal list and their campaigns' lists)."""
    return services.list_entries(current_user, **args)


@blp.route("", methods=["POST"])
@creation_limit
@blp.arguments(DncAddSchema)
@blp.response(201, DncEntrySchema)
@roles_required("admin", "supervisor")
def add_dnc(data):
    """Add a number to the internal list or to a campaign's list."""
    return services.add_entry(current_user, data["phone"], data["campaign_id"], data["reason"])


@blp.route("/check", methods=["GET"])
@blp.arguments(DncCheckArgsSchema, location="query")
@blp.response(200, DncCheckSchema)
@roles_required("admin", "supervisor")
def check_dnc(args):
    """Would this number be refused in this campaign (or anywhere, without a campaign)?"""
    return services.check(current_user, args["phone"], args["campaign_id"])


@blp.route("/<int:entry_id>", methods=["GET"])
@blp.response(200, DncEntrySchema)
@roles_required("admin", "supervisor")
def get_dnc(entry_id):
    """One entry."""
    return services.get_entry(current_user, entry_id)


@blp.route("/<int:entry_id>", methods=["DELETE"])
@blp.response(204)
@roles_required("admin")
def remove_dnc(entry_id):
    """Take a number off a list (admins only)."""
    services.remove_entry(current_user, entry_id)


@blp.route("/import", methods=["POST"])
@creation_limit
@blp.arguments(DncImportFormSchema, location="form", content_type="multipart/form-data")
@blp.response(202, ImportJobSchema)
@roles_required("admin", "supervisor")
def import_dnc(form):
    """Upload a UTF-8 CSV with a phone column (and optional reason) to add to a list."""
    job = imports.accept_upload(current_user, "dnc", form.get("campaign_id"), request.files.get("file"),
                                form.get("column_map"))
    imports.enqueue(job)
    return job
