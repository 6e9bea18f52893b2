from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import roles_required
from app.common.ratelimit import creation_limit
from app.contacts import lists, services
from app.contacts.schemas import (
    ConsentListSchema, ConsentSchema, ContactCreateSchema, ContactDetailSchema, ContactListArgsSchema,
    ContactListsSchema, ContactListStateSchema, ContactListUpdateSchema, ContactPageSchema, ContactSchema,
    ContactUpdateSchema, ImportUploadSchema, RecycleResultSchema, RecycleSchema, RevokedSchema, RevokeSchema,
)
from app.imports import jobs as imports
from app.imports.schemas import ImportJobSchema

blp = Blueprint("contacts", __name__, url_prefix="/api",
                description="Contacts of a campaign and their CSV import")


@blp.route("/campaigns/<int:campaign_id>/contacts", methods=["GET"])
@blp.arguments(ContactListArgsSchema, location="query")
@blp.response(200, ContactPageSchema)
@blp.alt_response(404, description="No such campaign (or not one of yours)")
@roles_required("admin", "supervisor")
def list_contacts(args, campaign_id):
    """The campaign's contacts, filtered by status, time zone, list or a search (part of a
    name, an email, or some digits of the number)."""
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
@blp.response(200, ContactDetailSchema)
@blp.alt_response(404, description="No such contact in this campaign (or not one of your campaigns)")
@roles_required("admin", "supervisor")
def get_contact(campaign_id, contact_id):
    """One contact of the campaign, with its list and its history: each call (when, agent, how
    it ended, disposition, notes) and its callbacks."""
    return services.contact_detail(current_user, campaign_id, contact_id)


@blp.route("/campaigns/<int:campaign_id>/contacts/<int:contact_id>", methods=["PATCH"])
@blp.arguments(ContactUpdateSchema)
@blp.response(200, ContactDetailSchema)
@blp.alt_response(404, description="No such contact in this campaign (or not one of your campaigns)")
@blp.alt_response(422, description="A field is wrong (a number that is not callable, an unknown time zone, ...)")
@roles_required("admin", "supervisor")
def update_contact(data, campaign_id, contact_id):
    """Edit a contact's details (audited); a new number is checked again and stored in E.164."""
    return services.update_contact(current_user, campaign_id, contact_id, data)


@blp.route("/campaigns/<int:campaign_id>/lists", methods=["GET"])
@blp.response(200, ContactListsSchema)
@blp.alt_response(404, description="No such campaign (or not one of yours)")
@roles_required("admin", "supervisor")
def list_lists(campaign_id):
    """The campaign's lists (one per upload, and the contacts added by hand), each with its
    contacts counted by status and by last outcome, and what a recycle would reset."""
    return lists.lists(current_user, campaign_id)


@blp.route("/campaigns/<int:campaign_id>/lists/<int:list_id>", methods=["PATCH"])
@blp.arguments(ContactListUpdateSchema)
@blp.response(200, ContactListStateSchema)
@blp.alt_response(404, description="No such list in this campaign")
@roles_required("admin", "supervisor")
def update_list(data, campaign_id, list_id):
    """Switch a list on or off (off: its contacts are not dialled), or rename it; audited."""
    return lists.update_list(current_user, campaign_id, list_id, data)


@blp.route("/campaigns/<int:campaign_id>/lists/<int:list_id>/recycle", methods=["POST"])
@creation_limit
@blp.arguments(RecycleSchema)
@blp.response(200, RecycleResultSchema)
@blp.alt_response(404, description="No such list in this campaign")
@blp.alt_response(422, description="No outcome chosen, or one that is never reset")
@roles_required("admin", "supervisor")
def recycle_list(data, campaign_id, list_id):
    """Give the list's contacts whose last call ended one of the chosen ways another pass
    (attempts counted afresh; never do-not-call, opted out, closed, or with a callback); audited."""
    return lists.recycle(current_user, campaign_id, list_id, data["outcomes"])


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


@blp.route("/campaigns/<int:campaign_id>/contacts/<int:contact_id>/consents", methods=["GET"])
@blp.response(200, ConsentListSchema)
@roles_required("admin", "supervisor")
def list_consents(campaign_id, contact_id):
    """The contact's consents, revoked ones included (when, how and by whom)."""
    return {"items": services.list_consents(current_user, campaign_id, contact_id)}


@blp.route("/campaigns/<int:campaign_id>/contacts/<int:contact_id>/consents", methods=["POST"])
@creation_limit
@blp.arguments(ConsentSchema)
@blp.response(201, ConsentSchema)
@roles_required("admin", "supervisor")
def add_consent(data, campaign_id, contact_id):
    """Record the contact's consent to be called (prior express, or prior express written)."""
    return services.add_consent(current_user, campaign_id, contact_id, data)


@blp.route("/consents/revoke", methods=["POST"])
@creation_limit
@blp.arguments(RevokeSchema)
@blp.response(200, RevokedSchema)
@roles_required("admin", "supervisor")
def revoke_consent(data):
    """The person asked not to be called: every campaign of the seller stops calling them at once."""
    return services.revoke_consent(current_user, data)
