"""A call to our numbers as the agent sees it in Chromium: the screen pop says the person called
us and from which number, and shows their earlier calls open; a withheld number pops with no
contact."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_fixes import _campaign, _console

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CALLER = "+12125550147"


def _taking_calls_now(app, camp: dict, caller: str | None) -> str:
    """The campaign's hours are open in its zone now, and it shows a number of its own (returned);
    `caller` (if given) is a contact the agent spoke with two days ago."""
    from app.calls.models import Call
    from app.campaigns.models import Campaign
    from app.common.timeutil import utcnow
    from app.extensions import db
    from app.interactions.models import Interaction
    from tests.zones import zone_in_calling_hours

    ours = f"+1202555{secrets.randbelow(9000) + 1000}"
    with app.app_context():
        campaign = db.session.get(Campaign, camp["campaign_id"])
        campaign.timezone, campaign.caller_id = zone_in_calling_hours(), ours
        if caller is not None:
            then = utcnow() - timedelta(days=2)
            call = Call(campaign_id=camp["campaign_id"], contact_id=camp["contact_ids"][0], to_number=caller,
                        from_number=ours, status="completed", outcome="human",
                        agent_id=camp["agent"]["id"], created_at=then, connected_at=then)
            db.session.add(call)
            db.session.flush()
            db.session.add(Interaction(call_id=call.id, campaign_id=camp["campaign_id"],
                                       contact_id=camp["contact_ids"][0], agent_id=camp["agent"]["id"],
                                       started_at=then, talk_seconds=80, notes="Wants the premium plan."))
        db.session.commit()
    return ours


def _calls_in(app, ours: str, caller: str) -> None:
    """The carrier asks /twilio/inbound (the answer, in-process: the screen pop goes out live)."""
    from app.dialer.inbound import answer_call_to_us

    with app.app_context():
        twiml = answer_call_to_us({"CallSid": f"CA{secrets.token_hex(16)}", "To": ours,
                                   "From": caller, "CallStatus": "ringing", "Direction": "inbound"})
    assert "<Conference" in twiml, twiml


def test_an_inbound_call_pops_as_one_with_the_callers_earlier_calls(browser, live_server, _app):
    camp = _campaign(_app, "progressive", contacts=(
        {"phone_e164": CALLER, "first_name": "Grace", "last_name": "Hopper", "timezone": "America/New_York"},))
    ours = _taking_calls_now(_app, camp, CALLER)
    context, page = _console(browser, live_server, camp)
    try:
        page.get_by_test_id("go-ready").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        _calls_in(_app, ours, CALLER)
        expect(page.get_by_test_id("screen-pop")).to_be_visible()
        expect(page.get_by_test_id("pop-inbound")).to_have_text("Inbound call: (212) 555-0147 called us.")
        expect(page.locator("#contact-name")).to_have_text("Grace Hopper")
        history = page.get_by_test_id("pop-history")
        expect(history).to_have_attribute("open", "")  # open already: the agent reads why they call
        expect(history.locator("#pop-history-body")).to_contain_text("Wants the premium plan.")
        expect(history.locator("#pop-history-body")).to_be_visible()
    finally:
        context.close()


def test_a_withheld_caller_pops_with_no_contact(browser, live_server, _app):
    camp = _campaign(_app, "progressive")
    ours = _taking_calls_now(_app, camp, None)
    context, page = _console(browser, live_server, camp)
    try:
        page.get_by_test_id("go-ready").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        _calls_in(_app, ours, "anonymous")
        expect(page.get_by_test_id("pop-inbound")).to_have_text("Inbound call: the caller's number is withheld.")
        expect(page.locator("#contact-name")).to_have_text("Withheld number")
    finally:
        context.close()
