"""Who the agents are, as each role may see them: admins all, supervisors the agents of the
campaigns they supervise, agents only themselves."""
from __future__ import annotations

from sqlalchemy import select

from app.agents.models import AgentProfile
from app.auth.models import User
from app.campaigns import access
from app.campaigns.models import CampaignAssignment
from app.common.pagination import paginate
from app.extensions import db


def _visible_agents(viewer):
    query = select(User).join(AgentProfile, AgentProfile.user_id == User.id).where(User.role == "agent")
    if viewer.role == "supervisor":
        query = query.where(User.id.in_(
            select(CampaignAssignment.user_id).where(
                CampaignAssignment.role == "agent",
                CampaignAssignment.campaign_id.in_(access.assigned_campaign_ids(viewer, "supervisor")))))
    elif viewer.role != "admin":
        query = query.where(User.id == viewer.id)
    return query


def list_agents(viewer, page: int, per_page: int, campaign_id: int | None = None, state: str | None = None,
                active: bool | None = None, q: str | None = None) -> dict:
    query = _visible_agents(viewer).order_by(User.id)
    if campaign_id is not None:
        access.get_campaign(viewer, campaign_id)
        query = query.where(User.id.in_(select(CampaignAssignment.user_id).where(
            CampaignAssignment.campaign_id == campaign_id, CampaignAssignment.role == "agent")))
    if state:
        query = query.where(AgentProfile.state == state)
    if active is not None:
        query = query.where(User.active.is_(active))
    if q:
        query = query.where(User.username.ilike(f"%{q.replace('%', '').replace('_', '')}%"))
    result = paginate(query, page, per_page)
    result["items"] = [_agent_view(u) for u in result["items"]]
    return result


def get_agent(viewer, agent_id: int) -> dict:
    user = db.session.scalar(_visible_agents(viewer).where(User.id == agent_id))
    if user is None:
        raise access.not_found("agent")
    return _agent_view(user)


def _agent_view(user: User) -> dict:
    profile = user.agent_profile
    campaign_ids = db.session.scalars(select(CampaignAssignment.campaign_id).where(
        CampaignAssignment.user_id == user.id, CampaignAssignment.role == "agent").order_by(
        CampaignAssignment.campaign_id)).all()
    return {"id": user.id, "username": user.username, "full_name": user.full_name, "active": user.active,
            "client_identity": profile.client_identity, "state": profile.state,
            "state_since": profile.state_since, "timezone": profile.timezone, "campaign_ids": campaign_ids}
