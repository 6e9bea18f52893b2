"""Manual dial on a predictive campaign (paused agents dial by hand), a refused manual dial that
leaves nothing behind, refusals in words, and preview with nothing left."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.agents import reservations
from app.agents import state as agent_state
from app.calls.models import Call
from app.common.redis import get_redis
from app.contacts.models import Contact
from app.dialer.hopper import Hopper
from app.extensions import db
from tests.agents.factories import assign, make_campaign, make_pause_code
from tests.helpers import audio_connected
from tests.zones import NUMBERS_BY_ZONE, number_in_zone, zone_in_calling_hours, zones_at_local_hours


def _campaign(app, agent_id: int, mode: str) -> int:
    with app.app_context():
        campaign = make_campaign()
        campaign.dial_mode, campaign.status = mode, "active"
        campaign.window_start = campaign.window_start.replace(hour=8)
        campaign.window_end = campaign.window_end.replace(hour=21)
        assign(agent_id, campaign.id)
        from app.campaigns.models import PauseCode
        if db.session.scalar(select(PauseCode).where(PauseCode.code == "break")) is None:
            make_pause_code("break")
        db.session.commit()
        return campaign.id


@pytest.fixture
def predictive(app, users, signed_in):
    agent = users.create("agent")
    campaign_id = _campaign(app, agent.id, "predictive")
    console = signed_in(agent)
    audio_connected(app, agent.id)
    return console, campaign_id


def _zone_outside_hours() -> str:
    zones = zones_at_local_hours(datetime.now(timezone.utc), [0, 1, 2, 3, 4, 5, 6, 22, 23])
    if not zones:
        pytest.skip("no test zone outside calling hours right now")
    return zones[0]


def _contacts(app, campaign_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Contact).where(Contact.campaign_id == campaign_id))


def test_a_ready_agent_on_a_predictive_campaign_is_told_to_pause_first(app, predictive):
    console, campaign_id = predictive
    assert console.post("/api/agents/me/state", json={"state": "ready", "campaign_id": campaign_id}).status_code == 200
    zone = zone_in_calling_hours()
    refused = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": number_in_zone(zone, 11)})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "pause_to_dial"
    assert error["message"].startswith("Pause first, then dial by hand")
    assert _contacts(app, campaign_id) == 0


def test_a_paused_agent_dials_by_hand_and_the_pacer_leaves_them_alone(app, predictive):
    console, campaign_id = predictive
    assert console.post("/api/agents/me/state", json={"state": "paused", "campaign_id": campaign_id,
                                                      "pause_code": "break"}).status_code == 200
    number = number_in_zone(zone_in_calling_hours(), 12)
    dialled = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": number})
    assert dialled.status_code == 202, dialled.get_json()
    with app.app_context():
        call = db.session.get(Call, dialled.get_json()["call_id"])
        assert (call.kind, call.agent_id, call.to_number, call.status) == ("manual", console.user.id, number, "queued")
        snap = agent_state.snapshot(console.user.id)
        assert (snap["state"], snap["call_id"], snap["dialled_from_pause"]) == ("reserved", call.id, "break")
        assert reservations.ready_agents(campaign_id) == 0
    me = console.get("/api/agents/me").get_json()
    assert me["dialled_from_pause"] == "break"
    # Busy with that call: a second manual dial is refused in words that say what to do.
    again = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": number})
    assert again.status_code == 409 and "Save & pause" in again.get_json()["error"]["message"]


def test_signed_off_agents_are_told_to_sign_on(app, predictive):
    console, campaign_id = predictive
    refused = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": "+12025550188"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"].startswith("Sign on to this campaign first")


def test_a_manual_dial_refused_for_calling_hours_leaves_no_contact(app, predictive):
    console, campaign_id = predictive
    console.post("/api/agents/me/state", json={"state": "paused", "campaign_id": campaign_id, "pause_code": "break"})
    zone = _zone_outside_hours()
    number = NUMBERS_BY_ZONE[zone].format(77)
    refused = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": number})
    assert refused.status_code == 409, refused.get_json()
    error = refused.get_json()["error"]
    assert error["message"].startswith("Outside this contact's calling hours: callable again ")
    assert "their time" in error["message"] and "outside_calling_window" not in error["message"]
    with app.app_context():
        assert db.session.scalar(select(Contact).where(Contact.phone_e164 == number)) is None
        assert db.session.scalar(select(Call).where(Call.to_number == number)) is None
        assert Hopper(get_redis()).depth(campaign_id)["ready"] == 0
        assert agent_state.snapshot(console.user.id)["state"] == "paused"


def test_an_empty_phone_is_asked_for_in_words(app, predictive):
    console, campaign_id = predictive
    for body in ({"phone": ""}, {"phone": "   "}, {}):
        bad = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json=body)
        assert bad.status_code == 422
        assert bad.get_json()["error"]["fields"]["phone"] == ["Enter a phone number."]
    garbage = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": "12"})
    assert garbage.status_code == 422
    assert "Length" not in str(garbage.get_json()) and "'12'" not in str(garbage.get_json())


@pytest.fixture
def empty_preview(app, users, signed_in):
    agent = users.create("agent")
    campaign_id = _campaign(app, agent.id, "preview")
    console = signed_in(agent)
    audio_connected(app, agent.id)
    assert console.post("/api/agents/me/state", json={"state": "ready", "campaign_id": campaign_id}).status_code == 200
    return console, campaign_id


def test_preview_with_nothing_left_says_when_more_may_come(app, empty_preview):
    console, campaign_id = empty_preview
    body = console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()
    assert body == {"contact": None, "next_due_at": None}
    later = datetime(2099, 1, 5, 15, 0, tzinfo=timezone.utc)
    with app.app_context():
        db.session.add(Contact(campaign_id=campaign_id, phone_e164="+12025550177", status="retry", attempts=1,
                               next_due_at=later, timezone="America/New_York"))
        db.session.commit()
    body = console.post(f"/api/campaigns/{campaign_id}/preview/next").get_json()
    assert body["contact"] is None and body["next_due_at"].startswith("2099-01-05T15:00")


def test_a_missing_preview_contact_is_a_404_in_the_house_shape(app, empty_preview):
    console, campaign_id = empty_preview
    for action in ("dial", "skip"):
        missing = console.post(f"/api/campaigns/{campaign_id}/preview/999999/{action}")
        assert missing.status_code == 404
        error = missing.get_json()["error"]
        assert error["code"] == "contact_not_found"
        assert error["message"] == "This contact is no longer in the campaign's list: preview the next one."


def test_a_premium_rate_number_is_never_dialled_by_hand(app, predictive):
    console, campaign_id = predictive
    console.post("/api/agents/me/state", json={"state": "paused", "campaign_id": campaign_id, "pause_code": "break"})
    refused = console.post(f"/api/campaigns/{campaign_id}/manual-dial", json={"phone": "+1 900 555 0142"})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["fields"]["phone"] == ["This is a premium-rate number (area code 900), never called."]
    with app.app_context():
        assert db.session.scalar(select(Contact).where(Contact.phone_e164 == "+19005550142")) is None
        assert db.session.scalar(select(Call).where(Call.to_number == "+19005550142")) is None
