"""Lists and contacts in the browser: a supervisor recycles a list's no-answers, finds a contact
and reads their history; a do-not-call upload shows each bad line by its number."""
from __future__ import annotations

import secrets
from datetime import time as dtime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def spring(_app, live_server):
    """A campaign with its own supervisor; a list of four finished contacts (three whose last
    call went unanswered, one sale), and Grace, called once by Sam Agent."""
    from app.calls.models import Call
    from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode
    from app.common.timeutil import utcnow
    from app.contacts.models import Contact
    from app.extensions import db
    from app.imports.models import ImportJob
    from app.interactions.models import Interaction
    from app.users import services

    with _app.app_context():
        password = "pw-" + secrets.token_urlsafe(12)
        sup = services.create_user(f"rita-{secrets.token_hex(2)}", password, "supervisor")
        sup.full_name = "Rita Recycler"
        agent = services.create_user(f"sam-{secrets.token_hex(2)}", "pw-" + secrets.token_urlsafe(12), "agent")
        agent.full_name = "Sam Agent"
        campaign = Campaign(name="Spring Renewals", caller_id="+12025550100", seller_name="Acme Solar",
                            seller_phone="+12025550101", dial_mode="progressive", status="paused",
                            safe_harbour_message="This is Acme Solar, 202-555-0101. Sorry we missed you.",
                            window_start=dtime(9), window_end=dtime(20), max_attempts=2)
        db.session.add(campaign)
        db.session.flush()
        sale = DispositionCode(campaign_id=campaign.id, code="SALE", label="Sale", is_sale=True, is_final=True)
        db.session.add_all([CampaignAssignment(campaign_id=campaign.id, user_id=sup.id, role="supervisor"),
                            CampaignAssignment(campaign_id=campaign.id, user_id=agent.id, role="agent"), sale])
        job = ImportJob(kind="contacts", campaign_id=campaign.id, filename="april-leads.csv", status="done")
        db.session.add(job)
        db.session.flush()
        done = dict(campaign_id=campaign.id, import_job_id=job.id, timezone="America/New_York", status="done",
                    attempts=2)
        db.session.add_all([
            Contact(phone_e164="+12125550171", first_name="Linus", last_name="Pauling", last_outcome="no-answer", **done),
            Contact(phone_e164="+12125550172", first_name="Marie", last_name="Curie", last_outcome="no-answer", **done),
            Contact(phone_e164="+12125550173", first_name="Niels", last_name="Bohr", last_outcome="no-answer", **done),
        ])
        grace = Contact(phone_e164="+12125550174", first_name="Grace", last_name="Hopper", last_outcome="SALE", **done)
        db.session.add(grace)
        db.session.flush()
        call = Call(campaign_id=campaign.id, contact_id=grace.id, agent_id=agent.id, to_number=grace.phone_e164,
                    from_number="+12025550100", outcome="human", status="completed", attempt_no=2,
                    connected_at=utcnow() - timedelta(days=1), ended_at=utcnow() - timedelta(days=1) + timedelta(minutes=3))
        db.session.add(call)
        db.session.flush()
        db.session.add(Interaction(call_id=call.id, campaign_id=campaign.id, contact_id=grace.id, agent_id=agent.id,
                                   talk_seconds=184, disposition_code_id=sale.id,
                                   notes="Signed up for the Premium plan, wants paper bills"))
        db.session.commit()
        return {"supervisor": {"username": sup.username, "password": password}, "campaign_id": campaign.id,
                "list_id": job.id}


def test_a_supervisor_recycles_no_answers_then_finds_a_contact_and_reads_their_history(browser, live_server, spring):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, live_server, spring["supervisor"], "/admin/contacts")
        expect(page.get_by_test_id("lists-campaign")).to_have_value(str(spring["campaign_id"]))
        row = page.locator(f'#lists tr[data-list="{spring["list_id"]}"]')
        expect(row).to_contain_text("april-leads.csv")
        expect(row.locator('[data-outcome="no-answer"]')).to_have_text("No answer: 3")
        expect(row.locator('[data-status="done"]')).to_have_text("Finished: 4")

        row.get_by_role("button", name="Recycle…").click()
        dialog = page.get_by_test_id("recycle-dialog")
        expect(dialog).to_be_visible()
        no_answer = dialog.locator('label[data-outcome="no-answer"]')
        expect(no_answer).to_contain_text("3 contacts would be reset")
        expect(no_answer.locator("input")).to_be_checked()
        expect(dialog.locator('label[data-outcome="busy"] input')).to_be_disabled()  # none to reset
        expect(dialog).not_to_contain_text("Sale")  # a sale is never recycled
        dialog.get_by_role("button", name="Recycle").click()
        expect(dialog).to_be_hidden()
        expect(row.locator('[data-status="retry"]')).to_have_text("To call again: 3")
        expect(row.locator('[data-status="done"]')).to_have_text("Finished: 1")
        expect(row.get_by_role("button", name="Recycle…")).to_be_disabled()  # nothing left to reset

        page.get_by_test_id("contact-search").fill("grace hop")
        page.locator("#search-form button[type=submit]").click()
        results = page.get_by_test_id("contact-row")
        expect(results).to_have_count(1)
        expect(results.first).to_contain_text("Grace Hopper")
        expect(results.first).to_contain_text("april-leads.csv")
        results.first.click()
        contact = page.get_by_test_id("contact-dialog")
        expect(contact).to_be_visible()
        expect(contact.locator("#contact-title")).to_have_text("Grace Hopper")
        calls = contact.get_by_test_id("history-calls")
        expect(calls).to_contain_text("Sam Agent")
        expect(calls).to_contain_text("Answered by a person")
        expect(calls).to_contain_text("Sale")
        expect(calls).to_contain_text("Signed up for the Premium plan, wants paper bills")
        expect(calls).to_contain_text("03:04")
        shot(page, "contact-history")

        contact.locator('input[name="phone"]').fill("12")
        contact.get_by_role("button", name="Save changes").click()
        expect(contact.locator(".field-error")).to_be_visible()
        contact.locator('input[name="phone"]').fill("(212) 555-0175")
        contact.get_by_role("button", name="Save changes").click()
        expect(contact.locator('input[name="phone"]')).to_have_value("+12125550175")
        expect(contact.locator(".field-error")).to_have_count(0)
    finally:
        ctx.close()


def test_a_do_not_call_upload_shows_what_was_added_and_each_bad_line_by_number(browser, live_server, floor):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    csv = ("phone,reason\n"
           "+12125550191,asked on the phone\n"
           "not-a-number,typo\n"
           "+12125550192,complaint\n"
           "+12125550191,twice in the file\n")
    try:
        sign_in(page, live_server, floor["supervisor"], "/admin/dnc")
        page.set_input_files("#dnc-file", files=[{"name": "dnc.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
        page.locator("#dnc-upload-form button[type=submit]").click()
        result = page.get_by_test_id("dnc-result")
        expect(result.locator("#dnc-result-status")).to_have_text("Done", timeout=30000)
        expect(page.get_by_test_id("dnc-added")).to_have_text("2")
        expect(page.get_by_test_id("dnc-already")).to_have_text("1")
        expect(page.get_by_test_id("dnc-bad")).to_have_text("1")
        bad = page.get_by_test_id("dnc-bad-lines").locator("tbody tr")
        expect(bad).to_have_count(1)
        expect(bad.first.locator("td").first).to_have_text("3")  # the header is line 1
        expect(bad.first).to_contain_text("not-a-number")
        expect(page.locator("#dnc tbody")).to_contain_text("+12125550192")
        expect(page.locator("#dnc tbody")).to_contain_text("Uploaded file")
    finally:
        ctx.close()


def test_a_supervisor_reaches_their_campaigns_team_and_dialer_from_the_wallboard(browser, live_server, spring):
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        sign_in(page, live_server, spring["supervisor"], "/supervisor")
        link = page.locator(f'a[href="/admin/campaigns/{spring["campaign_id"]}"]')
        expect(link).to_have_text("Team and dialer")
        link.click()
        expect(page).to_have_url(f"{live_server}/admin/campaigns/{spring['campaign_id']}")
        expect(page.locator("h1")).to_contain_text("Spring Renewals")
    finally:
        page.context.close()
