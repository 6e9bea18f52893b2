"""A voicemail left when nobody could take a call to our numbers becomes a callback in the
campaign (POST /twilio/inbound/voicemail, the <Record> action): for the caller's contact, due
when the campaign opens, in the console's callback list and the contact's history; never for a
number on the do-not-call list, and once however often the carrier asks."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

import app.calls.inbound as inbound
import app.interactions.voicemails as voicemails
from app.calls.models import Call, CallEvent, Recording
from app.calls.state import process_call_event
from app.campaigns.models import Campaign, CampaignAssignment
from app.contacts.models import MANUAL_DIAL_SOURCE, Contact
from app.dnc.services import is_dnc
from app.extensions import db
from app.interactions.models import Callback, Interaction, Voicemail
from tests.calls.factories import make_campaign, post_signed
from tests.calls.test_inbound_closed import CALLER, TUESDAY_NIGHT, inbound_form

SID = "CA" + "c1" * 16
RECORDING = "RE" + "5" * 32
# The default window (09:00-20:00) opens next on Wednesday 2 December at 09:00 in Washington.
OPENING = datetime(2026, 12, 2, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def closed(monkeypatch):
    """Every call comes in, and every voicemail is left, on Tuesday night."""
    monkeypatch.setattr(inbound, "utcnow", lambda: TUESDAY_NIGHT)
    monkeypatch.setattr(voicemails, "utcnow", lambda: TUESDAY_NIGHT)


def call_in(app, client, caller: str = CALLER, sid: str = SID) -> ElementTree.Element:
    answer = post_signed(client, app, "/twilio/inbound", inbound_form(caller=caller, sid=sid))
    assert answer.status_code == 200
    return ElementTree.fromstring(answer.get_data(as_text=True))


def record_action(twiml: ElementTree.Element) -> str:
    """The path and query of the <Record> action, as the carrier signs and posts it."""
    url = urlsplit(twiml.find("Record").get("action"))
    return f"{url.path}?{url.query}"


def leave_voicemail(app, client, path: str, caller: str = CALLER, sid: str = SID, seconds: int = 23,
                    recording: str = RECORDING) -> str:
    form = inbound_form(caller=caller, sid=sid, CallStatus="in-progress", RecordingSid=recording,
                        RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC{'a1' * 16}/Recordings/{recording}",
                        RecordingDuration=str(seconds), Digits="#")
    answer = post_signed(client, app, path, form)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    return answer.get_data(as_text=True)


def callbacks_of(app, campaign_id: int) -> list[Callback]:
    with app.app_context():
        return db.session.scalars(select(Callback).where(Callback.campaign_id == campaign_id)).all()


@pytest.fixture
def ada(app, users):
    """A campaign, Ada among its contacts, and the agent who last spoke with her."""
    agent = users.create("agent")
    campaign = make_campaign(app, seller_name="Acme Solar")
    with app.app_context():
        contact = Contact(campaign_id=campaign, phone_e164=CALLER, first_name="Ada", last_name="Lovelace",
                          status="retry", attempts=1)
        db.session.add(contact)
        db.session.add(CampaignAssignment(campaign_id=campaign, user_id=agent.id, role="agent"))
        db.session.flush()
        call = Call(campaign_id=campaign, contact_id=contact.id, agent_id=agent.id, to_number=CALLER,
                    from_number=inbound_form()["To"], status="completed", outcome="human")
        db.session.add(call)
        db.session.flush()
        db.session.add(Interaction(call_id=call.id, campaign_id=campaign, contact_id=contact.id, agent_id=agent.id))
        db.session.commit()
        return {"campaign": campaign, "contact": contact.id, "agent": agent}


def test_a_known_callers_voicemail_becomes_their_callback_for_their_agent_when_we_open(
        app, client, closed, ada, signed_in):
    path = record_action(call_in(app, client))
    goodbye = leave_voicemail(app, client, path)
    assert "Acme Solar will call you back" in goodbye and "<Hangup" in goodbye

    [callback] = callbacks_of(app, ada["campaign"])
    assert (callback.contact_id, callback.agent_id, callback.due_at, callback.status) == \
        (ada["contact"], ada["agent"].id, OPENING, "scheduled")
    with app.app_context():
        voicemail = db.session.scalar(select(Voicemail))
        assert callback.notes.startswith("Voicemail from (202) 555-0177") and "(23 seconds)" in callback.notes
        assert f"Listen: /api/voicemails/{voicemail.id}/recording" in callback.notes
        contact = db.session.get(Contact, ada["contact"])
        assert (contact.status, contact.next_due_at) == ("callback", OPENING)  # dialled first when due
        call = db.session.scalar(select(Call).where(Call.call_sid == SID))
        assert (call.recording_sid, call.direction) == (RECORDING, "inbound")  # the call's own recording
        assert call.contact_id == ada["contact"]  # the call is hers in the records, as any call to her
        assert db.session.scalar(select(Recording.status).where(Recording.call_id == call.id)) == "completed"

    agent = signed_in(ada["agent"])
    [listed] = agent.get("/api/agents/me/callbacks").get_json()["items"]
    assert listed["callback_id"] == callback.id and listed["first_name"] == "Ada"
    history = agent.get(f"/api/console/contacts/{ada['contact']}/history").get_json()
    [promised] = history["callbacks"]
    assert promised["status_words"] == "Scheduled" and promised["notes"] == callback.notes
    called_us = next(c for c in history["calls"] if c["call_id"] == call.id)
    assert called_us["direction"] == "inbound"
    assert called_us["notes"].startswith("Left a voicemail, 23 seconds; a callback was scheduled.")


def test_an_unknown_callers_voicemail_makes_a_contact_the_dialer_calls_only_for_the_callback(
        app, client, closed, users, signed_in):
    campaign = make_campaign(app)
    works_here, elsewhere = users.create("agent"), users.create("agent")
    with app.app_context():
        db.session.add(CampaignAssignment(campaign_id=campaign, user_id=works_here.id, role="agent"))
        db.session.commit()
    leave_voicemail(app, client, record_action(call_in(app, client)), seconds=1)

    [callback] = callbacks_of(app, campaign)
    assert callback.agent_id is None and "(1 second)" in callback.notes
    with app.app_context():
        contact = db.session.get(Contact, callback.contact_id)
        assert (contact.phone_e164, contact.campaign_id, contact.status) == (CALLER, campaign, "callback")
        assert contact.custom_fields["source"] == MANUAL_DIAL_SOURCE  # never dialled as a lead of a list
        assert db.session.scalar(select(Call.contact_id).where(Call.call_sid == SID)) == contact.id
    # For whichever agent of the campaign is free: in their list, not in another campaign's agent's.
    [listed] = signed_in(works_here).get("/api/agents/me/callbacks").get_json()["items"]
    assert listed["callback_id"] == callback.id and listed["phone"] == CALLER
    assert signed_in(elsewhere).get("/api/agents/me/callbacks").get_json()["items"] == []
    # Once made, it is nobody's but the agent's who made it: the campaign's others no longer
    # hear the voicemail (or open the contact's history through it).
    with app.app_context():
        voicemail_id = db.session.scalar(select(Voicemail.id))
        # Theirs to hear while it is to be made: the carrier is asked (and, here, not reachable).
        assert signed_in(works_here).get(f"/api/voicemails/{voicemail_id}/recording").status_code != 404
        db.session.get(Callback, callback.id).status = "done"
        db.session.commit()
    refused = signed_in(works_here).get(f"/api/voicemails/{voicemail_id}/recording")
    assert refused.status_code == 404


def test_the_carrier_asking_twice_or_late_changes_nothing(app, client, closed, ada):
    path = record_action(call_in(app, client))
    first = leave_voicemail(app, client, path)
    assert leave_voicemail(app, client, path) == first
    [callback] = callbacks_of(app, ada["campaign"])
    # The recording status callback, after the action: the same recording, completed once.
    with app.app_context():
        call_id = db.session.scalar(select(Call.id).where(Call.call_sid == SID))
    status = inbound_form(CallStatus="completed", RecordingSid=RECORDING, RecordingStatus="completed",
                          RecordingDuration="23", RecordingChannels="1", RecordingSource="RecordVerb",
                          RecordingUrl="https://api.twilio.com/x/Recordings/" + RECORDING)
    for _ in range(2):
        assert post_signed(client, app, f"/twilio/recording?attempt={call_id}", status).status_code == 204
    with app.app_context():
        for event_id in db.session.scalars(select(CallEvent.id).where(CallEvent.call_sid == SID)).all():
            process_call_event(event_id)
        recordings = db.session.scalars(select(Recording).where(Recording.call_id == call_id)).all()
        assert [(r.sid, r.status, r.duration_seconds) for r in recordings] == [(RECORDING, "completed", 23)]
        assert db.session.scalar(select(func.count()).select_from(Voicemail)) == 1
    assert [c.id for c in callbacks_of(app, ada["campaign"])] == [callback.id]


def test_a_voicemail_after_the_opt_out_key_is_kept_but_never_called_back(app, client, closed, ada, login_as):
    twiml = call_in(app, client)
    opt_out = urlsplit(twiml.find("Gather").get("action"))
    pressed = post_signed(client, app, f"{opt_out.path}?{opt_out.query}", inbound_form(Digits="9"))
    assert "added to our do-not-call list" in pressed.get_data(as_text=True)
    with app.app_context():
        assert is_dnc(CALLER, ada["campaign"])

    goodbye = leave_voicemail(app, client, record_action(twiml))
    assert "call you back" not in goodbye
    assert callbacks_of(app, ada["campaign"]) == []
    with app.app_context():
        voicemail = db.session.scalar(select(Voicemail))
        assert (voicemail.no_callback_reason, voicemail.contact_id) == ("do_not_call", ada["contact"])
        assert db.session.get(Contact, ada["contact"]).status == "retry"  # the DNC list holds it back
    admin = login_as("admin")
    contact = admin.get(f"/api/campaigns/{ada['campaign']}/contacts/{ada['contact']}").get_json()
    [called_us] = [c for c in contact["history"]["calls"] if c["direction"] == "inbound"]
    assert "no callback: the number is on the do-not-call list" in called_us["notes"]


def test_a_withheld_callers_message_brings_no_callback(app, client, closed):
    """No voicemail is offered to a withheld number; a recording posted all the same is kept
    without a callback (there is no number to call)."""
    campaign = make_campaign(app)
    with app.app_context():
        form = inbound_form(caller="anonymous")
        call = inbound.inbound_call(form, db.session.get(Campaign, campaign), inbound.caller_number(form))
        db.session.commit()
        path = f"/twilio/inbound/voicemail?campaign={campaign}&attempt={call.id}"
    goodbye = leave_voicemail(app, client, path, caller="anonymous")
    assert "call you back" not in goodbye
    assert callbacks_of(app, campaign) == []
    with app.app_context():
        assert db.session.scalar(select(Voicemail.no_callback_reason)) == "withheld"


def test_a_voicemail_for_another_call_is_ignored(app, client, closed, ada):
    path = record_action(call_in(app, client))
    answer = leave_voicemail(app, client, path, sid="CA" + "d2" * 16)
    assert "Goodbye." in answer
    assert callbacks_of(app, ada["campaign"]) == []


def test_a_forged_voicemail_is_refused(app, client, closed, ada):
    path = record_action(call_in(app, client))
    answer = client.post(path, data=inbound_form(RecordingSid=RECORDING), headers={"X-Twilio-Signature": "forged"})
    assert answer.status_code == 403
    assert callbacks_of(app, ada["campaign"]) == []


def test_only_those_it_is_for_may_hear_the_voicemail(app, client, closed, ada, users, signed_in, login_as,
                                                      placing_sim):
    leave_voicemail(app, client, record_action(call_in(app, client)))
    with app.app_context():
        voicemail_id = db.session.scalar(select(Voicemail.id))
    supervisor = login_as("supervisor")
    with app.app_context():
        db.session.add(CampaignAssignment(campaign_id=ada["campaign"], user_id=supervisor.user.id, role="supervisor"))
        db.session.commit()
    path = f"/api/voicemails/{voicemail_id}/recording"
    for outsider in (signed_in(users.create("agent")), login_as("supervisor")):
        refused = outsider.get(path)
        assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    # Those it is for reach the carrier (which, here, never made this recording).
    for insider in (signed_in(ada["agent"]), supervisor, login_as("admin")):
        assert insider.get(path).get_json()["error"]["code"] == "no_recording"


def test_a_voicemails_callback_is_sent_to_the_crm_once(app, client, closed, ada):
    """A CRM subscribed to callback.scheduled hears of the callback a voicemail asked for, as it
    hears of one an agent promised: once, however often the carrier asks."""
    import json

    from app.outbound_hooks import secrets
    from app.outbound_hooks.models import WebhookEndpoint, WebhookEvent

    with app.app_context():
        db.session.add(WebhookEndpoint(url="https://crm.example.test/hook", events=["callback.scheduled"],
                                       secret_sealed=secrets.seal(secrets.new_secret()), secret_hint="abcd"))
        db.session.commit()
    path = record_action(call_in(app, client))
    leave_voicemail(app, client, path)
    leave_voicemail(app, client, path)
    [callback] = callbacks_of(app, ada["campaign"])
    with app.app_context():
        [body] = [json.loads(e.body) for e in db.session.scalars(
            select(WebhookEvent).where(WebhookEvent.type == "callback.scheduled"))]
    data = body["data"]
    assert data["callback"]["id"] == callback.id and data["callback"]["source"] == "voicemail"
    assert data["callback"]["voicemail"]["caller"] == CALLER and data["callback"]["voicemail"]["duration_seconds"] == 23
    assert data["callback"]["interaction_id"] is None and data["contact"]["id"] == ada["contact"]
    assert data["agent"]["id"] == ada["agent"].id
