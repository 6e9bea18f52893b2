"""What the agent console got wrong (issue 20), as the agent sees it in Chromium: preview with
nothing left, manual dial on a predictive campaign (from pause) and its refusals in words,
script placeholders with no value, the contact's earlier calls in the screen pop and the
callback pop-up, and "My recent calls" refreshed with dispositions in every mode."""
from __future__ import annotations

import re
import secrets
from datetime import time as dtime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCRIPT = "Hi {first_name}, this is Sam for {seller_name} about policy {policy_no}."


def _campaign(app, mode: str, *, script: str = SCRIPT, contacts: tuple[dict, ...] = ()) -> dict:
    """A campaign of its own in `mode`, an agent who works it alone (audio connected), a pause
    code and two disposition codes; returns ids, the agent and the contacts' ids."""
    from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode, PauseCode
    from app.contacts.models import Contact
    from app.extensions import db

    with app.app_context():
        agent = seed._user("agent", "Casey Agent")
        campaign = Campaign(name=f"Console {mode} {secrets.token_hex(2)}", caller_id="+12025550100",
                            seller_name="Acme Solar", seller_phone="+12025550101", dial_mode=mode,
                            safe_harbour_message="This is Acme Solar, 202-555-0101. Sorry we missed you.",
                            script=script, window_start=dtime(8), window_end=dtime(21), status="active",
                            max_abandon_rate=0.03, scrub_national_registry=False)
        db.session.add(campaign)
        db.session.flush()
        db.session.add_all([
            CampaignAssignment(campaign_id=campaign.id, user_id=agent["id"], role="agent"),
            PauseCode(code=f"lunch{secrets.token_hex(2)}", label="Lunch", campaign_id=campaign.id),
            DispositionCode(campaign_id=campaign.id, code="SALE", label="Sale", is_sale=True, is_final=True,
                            sort_order=1),
            DispositionCode(campaign_id=campaign.id, code="CALLBACK", label="Call back later", is_callback=True,
                            sort_order=2),
        ])
        people = [Contact(campaign_id=campaign.id, **c) for c in contacts]
        db.session.add_all(people)
        db.session.commit()
        agent.pop("obj")
        out = {"agent": agent, "campaign_id": campaign.id, "contact_ids": [p.id for p in people]}
    seed.connect_audio(app, agent["id"])
    return out


def _earlier_call(app, camp: dict, contact_id: int, notes: str) -> int:
    """An earlier call of the agent to the contact, dispositioned "Call back later" with notes."""
    from sqlalchemy import select

    from app.calls.models import Call
    from app.campaigns.models import DispositionCode
    from app.common.timeutil import utcnow
    from app.contacts.models import Contact
    from app.extensions import db
    from app.interactions.models import Interaction

    with app.app_context():
        then = utcnow() - timedelta(days=2)
        call = Call(campaign_id=camp["campaign_id"], contact_id=contact_id, to_number="+12125550142", from_number="+12025550100", status="completed", outcome="human",
                    agent_id=camp["agent"]["id"], attempt_no=1, created_at=then, connected_at=then,
                    ended_at=then + timedelta(minutes=2), duration_seconds=120)
        db.session.add(call)
        db.session.flush()
        code = db.session.scalar(select(DispositionCode).where(DispositionCode.campaign_id == camp["campaign_id"],
                                                               DispositionCode.code == "CALLBACK"))
        db.session.add(Interaction(call_id=call.id, campaign_id=camp["campaign_id"], contact_id=contact_id,
                                   agent_id=camp["agent"]["id"], started_at=then, talk_seconds=110, notes=notes,
                                   disposition_code_id=code.id, dispositioned_at=then))
        contact = db.session.get(Contact, contact_id)
        contact.attempts, contact.last_outcome = 1, "CALLBACK"
        db.session.commit()
        return call.id


def _console(browser, live_server, camp):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, camp["agent"], "/agent")
    expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
    expect(page.get_by_test_id("audio-status")).to_have_text("Connected")
    return context, page


def test_preview_with_nothing_left_disables_dial_and_skip(browser, live_server, _app):
    camp = _campaign(_app, "preview")
    context, page = _console(browser, live_server, camp)
    asked = []
    page.on("request", lambda r: asked.append(r.url))
    try:
        page.get_by_test_id("go-ready").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        body = page.locator("#preview-body")
        expect(body).to_contain_text("No contacts to preview right now")
        expect(body).to_contain_text("no contacts left to call")
        expect(body).not_to_contain_text("None")
        expect(page.locator("#preview-dial")).to_be_disabled()
        expect(page.locator("#preview-skip")).to_be_disabled()
        page.locator("#preview-dial").click(force=True)  # even a forced click asks for no one
        page.locator("#preview-skip").click(force=True)
        page.wait_for_timeout(300)
        assert not [u for u in asked if "undefined" in u or "/preview/null" in u], asked
    finally:
        context.close()


def _ring_and_bridge(app, camp: dict, contact_id: int, kind: str = "auto") -> int:
    floor = {"campaign_id": camp["campaign_id"], "contact_id": contact_id, "agent": camp["agent"]}
    call_id = seed.ring(app, floor)
    seed.answer_and_bridge(app, floor, call_id)
    return call_id


def test_screen_pop_fills_placeholders_readably_and_shows_earlier_calls(browser, live_server, _app):
    camp = _campaign(_app, "progressive", contacts=(
        {"phone_e164": "+12125550142", "last_name": "Nameless", "timezone": "America/New_York",
         "custom_fields": {"plan": "Premium"}},))
    contact_id = camp["contact_ids"][0]
    _earlier_call(_app, camp, contact_id, "Asked us to call after the 15th.")
    context, page = _console(browser, live_server, camp)
    try:
        page.get_by_test_id("go-ready").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        call_id = _ring_and_bridge(_app, camp, contact_id)
        expect(page.get_by_test_id("screen-pop")).to_be_visible()
        script = page.locator("#script")
        expect(script).to_have_text(
            "Hi [first name: not on file], this is Sam for Acme Solar about policy [policy no: not on file].")
        expect(script.locator("mark.placeholder-missing")).to_have_count(2)
        facts = page.locator("#contact-facts")
        expect(facts).to_contain_text("Call back later")  # the disposition, not its code
        expect(facts).not_to_contain_text("CALLBACK")
        expect(page.get_by_test_id("pop-history")).to_contain_text("Earlier calls (1)")
        page.locator("#pop-history-title").click()
        expect(page.get_by_test_id("pop-history")).to_contain_text("Asked us to call after the 15th.")

        page.get_by_test_id("hang-up").click()
        expect(page.get_by_test_id("wrap-up")).to_be_visible()
        seed.complete(_app, call_id)
        page.check('input[name="code"][value="SALE"]')
        page.click("#save-ready")
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        recent = page.locator("#recent-calls")
        expect(recent.locator("tbody tr").first).to_contain_text("Sale")
        expect(recent).to_contain_text("Call back later")
        expect(recent).not_to_contain_text("human")
    finally:
        context.close()


def test_my_recent_calls_refresh_after_a_preview_call(browser, live_server, _app):
    from app.agents.reservations import confirm_reservation, end_call
    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db
    from app.interactions.screen_pop import publish_screen_pop
    from app.interactions.services import open_interaction
    from tests.zones import number_in_zone, zone_in_calling_hours

    zone = zone_in_calling_hours()
    camp = _campaign(_app, "preview", contacts=(
        {"phone_e164": number_in_zone(zone, 4401), "first_name": "Priya", "last_name": "Preview", "timezone": zone},
        {"phone_e164": number_in_zone(zone, 4402), "first_name": "Quinn", "last_name": "Next", "timezone": zone}))
    with _app.app_context():
        from app.dialer.refill import refill

        refill(camp["campaign_id"])
    context, page = _console(browser, live_server, camp)
    try:
        expect(page.locator("#recent-calls")).to_contain_text("No calls yet")
        page.get_by_test_id("go-ready").click()
        expect(page.locator("#preview-body")).to_contain_text("Priya Preview")
        page.locator("#preview-dial").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Connecting…")
        with _app.app_context():  # the person answers the preview call: it is connected to the agent
            call = db.session.query(Call).filter_by(agent_id=camp["agent"]["id"], kind="preview").one()
            call.status, call.answered_at, call.connected_at, call.outcome = "in-progress", utcnow(), utcnow(), "human"
            open_interaction(call, camp["agent"]["id"], call.connected_at)
            db.session.commit()
            assert confirm_reservation(camp["agent"]["id"], call.id)
            publish_screen_pop(camp["agent"]["id"], call.id)
            call_id = call.id
        expect(page.get_by_test_id("screen-pop")).to_be_visible()
        with _app.app_context():
            assert end_call(camp["agent"]["id"], call_id)
        seed.complete(_app, call_id)
        expect(page.get_by_test_id("wrap-up")).to_be_visible()
        page.check('input[name="code"][value="SALE"]')
        page.click("#save-ready")
        expect(page.locator("#preview-body")).to_contain_text("Quinn Next")
        recent = page.locator("#recent-calls")
        expect(recent).to_contain_text("Priya Preview")
        expect(recent).to_contain_text("Sale")
    finally:
        context.close()


def test_a_callback_coming_due_shows_the_contacts_earlier_calls(browser, live_server, _app):
    from app.common.timeutil import utcnow
    from app.extensions import db
    from app.interactions.models import Callback

    camp = _campaign(_app, "progressive", contacts=(
        {"phone_e164": "+12125550142", "first_name": "Bea", "last_name": "Callback", "timezone": "America/New_York"},))
    contact_id = camp["contact_ids"][0]
    _earlier_call(_app, camp, contact_id, "Husband decides; call back Tuesday.")
    with _app.app_context():
        callback = Callback(campaign_id=camp["campaign_id"], contact_id=contact_id, agent_id=camp["agent"]["id"],
                            due_at=utcnow(), status="queued", notes="Quote for two panels")
        db.session.add(callback)
        db.session.commit()
        callback_id = callback.id
    context, page = _console(browser, live_server, camp)
    try:
        seed.publish_to_agent(_app, camp["agent"]["id"], "callback.due", {
            "callback_id": callback_id, "campaign_id": camp["campaign_id"], "contact_id": contact_id,
            "due_at": utcnow().isoformat(), "notes": "Quote for two panels", "first_name": "Bea",
            "last_name": "Callback", "phone": "+12125550142"})
        pop = page.get_by_test_id("callback-pop")
        expect(pop).to_be_visible()
        expect(pop).to_contain_text("Callback due: Bea Callback")
        expect(pop).to_contain_text("Quote for two panels")
        history = page.get_by_test_id("callback-pop-history")
        expect(history).to_contain_text("Husband decides; call back Tuesday.")
        expect(history).to_contain_text("Call back later")
        expect(history).to_contain_text("with Casey Agent")
    finally:
        context.close()


def test_a_paused_agent_dials_by_hand_on_a_predictive_campaign(browser, live_server, _app):
    from app.agents import state as agent_state
    from app.agents.reservations import release_reservation
    from tests.zones import NUMBERS_BY_ZONE, number_in_zone, zone_in_calling_hours, zones_at_local_hours

    camp = _campaign(_app, "predictive")
    context, page = _console(browser, live_server, camp)
    try:
        page.get_by_test_id("go-ready").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        expect(page.get_by_test_id("manual-hint")).to_contain_text("Pause first to dial by hand")
        expect(page.get_by_test_id("manual-submit")).to_be_disabled()
        page.select_option("#pause-code", label="Lunch")
        page.click("#go-pause")
        expect(page.get_by_test_id("agent-state")).to_have_text("Paused")
        expect(page.get_by_test_id("manual-submit")).to_be_enabled()

        page.get_by_test_id("manual-submit").click()  # nothing typed
        expect(page.get_by_test_id("manual-error")).to_have_text("Enter a phone number.")
        page.get_by_test_id("manual-phone").fill("12")
        page.get_by_test_id("manual-submit").click()
        expect(page.get_by_test_id("manual-error")).to_contain_text("Check the digits")
        expect(page.get_by_test_id("manual-error")).not_to_contain_text("Length")

        from datetime import datetime, timezone

        shut = zones_at_local_hours(datetime.now(timezone.utc), [0, 1, 2, 3, 4, 5, 6, 22, 23])
        if shut:
            page.get_by_test_id("manual-phone").fill(NUMBERS_BY_ZONE[shut[0]].format(88))
            page.get_by_test_id("manual-submit").click()
            error = page.get_by_test_id("manual-error")
            expect(error).to_contain_text(re.compile(r"Outside this contact's calling hours: callable again .*their time"))
            expect(error).not_to_contain_text("outside_calling_window")

        number = number_in_zone(zone_in_calling_hours(), 4501)
        page.get_by_test_id("manual-phone").fill(number)
        page.get_by_test_id("manual-submit").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Connecting…")
        expect(page.get_by_test_id("manual-error")).to_be_hidden()
        with _app.app_context():
            snap = agent_state.snapshot(camp["agent"]["id"])
            assert snap["state"] == "reserved" and snap["dialled_from_pause"]
            release_reservation(camp["agent"]["id"], snap["call_id"])  # nobody answered
        expect(page.get_by_test_id("agent-state")).to_have_text("Paused")  # back to the pause
        expect(page.locator("#state-detail")).to_have_text("Reason: Lunch")
    finally:
        context.close()
