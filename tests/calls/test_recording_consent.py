"""The screen pop tells the agent to announce the recording where every party must consent
(the jurisdiction rule table's all-party states), reading disagreeing contact data strictly."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.interactions.screen_pop import recording_notice

RECORDED, UNRECORDED = SimpleNamespace(recording_enabled=True), SimpleNamespace(recording_enabled=False)


def contact(region=None, postal=None, phone=None):
    return SimpleNamespace(region=region, postal_code=postal, phone_e164=phone)


@pytest.mark.parametrize("who, announce, states", [
    (contact("CA", "94103", "+14155550100"), True, ["CA"]),
    (contact(None, None, "+14155550100"), True, ["CA"]),            # no state: the number's
    (contact("TX", "75201", "+12065550100"), True, ["WA"]),          # data disagree: the stricter
    (contact("TX", "75201", "+12145550100"), False, []),             # one-party state
    (contact("TX", "98101", "+12145550100"), True, ["WA"]),          # the ZIP code's state counts
])
def test_all_party_states_ask_the_agent_to_announce_the_recording(ctx, who, announce, states):
    notice = recording_notice(RECORDED, who, SimpleNamespace(to_number=who.phone_e164))
    assert notice["enabled"] is True and notice["announce"] is announce and notice["states"] == states
    if announce:
        assert "recorded" in notice["message"] and notice["rules"][0]["citation"]
        assert notice["ruleset_version"]


def test_an_unrecorded_campaign_has_nothing_to_announce(ctx):
    notice = recording_notice(UNRECORDED, contact("CA"), SimpleNamespace(to_number="+14155550100", direction="outbound"))
    assert notice["enabled"] is False and notice["announce"] is False
