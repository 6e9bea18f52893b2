"""A small staffed campaign for pacing-tick tests: agents assigned, contacts in a zone inside
its calling hours and already queued, and a way to make the agents ready (with audio)."""
from __future__ import annotations

from app.agents import services as agent_services
from app.auth.models import User
from app.contacts.models import Contact
from app.dialer.refill import refill
from app.extensions import db
from tests.agents.factories import assign, make_campaign
from tests.helpers import connect_audio
from tests.zones import number_in_zone, zone_in_calling_hours


def staffed_campaign(app, users, mode: str, agents: int = 3, contacts: int = 10,
                     queued_for: int = 3) -> tuple[int, list[int]]:
    """(campaign id, agent ids) of an active campaign in `mode`, 08:00-21:00, its contacts queued
    as for `queued_for` signed-in agents."""
    people = [users.create("agent") for _ in range(agents)]
    with app.app_context():
        campaign = make_campaign()
        campaign.status, campaign.dial_mode = "active", mode
        campaign.window_start, campaign.window_end = campaign.window_start.replace(hour=8), \
            campaign.window_end.replace(hour=21)
        zone = zone_in_calling_hours()
        for agent in people:
            assign(agent.id, campaign.id)
        for i in range(contacts):
            db.session.add(Contact(campaign_id=campaign.id, phone_e164=number_in_zone(zone, i), timezone=zone))
        db.session.commit()
        refill(campaign.id, agents_signed_in=queued_for)
        return campaign.id, [a.id for a in people]


def make_ready(agent_ids, campaign_id) -> None:
    """Each agent connects audio and goes ready on the campaign (inside an app context)."""
    for agent_id in agent_ids:
        connect_audio(agent_id)
        agent_services.set_own_state(db.session.get(User, agent_id), "ready", campaign_id=campaign_id)
