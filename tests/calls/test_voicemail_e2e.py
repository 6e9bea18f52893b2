"""End to end through the carrier simulator: people call one of our numbers outside the
campaign's hours (it is night in the campaign's zone, by the real clock). One presses the opt-out key and is on the do-not-call list at once; calling
again, they may still leave a message, which nobody calls back. Another leaves a voicemail that
becomes a callback in the campaign, due when it opens, whose audio Omnivox plays."""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select
from twilio.rest import Client

from app.campaigns.models import Campaign
from app.contacts.models import MANUAL_DIAL_SOURCE, Contact
from app.dnc.services import is_dnc
from app.extensions import db
from app.interactions.models import Callback, Voicemail
from app.telephony.twilio_carrier import RoutingHttpClient
from carrier_sim.numbers import number_sid
from tests.calls.factories import make_campaign
from tests.calls.test_inbound_closed import zone_at_night
from tests.dialer.on_air import on_the_air, wait_for
from tests.helpers import ApiClient, UserFactory

OUR_NUMBER = "+12025550101"  # one of the simulator's numbers, Washington DC
OPTED_OUT = "+12025550123"
NEW_CALLER = "+12025550188"


@pytest.fixture
def air(_app, test_environ):
    """The app served, and the simulator calling it."""
    with on_the_air(_app, test_environ) as on_air:
        yield on_air


@pytest.fixture
def campaign(_app, air):
    """A campaign showing our number, where it is night; the number's calls come to /twilio/inbound."""
    campaign_id = make_campaign(_app, caller_id=OUR_NUMBER, seller_name="Acme Solar", timezone=zone_at_night(),
                                window_start=time(9, 0), window_end=time(20, 0))
    sid, token = _app.config["TWILIO_ACCOUNT_SID"], _app.config["TWILIO_AUTH_TOKEN"]
    Client(sid, token, http_client=RoutingHttpClient(air.sim_url)).incoming_phone_numbers(
        number_sid(OUR_NUMBER)).update(voice_url=f"{air.base_url}/twilio/inbound", voice_method="POST",
                                       status_callback=f"{air.base_url}/twilio/status")
    return campaign_id


def call_in(air, caller: str, **behaviour) -> dict:
    """A person calls our number; returns the call as the simulator saw it, once it has ended."""
    placed = requests.post(f"{air.sim_url}/_sim/inbound", json={"From": caller, "To": OUR_NUMBER, **behaviour},
                           timeout=5)
    assert placed.status_code == 201, placed.text
    sid = placed.json()["call_sid"]
    return wait_for(lambda: (seen := air.call(sid)) and seen["status"] == "completed" and seen,
                    f"the call from {caller} to end")


def heard(call: dict) -> str:
    return " ".join(call["said"])


def voicemails_from(app, caller: str) -> list[Voicemail]:
    with app.app_context():
        return db.session.scalars(select(Voicemail).where(Voicemail.caller == caller)).all()


def test_outside_hours_one_caller_opts_out_and_another_voicemail_becomes_a_callback(_app, air, campaign):
    pressed = call_in(air, OPTED_OUT, digits="9", voicemail=False)
    assert "We are closed now. We open again today at 9 a.m." in heard(pressed)
    assert "added to our do-not-call list" in heard(pressed)
    assert [p["digits"] for p in pressed["digits_pressed"]] == ["9"]
    with _app.app_context():
        assert is_dnc(OPTED_OUT, campaign)

    # Calling again, they are still heard: the message is kept, and nobody calls them back.
    again = call_in(air, OPTED_OUT, voicemail=True, voicemail_seconds=6, voicemail_ends="#")
    assert "on our do-not-call list, so we will not call you" in heard(again)
    [kept] = wait_for(lambda: voicemails_from(_app, OPTED_OUT), "the opted-out caller's message")
    assert (kept.no_callback_reason, kept.callback_id) == ("do_not_call", None)

    left = call_in(air, NEW_CALLER, voicemail=True, voicemail_seconds=14, voicemail_ends="#")
    assert "leave a message after the beep" in heard(left) and "Acme Solar will call you back" in heard(left)
    [voicemail] = wait_for(lambda: voicemails_from(_app, NEW_CALLER), "the voicemail")
    assert voicemail.recording_sid in left["recordings"] and voicemail.duration_seconds == 14
    with _app.app_context():
        callbacks = db.session.scalars(select(Callback).where(Callback.campaign_id == campaign)).all()
        assert [c.id for c in callbacks] == [voicemail.callback_id]
        callback = callbacks[0]
        contact = db.session.get(Contact, callback.contact_id)
        assert (contact.phone_e164, contact.status, contact.next_due_at) == (NEW_CALLER, "callback", callback.due_at)
        assert contact.custom_fields["source"] == MANUAL_DIAL_SOURCE
        assert "(14 seconds)" in callback.notes
        # Due when the campaign opens: 09:00 today by its clock.
        zone = ZoneInfo(db.session.get(Campaign, campaign).timezone)
        due, today = callback.due_at.astimezone(zone), datetime.now(timezone.utc).astimezone(zone).date()
        assert (due.date(), due.time()) == (today, time(9, 0))

    # The link in the notes plays the message, streamed by Omnivox (never the carrier's address).
    admin = UserFactory(_app).create("admin")
    client = ApiClient(_app.test_client())
    assert client.login(admin.username, admin.password).status_code == 200
    link = callback.notes.rpartition("Listen: ")[2]
    played = client.get(link)
    assert played.status_code == 200 and played.mimetype == "audio/wav"
    assert played.data[:4] == b"RIFF"
