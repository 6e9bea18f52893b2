"""A call to our numbers that nobody can take (outside the campaign's hours, or past the longest
wait): the caller hears the seller's name and why (when we open, by the campaign's clock, in
words), may press the opt-out key, and may leave a voicemail after the beep."""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from sqlalchemy import select

import app.calls.inbound as inbound
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.dnc.services import add_to_dnc
from app.extensions import db
from tests.calls.factories import make_campaign, post_signed

OUR_NUMBER = "+12025550100"  # the factories' campaigns show it as caller ID
CALLER = "+12025550177"
# Tuesday 1 December 2026, 22:00 in Washington: after the default 09:00-20:00 window.
TUESDAY_NIGHT = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)
# Wednesday 2 December 2026, 10:00 in Washington.
WEDNESDAY_MORNING = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


# One zone for each hour of offset from UTC: at any moment it is night in one of them.
ZONES = ("Pacific/Kiritimati", "Pacific/Auckland", "Australia/Sydney", "Asia/Tokyo", "Asia/Shanghai",
         "Asia/Bangkok", "Asia/Dhaka", "Asia/Karachi", "Asia/Dubai", "Europe/Moscow", "Africa/Cairo",
         "Europe/Paris", "Europe/London", "Atlantic/Azores", "America/Noronha", "America/Sao_Paulo",
         "America/Halifax", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
         "America/Anchorage", "Pacific/Honolulu", "Pacific/Pago_Pago")


def zone_at_night() -> str:
    """A time zone where it is between 02:00 and 06:59 now: a campaign there is closed (its
    window is 09:00-20:00), whichever clock of the app decides it, and opens later today."""
    now = datetime.now(timezone.utc)
    return next(z for z in ZONES if 2 <= now.astimezone(ZoneInfo(z)).hour < 7)


def inbound_form(caller: str = CALLER, sid: str = "CA" + "c1" * 16, **extra) -> dict:
    form = {"AccountSid": "AC" + "a1" * 16, "CallSid": sid, "To": OUR_NUMBER, "From": caller,
            "CallStatus": "ringing", "Direction": "inbound"}
    form.update(extra)
    return form


def parsed(answer) -> ElementTree.Element:
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    return ElementTree.fromstring(answer.get_data(as_text=True))


def spoken(twiml: ElementTree.Element) -> str:
    return " ".join(say.text for say in twiml.iter("Say"))


def test_outside_hours_the_caller_hears_when_we_open_and_may_opt_out_or_leave_a_voicemail(app, client):
    zone = zone_at_night()
    campaign = make_campaign(app, seller_name="Acme Solar", seller_phone="+12025550199", timezone=zone)
    twiml = parsed(post_signed(client, app, "/twilio/inbound", inbound_form()))

    words = spoken(twiml)
    assert "You have reached Acme Solar" in words
    assert "We are closed now. We open again today at 9 a.m." in words
    assert "press 9" in words and "leave a message after the beep" in words and "(202) 555-0199" in words
    gather = twiml.find("Gather")
    assert gather.get("action").endswith(f"/twilio/inbound/opt-out?campaign={campaign}")
    record = twiml.find("Record")
    assert record.get("playBeep") == "true" and record.get("maxLength") == str(inbound.VOICEMAIL_MAX_SECONDS)
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.call_sid == "CA" + "c1" * 16))
        assert (call.direction, call.kind, call.campaign_id, call.from_number) == ("inbound", "inbound", campaign, CALLER)
    action = urlsplit(record.get("action"))
    assert action.path == "/twilio/inbound/voicemail"
    assert parse_qs(action.query) == {"campaign": [str(campaign)], "attempt": [str(call.id)]}
    assert record.get("recordingStatusCallback").endswith(f"/twilio/recording?attempt={call.id}")
    # Nothing recorded: the carrier posts no action and goes on to the next verb.
    assert list(twiml)[-2:] == [twiml.findall("Say")[-1], twiml.find("Hangup")]
    assert twiml.findall("Say")[-1].text == inbound.NOTHING_HEARD


def test_when_we_open_is_said_in_words_by_the_campaigns_own_clock(app, ctx):
    campaign = Campaign(name="dc", caller_id=OUR_NUMBER, seller_name="Acme Solar", seller_phone="+12025550199",
                        safe_harbour_message="m", timezone="America/New_York", window_start=time(9, 0),
                        window_end=time(20, 0))
    twiml = ElementTree.fromstring(inbound.answer_closed(inbound_form(), campaign, CALLER, inbound.CLOSED,
                                                         TUESDAY_NIGHT))
    assert "We are closed now. We open again tomorrow at 9 a.m. Eastern time." in spoken(twiml)


def test_the_opening_is_said_by_the_campaigns_own_clock(app, ctx):
    campaign = Campaign(timezone="America/Los_Angeles", window_start=time(10, 30), window_end=time(18, 0))
    at = datetime(2026, 12, 2, 16, 0, tzinfo=timezone.utc)  # 08:00 in Los Angeles
    assert inbound.opening_words(campaign, at) == "We open again today at 10:30 a.m. Pacific time."
    campaign.timezone = "Europe/London"
    evening = datetime(2026, 12, 2, 19, 0, tzinfo=timezone.utc)  # 19:00 there: closed until tomorrow
    assert inbound.opening_words(campaign, evening) == "We open again tomorrow at 10:30 a.m. London time."
    campaign.timezone = "UTC"
    assert inbound.opening_words(campaign, evening) == "We open again tomorrow at 10:30 a.m. UTC."


def test_the_opening_is_today_or_tomorrow_and_noon_is_said_as_noon(app, ctx):
    campaign = Campaign(name="weekday", caller_id=OUR_NUMBER, seller_name="Acme", seller_phone="+12025550199",
                        safe_harbour_message="m", timezone="America/Chicago", window_start=time(12, 0),
                        window_end=time(13, 0))
    # Saturday 5 December 2026, 13:00 in Chicago: the window (every day) opens tomorrow at noon.
    assert inbound.opening_words(campaign, datetime(2026, 12, 5, 19, 0, tzinfo=timezone.utc)) == \
        "We open again tomorrow at noon Central time."
    assert inbound.opening_words(campaign, datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc)) == \
        "We open again today at noon Central time."


def test_hours_are_the_window_in_the_campaigns_zone_start_in_end_out(app, ctx):
    campaign = Campaign(timezone="America/New_York", window_start=time(9, 0), window_end=time(20, 0))
    at = datetime(2026, 12, 2, 14, 0, tzinfo=timezone.utc)  # 09:00 in New York
    assert inbound.is_open(campaign, at)
    assert not inbound.is_open(campaign, at.replace(hour=13, minute=59))
    assert inbound.is_open(campaign, datetime(2026, 12, 3, 0, 59, tzinfo=timezone.utc))  # 19:59
    assert not inbound.is_open(campaign, datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc))  # 20:00
    campaign.timezone = "America/Los_Angeles"
    assert not inbound.is_open(campaign, at)  # 06:00 there


def test_past_the_longest_wait_the_caller_hears_agents_are_busy_and_may_leave_a_voicemail(app):
    campaign_id = make_campaign(app, seller_name="Acme Solar")
    with app.test_request_context():
        campaign = db.session.get(Campaign, campaign_id)
        answer = inbound.answer_closed(inbound_form(), campaign, CALLER, inbound.WAIT, WEDNESDAY_MORNING)
    twiml = ElementTree.fromstring(answer)
    assert "all our agents are still busy" in spoken(twiml) and "closed" not in spoken(twiml)
    assert "we will call you back as soon as we can" in spoken(twiml)
    assert twiml.find("Gather") is not None and twiml.find("Record") is not None


def test_a_withheld_caller_is_told_we_cannot_call_back_and_offered_no_voicemail(app, client):
    make_campaign(app, seller_phone="+12025550199", timezone=zone_at_night())
    twiml = parsed(post_signed(client, app, "/twilio/inbound", inbound_form(caller="anonymous")))
    words = spoken(twiml)
    assert "We are closed now" in words and "Your number is withheld, so we cannot call you back" in words
    assert "(202) 555-0199" in words
    assert twiml.find("Record") is None and twiml.find("Gather") is None


def test_a_caller_on_the_do_not_call_list_is_still_heard_but_not_promised_a_callback(app, client):
    make_campaign(app, timezone=zone_at_night())
    with app.app_context():
        add_to_dnc(CALLER, source="opt-out", reason="pressed 9 last week")
        db.session.commit()
    twiml = parsed(post_signed(client, app, "/twilio/inbound", inbound_form()))
    words = spoken(twiml)
    assert "on our do-not-call list, so we will not call you" in words and "call you back" not in words
    assert twiml.find("Record") is not None and twiml.find("Gather") is None


def test_the_same_call_asking_twice_keeps_one_call_record(app, client):
    make_campaign(app, timezone=zone_at_night())
    first = parsed(post_signed(client, app, "/twilio/inbound", inbound_form()))
    again = parsed(post_signed(client, app, "/twilio/inbound", inbound_form()))
    assert first.find("Record").get("action") == again.find("Record").get("action")
    with app.app_context():
        assert len(db.session.scalars(select(Call).where(Call.call_sid == "CA" + "c1" * 16)).all()) == 1
