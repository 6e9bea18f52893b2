"""The one way to publish a live event, from a web process or a Celery worker.

Event names (the live-events contract): see EVENTS. Rooms: one per campaign, one per agent.
Until the live-events issue lands this publisher delivers nothing.
"""
from __future__ import annotations

EVENTS = frozenset({
    "agent.state",        # an agent changed state: {agent_id, state, since, campaign_id, pause_code}
    "call.state",         # a call changed state: {call_id, campaign_id, status, ...}
    "campaign.figures",   # a campaign's live figures / KPIs: {campaign_id, ...}
    "call.screen_pop",    # to one agent: the connected call's contact, script and campaign
})
NAMESPACE = "/live"


def campaign_room(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def agent_room(agent_id: int) -> str:
    return f"agent:{agent_id}"


def publish(event: str, payload: dict, *, room: str) -> None:
    """Send `event` with a JSON-serialisable `payload` to everyone in `room`."""
    if event not in EVENTS:
        raise ValueError(f"unknown live event {event!r}")
