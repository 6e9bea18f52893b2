from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import login_required, roles_required
from app.campaigns import services, steering
from app.campaigns.schemas import (
    AssignmentsSchema, AssignmentsUpdateSchema, CampaignCreateSchema, CampaignDetailSchema,
    CampaignListArgsSchema, CampaignPageSchema, CampaignSchema, CampaignSettingsSchema,
    PacingOverrideSchema, PacingSchema,
)
from app.common.ratelimit import creation_limit

blp = Blueprint("campaigns", __name__, url_prefix="/api/campaigns",
                description="Campaigns: settings the law bounds, run state, assignments")


@blp.route("", methods=["GET"])
@blp.arguments(CampaignListArgsSchema, location="query")
@blp.response(200, CampaignPageSchema)
@login_required
def list_campaigns(args):
    """Campaigns the caller may see: all (admins), supervised (supervisors), assigned (agents)."""
    return services.list_campaigns(current_user, **args)


@blp.route("", methods=["POST"])
@creation_limit
@blp.arguments(CampaignCreateSchema)
@blp.response(201, CampaignDetailSchema)
@roles_required("admin")
def create_campaign(data):
    """Create a campaign; each rule that is law is refused with a field error saying why."""
    campaign = services.create_campaign(current_user, data)
    return services.campaign_detail(current_user, campaign.id)


@blp.route("/<int:campaign_id>", methods=["GET"])
@blp.response(200, CampaignDetailSchema)
@login_required
def get_campaign(campaign_id):
    """One campaign with its script, disposition codes and pause codes."""
    return services.campaign_detail(current_user, campaign_id)


@blp.route("/<int:campaign_id>", methods=["PATCH"])
@blp.arguments(CampaignSettingsSchema(partial=True))
@blp.response(200, CampaignDetailSchema)
@roles_required("admin")
def update_campaign(data, campaign_id):
    """Change settings; the merged result must still keep every law-derived rule."""
    services.update_campaign(current_user, campaign_id, data)
    return services.campaign_detail(current_user, campaign_id)


@blp.route("/<int:campaign_id>", methods=["DELETE"])
@blp.response(204)
@roles_required("admin")
def delete_campaign(campaign_id):
    """Delete a campaign that never ran (one that ran keeps its records: stop it)."""
    services.delete_campaign(current_user, campaign_id)


def _status_route(action: str):
    @blp.response(200, CampaignSchema)
    @roles_required("admin", "supervisor")
    def view(campaign_id):
        return services.change_status(current_user, campaign_id, action)

    view.__name__ = f"{action}_campaign"
    view.__doc__ = f"{action.capitalize()} the campaign (admins and its supervisors)."
    blp.route(f"/<int:campaign_id>/{action}", methods=["POST"])(view)


for _action in services.TRANSITIONS:
    _status_route(_action)


@blp.route("/<int:campaign_id>/assignments", methods=["GET"])
@blp.response(200, AssignmentsSchema)
@roles_required("admin", "supervisor")
def get_assignments(campaign_id):
    """The agents and supervisors assigned to the campaign."""
    return services.assignments(current_user, campaign_id)


@blp.route("/<int:campaign_id>/assignments", methods=["PUT"])
@blp.arguments(AssignmentsUpdateSchema)
@blp.response(200, AssignmentsSchema)
@roles_required("admin")
def put_assignments(data, campaign_id):
    """Replace the campaign's agents and/or supervisors (each list given replaces that role's)."""
    return services.set_assignments(current_user, campaign_id, data.get("agent_ids"),
                                    data.get("supervisor_ids"))


@blp.route("/<int:campaign_id>/pacing", methods=["GET"])
@blp.response(200, PacingSchema)
@blp.alt_response(404, description="No such campaign (or not one of yours)")
@roles_required("admin", "supervisor")
def get_pacing(campaign_id):
    """The live dial level, what the pacer decided at its last tick, and any override."""
    return steering.pacing(current_user, campaign_id)


@blp.route("/<int:campaign_id>/pacing", methods=["PUT"])
@blp.arguments(PacingOverrideSchema)
@blp.response(200, PacingSchema)
@blp.alt_response(404, description="No such campaign (or not one of yours)")
@blp.alt_response(422, description="A value beyond the law's or the campaign's limits")
@roles_required("admin", "supervisor")
def put_pacing(data, campaign_id):
    """Steer the dialer (admins and the campaign's supervisors); audited, applies next tick.

    Every value empty returns the campaign to automatic pacing."""
    return steering.set_pacing(current_user, campaign_id, data)


@blp.route("/<int:campaign_id>/pacing", methods=["DELETE"])
@blp.response(200, PacingSchema)
@blp.alt_response(404, description="No such campaign (or not one of yours)")
@roles_required("admin", "supervisor")
def delete_pacing(campaign_id):
    """Clear the override: automatic pacing from the next tick (audited)."""
    return steering.clear_pacing(current_user, campaign_id)
