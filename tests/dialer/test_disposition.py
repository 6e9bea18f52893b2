"""A connected call through to its disposition: wrap-up, then the flags act on the contact."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.agents import state as agent_state
from app.audit.models import AuditEntry
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.calls.state import sweep_unprocessed_events
from app.contacts.models import Contact
from app.dnc.models import DncEntry
from app.extensions import db
from app.interactions.models import Callback, Interaction
from tests.agents.factories import assign, make_call, make_campaign, make_disposition, make_pause_code
from tests.calls.factories import post_signed, status_form
from tests.helpers import audio_connected

NY = ZoneInfo("America/New_York")


@pytest.fixture
def connected(app, client, users, signed_in):
    """An agent signed in and talking to a contact (in New York) through the real webhooks."""
    agent = users.create("agent")
    with app.app_context():
        campaign = make_campaign()
        assign(agent.id, campaign.id)
        for code, flags in [("SALE", dict(is_sale=True, is_final=True)), ("DNC", dict(is_dnc=True, is_final=True)),
                            ("CALLBACK", dict(is_callback=True)), ("NO_DECISION", {})]:
            disposition = make_disposition(campaign.id, code)
            for flag, value in flags.items():
                setattr(disposition, flag, value)
        db.session.commit()
        campaign_id = campaign.id
    console = signed_in(agent)
    audio_connected(app, console.user.id)
    assert console.post("/api/agents/me/state", json={"state": "ready", "campaign_id": campaign_id}).status_code == 200
    with app.app_context():
        call = make_call(campaign_id)
        call.status, call.call_sid = "ringing", f"CA{call.id:032d}"
        db.session.get(Contact, call.contact_id).timezone = "America/New_York"
        db.session.commit()
        call_id, sid = call.id, call.call_sid
    post_signed(client, app, f"/twilio/voice?attempt={call_id}", {"CallSid": sid, "CallStatus": "in-progress"})
    with app.app_context():
        interaction_id = db.session.scalar(select(Interaction.id).where(Interaction.call_id == call_id))
    return console, campaign_id, call_id, sid, interaction_id


def _hang_up(app, client, call_id, sid):
    form = status_form(sid, "completed", 3, CallDuration=42)
    assert post_signed(client, app, f"/twilio/status?attempt={call_id}", form).status_code == 204
    with app.app_context():
        sweep_unprocessed_events(older_than_seconds=0)


def _contact(app, call_id):
    with app.app_context():
        return db.session.get(Contact, db.session.get(Call, call_id).contact_id)


def test_hang_up_puts_the_agent_in_wrap_up_and_a_sale_closes_the_contact(app, client, connected):
    console, _, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    with app.app_context():
        assert agent_state.snapshot(console.user.id)["state"] == "wrap-up"
    response = console.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "SALE", "notes": "Yes!"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["talk_seconds"] >= 0 and body["wrap_seconds"] >= 0 and body["notes"] == "Yes!"
    assert _contact(app, call_id).status == "done"
    with app.app_context():
        assert agent_state.snapshot(console.user.id)["state"] == "ready"
    again = console.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "SALE"})
    assert again.status_code == 409


def test_dnc_disposition_adds_the_number_at_once(app, client, connected):
    console, _, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    console.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "DNC", "then": "ready"})
    contact = _contact(app, call_id)
    assert contact.status == "dnc"
    with app.app_context():
        entry = db.session.scalar(select(DncEntry).where(DncEntry.phone_e164 == contact.phone_e164))
        assert entry.campaign_id is None and entry.source == "disposition"


def test_callback_must_fall_inside_the_contacts_calling_hours(app, client, connected):
    console, _, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    tomorrow = datetime.now(NY).date() + timedelta(days=1)
    too_early = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 7, 30, tzinfo=NY)
    refused = console.post(f"/api/interactions/{interaction_id}/disposition",
                           json={"code": "CALLBACK", "callback_at": too_early.isoformat()})
    assert refused.status_code == 422
    assert "calling hours" in refused.get_json()["error"]["fields"]["callback_at"][0]
    missing = console.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "CALLBACK"})
    assert missing.status_code == 422
    good = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 0, tzinfo=NY)
    ok = console.post(f"/api/interactions/{interaction_id}/disposition",
                      json={"code": "CALLBACK", "callback_at": good.isoformat()})
    assert ok.status_code == 200
    contact = _contact(app, call_id)
    assert contact.status == "callback" and contact.next_due_at == good.astimezone(timezone.utc)
    with app.app_context():
        callback = db.session.scalar(select(Callback).where(Callback.contact_id == contact.id))
        assert callback.due_at == good and callback.agent_id == console.user.id


def test_an_agent_sees_the_callbacks_they_promised_and_nobody_else_does(app, client, connected, users, signed_in):
    console, _, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    tomorrow = datetime.now(NY).date() + timedelta(days=1)
    due = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 11, 30, tzinfo=NY)
    assert console.post(f"/api/interactions/{interaction_id}/disposition",
                        json={"code": "CALLBACK", "callback_at": due.isoformat(),
                              "notes": "wants the brochure first"}).status_code == 200
    contact = _contact(app, call_id)
    [mine] = console.get("/api/agents/me/callbacks").get_json()["items"]
    assert (mine["contact_id"], mine["phone"], mine["notes"], mine["status"]) == (
        contact.id, contact.phone_e164, "wants the brochure first", "scheduled")
    assert datetime.fromisoformat(mine["due_at"]) == due
    assert signed_in(users.create("agent")).get("/api/agents/me/callbacks").get_json()["items"] == []
    assert signed_in(users.create("supervisor")).get("/api/agents/me/callbacks").status_code == 403


def test_an_undecided_contact_is_retried_later(app, client, connected):
    console, _, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    console.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "NO_DECISION", "then": "paused",
                                                                       "pause_code": None})
    contact = _contact(app, call_id)
    assert contact.status == "retry" and contact.next_due_at is not None


def test_unknown_code_and_another_agents_interaction(app, client, connected, users, signed_in):
    console, _, call_id, sid, interaction_id = connected
    unknown = console.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "NOPE"})
    assert unknown.status_code == 422 and "code" in unknown.get_json()["error"]["fields"]
    stranger = signed_in(users.create("agent"))
    assert stranger.get(f"/api/interactions/{interaction_id}").status_code == 404
    assert stranger.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "SALE"}).status_code == 404
    assert console.get(f"/api/interactions/{interaction_id}").status_code == 200
    mine = console.get("/api/interactions").get_json()
    assert [i["id"] for i in mine["items"]] == [interaction_id]
    assert stranger.get("/api/interactions").get_json()["items"] == []


def _close_wrap_ups(app, minutes_from_now: float) -> list[int]:
    from app.common.timeutil import utcnow
    from app.interactions.services import close_forgotten_wrap_ups

    with app.app_context():
        return close_forgotten_wrap_ups(now=utcnow() + timedelta(minutes=minutes_from_now))


def test_an_agent_still_in_wrap_up_keeps_it_as_long_as_they_need(app, client, connected):
    console, _, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    assert _close_wrap_ups(app, 60) == []  # an hour of notes is their business
    assert _contact(app, call_id).last_outcome == "human"  # still waiting for their code
    ok = console.post(f"/api/interactions/{interaction_id}/disposition", json={"code": "SALE"})
    assert ok.status_code == 200 and _contact(app, call_id).status == "done"


def test_a_wrap_up_its_agent_lost_is_closed_and_the_contact_retried(app, client, connected, redis_client):
    """Redis restarted (or the agent was logged out) while the call was on: nobody is in wrap-up
    on it any more, so after the timeout it closes without a code instead of holding the contact
    for ever."""
    console, _, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    redis_client.delete(agent_state.agent_key(console.user.id))  # the agent's state is gone
    timeout = app.config["WRAP_UP_TIMEOUT_SECONDS"] / 60
    assert _close_wrap_ups(app, timeout - 0.5) == []  # not yet
    assert _close_wrap_ups(app, timeout + 0.5) == [interaction_id]
    contact = _contact(app, call_id)
    assert (contact.status, contact.last_outcome) == ("retry", "no-disposition")
    assert contact.next_due_at is not None
    with app.app_context():
        interaction = db.session.get(Interaction, interaction_id)
        assert interaction.wrapup_ended_at is not None and interaction.disposition_code_id is None
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "interaction.wrap_up_timed_out"))
        assert (entry.target_id, entry.actor_username) == (str(interaction_id), "system")
        assert entry.details["agent_id"] == console.user.id
    assert _close_wrap_ups(app, timeout + 1) == []  # closed once


def test_a_due_callback_is_announced_to_its_agent_and_comes_back_to_them(
        app, client, connected, users, signed_in, redis_client):
    """The agent promises a callback at 10:00 tomorrow. At 10:00 it is announced on their
    console and the contact is first in the queue; answered, it goes to that agent although
    another has been ready longer; once the call is over the callback is done."""
    from app.interactions.callbacks import release_due
    from app.dialer.attempts import start_attempt
    from app.dialer.hopper import Hopper
    from app.dialer.refill import refill
    from tests.agents.factories import QueueTap

    console, campaign_id, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    with app.app_context():
        make_pause_code("lunch")
        db.session.commit()
    tomorrow = datetime.now(NY).date() + timedelta(days=1)
    due = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 0, tzinfo=NY)
    saved = console.post(f"/api/interactions/{interaction_id}/disposition",
                         json={"code": "CALLBACK", "callback_at": due.isoformat(), "notes": "after lunch",
                               "then": "paused", "pause_code": "lunch"})
    assert saved.status_code == 200, saved.get_json()
    contact_id = _contact(app, call_id).id
    # Another agent goes ready first: the longest idle, who would get any other call.
    other = signed_in(users.create("agent"))
    with app.app_context():
        assign(other.user.id, campaign_id)
        db.session.commit()
    audio_connected(app, other.user.id)
    assert other.post("/api/agents/me/state", json={"state": "ready", "campaign_id": campaign_id}).status_code == 200
    tap = QueueTap(redis_client)
    with app.app_context():
        assert release_due(now=due - timedelta(minutes=1)) == 0
        # Due: the refill (every 5 s) may queue and dial it before the announcement (every 30 s).
        db.session.get(Campaign, campaign_id).status = "active"
        db.session.commit()
        refill(campaign_id, now=due + timedelta(seconds=5))
        assert Hopper(redis_client).claim(campaign_id, 1, lease_seconds=30) == [contact_id]
        db.session.get(Contact, contact_id).attempts = 1  # the first call (the factory's) was one
        db.session.commit()
        redial_id = start_attempt(campaign_id, contact_id, now=due + timedelta(seconds=10))
        redial = db.session.get(Call, redial_id)
        redial.status, redial.call_sid = "ringing", "CA" + "7" * 32
        db.session.commit()
        assert release_due(now=due + timedelta(seconds=20)) == 1
        assert release_due(now=due + timedelta(seconds=50)) == 0  # announced once
        callback = db.session.scalar(select(Callback).where(Callback.contact_id == contact_id))
        assert callback.status == "queued"
    announced = [(room, p) for event, room, p in tap.drain() if event == "callback.due"]
    tap.close()
    assert (f"agent:{console.user.id}", contact_id, "after lunch") in [
        (room, p["contact_id"], p["notes"]) for room, p in announced]
    assert f"campaign:{campaign_id}" in [room for room, _ in announced]
    # Its agent comes back from the pause just as the callback is answered.
    audio_connected(app, console.user.id)
    assert console.post("/api/agents/me/state", json={"state": "ready", "campaign_id": campaign_id}).status_code == 200
    post_signed(client, app, f"/twilio/voice?attempt={redial_id}", {"CallSid": "CA" + "7" * 32,
                                                                    "CallStatus": "in-progress"})
    with app.app_context():
        assert db.session.get(Call, redial_id).agent_id == console.user.id
    _hang_up(app, client, redial_id, "CA" + "7" * 32)
    with app.app_context():
        assert db.session.scalar(select(Callback.status).where(Callback.contact_id == contact_id)) == "done"


def test_a_callback_whose_contact_was_closed_meanwhile_is_canceled(app, client, connected):
    from app.interactions.callbacks import release_due

    console, _, call_id, sid, interaction_id = connected
    _hang_up(app, client, call_id, sid)
    due = datetime.now(NY).replace(microsecond=0) + timedelta(days=1)
    due = due.replace(hour=10, minute=0, second=0)
    console.post(f"/api/interactions/{interaction_id}/disposition",
                 json={"code": "CALLBACK", "callback_at": due.isoformat()})
    with app.app_context():
        contact = db.session.get(Contact, db.session.get(Call, call_id).contact_id)
        contact.status = "dnc"  # the number opted out meanwhile
        db.session.commit()
        assert release_due(now=due + timedelta(seconds=1)) == 0
        assert db.session.scalar(select(Callback.status).where(Callback.contact_id == contact.id)) == "canceled"
