from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import login_required, roles_required
from app.common.ratelimit import reporting_limit
from app.kpi import definitions, services
from app.kpi.schemas import (
    AgentKpiArgsSchema, AgentKpiSchema, CampaignKpiSchema, KpiSummarySchema, KpiWindowArgsSchema,
)

blp = Blueprint(
    "kpi", __name__, url_prefix="/api/kpi",
    description="Campaign and agent KPIs from the scheduled rollups. " + " ".join(
        definitions.__doc__.split()) + " Definitions: " + "; ".join(
        f"{name}: {text}" for name, text in definitions.DEFINITIONS.items()),
)


@blp.route("/campaigns/<int:campaign_id>", methods=["GET"])
@reporting_limit
@blp.arguments(KpiWindowArgsSchema, location="query")
@blp.response(200, CampaignKpiSchema)
@roles_required("admin", "supervisor")
def campaign_kpis(args, campaign_id):
    """A campaign's KPIs over a window (summary and series), today's, its 30-day abandonment and list.

    Admins see every campaign, supervisors the campaigns they supervise (another campaign answers 404).
    """
    return services.campaign_kpis(current_user, campaign_id, args)


@blp.route("/agents/me", methods=["GET"])
@reporting_limit
@blp.arguments(AgentKpiArgsSchema, location="query")
@blp.response(200, AgentKpiSchema)
@login_required
def my_kpis(args):
    """The signed-in user's own agent KPIs over a window, across campaigns."""
    return services.agent_kpis(current_user, current_user.id, args)


@blp.route("/agents/<int:agent_id>", methods=["GET"])
@reporting_limit
@blp.arguments(AgentKpiArgsSchema, location="query")
@blp.response(200, AgentKpiSchema)
@login_required
def agent_kpis(args, agent_id):
    """An agent's KPIs over a window. Agents: only their own id (another answers 404); supervisors:
    agents of the campaigns they supervise, counting only those campaigns; admins: everyone."""
    return services.agent_kpis(current_user, agent_id, args)


@blp.route("/summary", methods=["GET"])
@reporting_limit
@blp.response(200, KpiSummarySchema)
@roles_required("admin", "supervisor")
def summary():
    """Headline figures (today, 30-day abandonment, list) of every campaign the caller may see."""
    return services.summary(current_user)
