from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import login_required, roles_required
from app.campaigns import codes
from app.campaigns.schemas import (
    DispositionCodeListSchema, DispositionCodeSchema, DispositionCodeUpdateSchema,
    PauseCodeListArgsSchema, PauseCodePageSchema, PauseCodeSchema, PauseCodeUpdateSchema,
)
from app.common.ratelimit import creation_limit

blp = Blueprint("codes", __name__, url_prefix="/api", description="Disposition codes and pause codes")


@blp.route("/campaigns/<int:campaign_id>/disposition-codes", methods=["GET"])
@blp.response(200, DispositionCodeListSchema)
@login_required
def list_disposition_codes(campaign_id):
    """The campaign's disposition codes (agents and supervisors: active ones)."""
    return {"items": codes.list_disposition_codes(current_user, campaign_id)}


@blp.route("/campaigns/<int:campaign_id>/disposition-codes", methods=["POST"])
@creation_limit
@blp.arguments(DispositionCodeSchema)
@blp.response(201, DispositionCodeSchema)
@roles_required("admin")
def create_disposition_code(data, campaign_id):
    """Add a disposition code with its flags (contact, sale, do-not-call, callback, final)."""
    return codes.create_disposition_code(current_user, campaign_id, data)


@blp.route("/campaigns/<int:campaign_id>/disposition-codes/<int:code_id>", methods=["PATCH"])
@blp.arguments(DispositionCodeUpdateSchema)
@blp.response(200, DispositionCodeSchema)
@roles_required("admin")
def update_disposition_code(data, campaign_id, code_id):
    """Change a disposition code's label, flags or order."""
    return codes.update_disposition_code(current_user, campaign_id, code_id, data)


@blp.route("/campaigns/<int:campaign_id>/disposition-codes/<int:code_id>", methods=["DELETE"])
@blp.response(200, DispositionCodeSchema)
@roles_required("admin")
def delete_disposition_code(campaign_id, code_id):
    """Retire a disposition code (kept for the interactions that used it)."""
    return codes.deactivate_disposition_code(current_user, campaign_id, code_id)


@blp.route("/pause-codes", methods=["GET"])
@blp.arguments(PauseCodeListArgsSchema, location="query")
@blp.response(200, PauseCodePageSchema)
@login_required
def list_pause_codes(args):
    """Global pause codes and those of the campaigns the caller may see."""
    return codes.list_pause_codes(current_user, **args)


@blp.route("/pause-codes", methods=["POST"])
@creation_limit
@blp.arguments(PauseCodeSchema)
@blp.response(201, PauseCodeSchema)
@roles_required("admin")
def create_pause_code(data):
    """Add a pause code, global (campaign_id null) or for one campaign."""
    return codes.create_pause_code(current_user, data)


@blp.route("/pause-codes/<int:code_id>", methods=["PATCH"])
@blp.arguments(PauseCodeUpdateSchema)
@blp.response(200, PauseCodeSchema)
@roles_required("admin")
def update_pause_code(data, code_id):
    """Change a pause code."""
    return codes.update_pause_code(current_user, code_id, data)


@blp.route("/pause-codes/<int:code_id>", methods=["DELETE"])
@blp.response(200, PauseCodeSchema)
@roles_required("admin")
def delete_pause_code(code_id):
    """Retire a pause code."""
    return codes.deactivate_pause_code(current_user, code_id)
