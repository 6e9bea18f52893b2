"""Who may see which campaign: the one place the per-role scoping rules live.

Admins see every campaign; supervisors the campaigns they are assigned to supervise; agents
the campaigns they are assigned to work. Anything outside a caller's scope answers 404, as if
it did not exist, so ids leak nothing.
"""
from __future__ import annotations

from sqlalchemy import Select, select

from app.campaigns.models import Campaign, CampaignAssignment
from app.errors import ApiError
from app.extensions import db


def not_found(what: str = "campaign") -> ApiError:
    return ApiError(404, f"No such {what}", "not_found")


def assigned_campaign_ids(user, role: str | None = None) -> Select:
    """A subquery of the campaign ids `user` is assigned to (as `role`, or their own role)."""
    role = role or ("supervisor" if user.role == "supervisor" else "agent")
    return select(CampaignAssignment.campaign_id).where(
        CampaignAssignment.user_id == user.id, CampaignAssignment.role == role
    )


def scope_campaigns(query: Select, user, column=Campaign.id) -> Select:
    """Restrict `query` (anything with a campaign id `column`) to what `user` may see."""
    if user.role == "admin":
        return query
    return query.where(column.in_(assigned_campaign_ids(user)))


def can_see_campaign(user, campaign_id: int | None) -> bool:
    if campaign_id is None:
        return False
    if user.role == "admin":
        return db.session.get(Campaign, campaign_id) is not None
    return db.session.scalar(
        select(CampaignAssignment.campaign_id).where(
            CampaignAssignment.campaign_id == campaign_id,
            CampaignAssignment.user_id == user.id,
            CampaignAssignment.role == ("supervisor" if user.role == "supervisor" else "agent"),
        )
    ) is not None


def get_campaign(user, campaign_id: int, *, manage: bool = False) -> Campaign:
    """The campaign if `user` may see it (and, with manage=True, run it); 404 / 403 otherwise.

    Managing (start, pause, stop, contacts, imports) is for admins and the campaign's
    supervisors; an agent who can see the campaign is told 403, anyone else 404.
    """
    if not can_see_campaign(user, campaign_id):
        raise not_found()
    if manage and user.role not in ("admin", "supervisor"):
        raise ApiError(403, "Your role may not do this", "forbidden")
    return db.session.get(Campaign, campaign_id)
