"""Audit of issue 21: agents are kept back from outbound dialling for calls to our numbers only
while the campaign takes them. Outside its own hours every caller takes the closed path (a
voicemail), yet its contacts in later time zones may still be in their calling window: an agent
kept then waits for a call that cannot come."""
from app.dialer.tick import pacing_tick
from tests.calls.test_inbound_closed import zone_at_night
from tests.dialer.test_inbound_blending import _set, three_ready  # noqa: F401


def test_no_agent_is_kept_for_callers_while_the_campaign_is_closed_to_them(ctx, three_ready, sent_tasks):
    _set(three_ready, inbound_keep_agents=1, timezone=zone_at_night())
    assert pacing_tick(three_ready) == 3
