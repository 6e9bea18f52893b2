from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.agents.models import AGENT_STATES
from app.auth.security import login_required
from app.agents import directory
from app.common.schemas import PageArgsSchema, PageMetaSchema

# Named apart from the agent-state blueprint (POST /api/agents/me/state lives elsewhere).
blp = Blueprint("agent_directory", __name__, url_prefix="/api/agents",
                description="Agents: admins see all, supervisors their campaigns' agents, agents themselves")


class AgentSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    active = fields.Boolean()
    client_identity = fields.String()
    state = fields.String()
    state_since = fields.DateTime(allow_none=True)
    timezone = fields.String(allow_none=True)
    campaign_ids = fields.List(fields.Integer())


class AgentListArgsSchema(PageArgsSchema):
    campaign_id = fields.Integer()
    state = fields.String(validate=validate.OneOf(AGENT_STATES))
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(max=64), metadata={"description": "Username contains"})


class AgentPageSchema(Schema):
    items = fields.List(fields.Nested(AgentSchema))
    meta = fields.Nested(PageMetaSchema)


@blp.route("", methods=["GET"])
@blp.arguments(AgentListArgsSchema, location="query")
@blp.response(200, AgentPageSchema)
@login_required
def list_agents(args):
    """Agents the caller may see, filtered by campaign, state, active flag or name."""
    return directory.list_agents(current_user, **args)


@blp.route("/<int:agent_id>", methods=["GET"])
@blp.response(200, AgentSchema)
@login_required
def get_agent(agent_id):
    """One agent, if the caller may see them (another's id answers 404)."""
    return directory.get_agent(current_user, agent_id)
