"""Committed data for the browser tests, and a stand-in for the dialer and carrier: a call is
created, rings, is answered, bridged to the agent (reserve + confirm publish the screen pop)
and completed, each step published live the way the telephony workers do."""
from __future__ import annotations

import random
import secrets
from datetime import time as dtime, timedelta

TOUCHED = ("users, agents, api_tokens, call_events, campaigns, campaign_assignments, pause_codes, disposition_codes, contacts, calls, "
           "interactions, callbacks, agent_state_changes, audit_log, import_jobs, import_rejections, "
           "dnc_entries, kpi_rollups, kpi_rollup_state, blackout_days")

SCRIPT = ("Hi {first_name}, this is Sam calling for {seller_name} about the solar savings plan you asked about.\n\n"
          "Confirm the address on file and the monthly electricity bill.\n\n"
          "Offer the Premium plan first; if the customer hesitates, offer a free home survey.")


def _user(role: str, name: str) -> dict:
    from app.users import services

    password = "pw-" + secrets.token_urlsafe(12)
    user = services.create_user(f"{role}-{secrets.token_hex(2)}", password, role)
    user.full_name = name
    return {"id": user.id, "username": user.username, "password": password, "role": role, "obj": user}


def seed_floor(app) -> dict:
    from app.campaigns.models import PauseCode
    from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode
    from app.contacts.models import Contact
    from app.extensions import db

    with app.app_context():
        admin, sup, agent = _user("admin", "Avery Admin"), _user("supervisor", "Sofia Supervisor"), _user("agent", "Sam Agent")
        campaign = Campaign(name="Solar Savings Q4", caller_id="+12025550100", seller_name="Acme Solar",
                            seller_phone="+12025550101", dial_mode="progressive",
                            safe_harbour_message="This is Acme Solar, 202-555-0101. Sorry we missed you.",
                            script=SCRIPT, window_start=dtime(9), window_end=dtime(20), status="active",
                            max_abandon_rate=0.03)
        db.session.add(campaign)
        db.session.flush()
        db.session.add_all([
            CampaignAssignment(campaign_id=campaign.id, user_id=agent["id"], role="agent"),
            CampaignAssignment(campaign_id=campaign.id, user_id=sup["id"], role="supervisor"),
            PauseCode(code="break", label="Break"), PauseCode(code="training", label="Training", paid=True),
            DispositionCode(campaign_id=campaign.id, code="SALE", label="Sale", is_contact=True, is_sale=True,
                            is_final=True, sort_order=1),
            DispositionCode(campaign_id=campaign.id, code="CALLBACK", label="Call back later", is_callback=True,
                            sort_order=2),
            DispositionCode(campaign_id=campaign.id, code="NOT_INTERESTED", label="Not interested", is_final=True,
                            sort_order=3),
            DispositionCode(campaign_id=campaign.id, code="DNC", label="Do not call", is_dnc=True, is_final=True,
                            sort_order=4),
        ])
        contact = Contact(campaign_id=campaign.id, phone_e164="+12125550142", first_name="Ada", last_name="Lovelace",
                          email="ada@example.com", timezone="America/New_York", region="NY", postal_code="10001",
                          custom_fields={"plan": "Premium", "account": "A-10293", "monthly_bill": "$180"})
        db.session.add(contact)
        db.session.commit()
        out = {"admin": admin, "supervisor": sup, "agent": agent, "campaign_id": campaign.id, "contact_id": contact.id}
        for person in (admin, sup, agent):
            person.pop("obj")
        return out


def _extra(app, floor: dict, role: str, name: str) -> dict:
    from app.campaigns.models import CampaignAssignment
    from app.extensions import db

    with app.app_context():
        user = _user(role, name)
        db.session.add(CampaignAssignment(campaign_id=floor["campaign_id"], user_id=user["id"], role=role))
        db.session.commit()
        user.pop("obj")
        return user


def extra_agent(app, floor: dict, name: str) -> dict:
    """Another agent of the floor's campaign, for a test that must not disturb the floor's agent."""
    return _extra(app, floor, "agent", name)


def solo_floor(app, name: str, *, record: bool = True, supervisors: tuple[int, ...] = ()) -> dict:
    """A campaign of its own (recording its calls unless told not to), an agent who works it
    alone, so no other test's ready agent takes its call, the supervisors named, and its
    contact: the person the simulator answers, whose address is in California (every party must
    consent to a recording there, so the screen pop tells the agent to announce it)."""
    from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode
    from app.contacts.models import Contact
    from app.extensions import db

    with app.app_context():
        agent = _user("agent", name)
        campaign = Campaign(name=f"{'Recorded' if record else 'Solo'} {secrets.token_hex(2)}", caller_id="+12025550100",
                            seller_name="Acme Solar", seller_phone="+12025550101", dial_mode="progressive",
                            safe_harbour_message="This is Acme Solar, 202-555-0101. Sorry we missed you.",
                            script=SCRIPT, window_start=dtime(9), window_end=dtime(20), status="active",
                            max_abandon_rate=0.03, recording_enabled=record, recording_retention_days=90)
        db.session.add(campaign)
        db.session.flush()
        contact = Contact(campaign_id=campaign.id, phone_e164="+12125550142", first_name="Grace",
                          last_name="Hopper", timezone="America/Los_Angeles", region="CA", postal_code="94103")
        db.session.add_all([
            contact, CampaignAssignment(campaign_id=campaign.id, user_id=agent["id"], role="agent"),
            DispositionCode(campaign_id=campaign.id, code="NOT_INTERESTED", label="Not interested",
                            is_final=True, sort_order=1),
            *[CampaignAssignment(campaign_id=campaign.id, user_id=sup_id, role="supervisor") for sup_id in supervisors],
        ])
        db.session.commit()
        agent.pop("obj")
        return {"agent": agent, "campaign_id": campaign.id, "contact_id": contact.id}


def extra_supervisor(app, floor: dict, name: str) -> dict:
    """Another supervisor of the floor's campaign."""
    return _extra(app, floor, "supervisor", name)


def ready_on_air(page, app, sim_url: str, live_server: str, agent: dict) -> str:
    """The agent's browser leg connected through the simulator, signed in to the console, which
    shows it live and connected, and gone ready there. Returns the leg's CallSid."""
    import re

    from playwright.sync_api import expect

    from tests.browser.conftest import sign_in

    leg = connect_leg(app, sim_url, live_server, agent["id"])
    sign_in(page, live_server, agent, "/agent")
    expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
    expect(page.get_by_test_id("audio-status")).to_have_text("Connected")
    page.get_by_test_id("go-ready").click()
    expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
    return leg


def connect_audio(app, agent_id: int, via: str = "browser") -> str:
    """The agent's audio leg joins their room, as the carrier's participant-join reports it: the
    browser tests' server has no carrier simulator to place the leg. Returns the leg's CallSid."""
    from app.agents.audio import leg_joined

    call_sid = "CA" + secrets.token_hex(16)
    with app.app_context():
        assert leg_joined(agent_id, call_sid, via), "the leg did not join"
    return call_sid


def end_audio(app, agent_id: int, call_sid: str, status: str = "completed") -> None:
    """The carrier reports the leg's call over (the agent hung up, the network dropped it, or a
    phone Omnivox called did not answer)."""
    from app.agents.audio import leg_ended

    with app.app_context():
        leg_ended(agent_id, call_sid, status)


def publish_to_agent(app, agent_id: int, event: str, payload: dict) -> None:
    """A live event to the agent's console, as the dialer's workers publish it."""
    from app.realtime.publish import agent_room, publish

    with app.app_context():
        publish(event, {"agent_id": agent_id, **payload}, room=agent_room(agent_id))


def _publish(call) -> None:
    from app.calls.services import publish_call_state

    publish_call_state(call)


def ring(app, floor: dict) -> int:
    """The dialer places a call and it rings."""
    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db

    from sqlalchemy import func, select

    with app.app_context():
        attempt = (db.session.scalar(select(func.max(Call.attempt_no)).where(
            Call.contact_id == floor["contact_id"])) or 0) + 1  # each test's call is the next attempt
        call = Call(campaign_id=floor["campaign_id"], contact_id=floor["contact_id"], to_number="+12125550142",
                    from_number="+12025550100", status="initiated", initiated_at=utcnow(),
                    call_sid="CA" + secrets.token_hex(16), attempt_no=attempt)
        db.session.add(call)
        db.session.commit()
        _publish(call)
        call.status, call.ringing_at = "ringing", utcnow()
        db.session.commit()
        _publish(call)
        return call.id


def answer_and_bridge(app, floor: dict, call_id: int, agent_id: int | None = None) -> int:
    """A person answers; the 2-second routing reserves the agent (the floor's, unless another
    is named) and bridges (screen pop)."""
    from app.agents.reservations import confirm_reservation, reserve_agent
    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db
    from app.interactions.screen_pop import publish_screen_pop
    from app.interactions.services import open_interaction

    with app.app_context():
        call = db.session.get(Call, call_id)
        call.status, call.answered_at, call.outcome, call.answered_by = "in-progress", utcnow(), "human", "human"
        db.session.commit()
        expected = agent_id or floor["agent"]["id"]
        agent_id = reserve_agent(call.campaign_id, call.id)
        assert agent_id == expected, "the ready agent was not reserved"
        call.agent_id, call.connected_at, call.wait_seconds = agent_id, utcnow(), 0.4
        open_interaction(call, agent_id, call.connected_at)
        db.session.commit()
        assert confirm_reservation(agent_id, call.id)
        publish_screen_pop(agent_id, call.id)  # as the dialer's routing does once the call is theirs
        _publish(call)
        return agent_id


def complete(app, call_id: int) -> None:
    """The carrier reports the call completed."""
    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db

    with app.app_context():
        call = db.session.get(Call, call_id)
        call.status, call.ended_at = "completed", utcnow()
        call.duration_seconds = int((call.ended_at - call.answered_at).total_seconds())
        db.session.commit()
        _publish(call)


def history(app, floor: dict, seed: int = 7) -> None:
    """A morning of finished calls and agent time, rolled up, so the charts have something to draw."""
    from app.agents.models import AgentStateChange
    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db
    from app.kpi.rollup import run_rollup

    rng = random.Random(seed)
    with app.app_context():
        now = utcnow()
        start = now - timedelta(hours=5)
        calls = []
        t = start
        while t < now - timedelta(minutes=2):
            outcome = rng.choices(["human", "no-answer", "machine", "busy"], [35, 40, 15, 10])[0]
            abandoned = outcome == "human" and rng.random() < 0.012
            calls.append(Call(campaign_id=floor["campaign_id"], to_number="+12125550199", from_number="+12025550100",
                              status="completed" if outcome in ("human", "machine") else outcome,
                              outcome=outcome, abandoned=abandoned, created_at=t, queued_at=t,
                              answered_at=t + timedelta(seconds=12) if outcome in ("human", "machine") else None,
                              ended_at=t + timedelta(seconds=90), ring_seconds=rng.uniform(5, 20),
                              duration_seconds=rng.randint(30, 300)))
            t += timedelta(seconds=rng.uniform(8, 40))
        db.session.add_all(calls)
        agent_id = floor["agent"]["id"]
        t, state = start, "offline"
        while t < now - timedelta(minutes=10):
            nxt = rng.choices(["ready", "on-call", "wrap-up", "paused"], [3, 5, 2, 1])[0]
            db.session.add(AgentStateChange(agent_id=agent_id, campaign_id=floor["campaign_id"], from_state=state,
                                            to_state=nxt, at=t, reason="history"))
            state = nxt
            t += timedelta(minutes=rng.uniform(2, 9))
        db.session.add(AgentStateChange(agent_id=agent_id, campaign_id=floor["campaign_id"], from_state=state,
                                        to_state="offline", at=t, reason="history"))
        db.session.commit()
        run_rollup(now)
        db.session.commit()


def connect_leg(app, sim_url: str, base: str, agent_id: int) -> str:
    """The agent's browser connects its audio through the carrier simulator, as Voice JS's
    `Device.connect()` does; returns the leg's CallSid once it has joined the agent's room."""
    import time

    import requests

    from app.agents.audio import leg_of

    response = requests.post(f"{sim_url}/_sim/clients/agent-{agent_id}/connect", timeout=5, data={
        "Url": f"{base}/twilio/agent/voice", "StatusCallback": f"{base}/twilio/agent/status"})
    response.raise_for_status()
    sid = response.json()["call_sid"]
    deadline = time.monotonic() + 30
    while True:
        with app.app_context():
            if leg_of(agent_id) == sid:
                return sid
        assert time.monotonic() < deadline, "the agent's leg did not join their room"
        time.sleep(0.05)


def place_person(app, floor: dict, sim_url: str, base: str, to: str) -> tuple[int, str]:
    """The dialer's call to a person, placed through the simulator with the twilio SDK: once
    answered, the server's answer webhook joins them into the ready agent's room."""
    from sqlalchemy import func, select

    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db
    from app.telephony.carrier import PlaceCallRequest
    from app.telephony.twilio_carrier import TwilioCarrier

    with app.app_context():
        attempt = (db.session.scalar(select(func.max(Call.attempt_no)).where(
            Call.contact_id == floor["contact_id"])) or 0) + 1
        call = Call(campaign_id=floor["campaign_id"], contact_id=floor["contact_id"], to_number=to,
                    from_number="+12025550100", status="initiated", initiated_at=utcnow(), attempt_no=attempt)
        db.session.add(call)
        db.session.commit()
        carrier = TwilioCarrier(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"],
                                api_base_url=sim_url)
        placed = carrier.place_call(PlaceCallRequest(
            to=to, from_="+12025550100", answer_url=f"{base}/twilio/voice?attempt={call.id}",
            status_callback_url=f"{base}/twilio/status?attempt={call.id}"))
        call.call_sid = placed.call_sid
        db.session.commit()
        return call.id, placed.call_sid
