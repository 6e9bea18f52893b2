"""The Numbers and Webhooks admin pages in the browser: an admin sees the account's numbers as
the carrier simulator lists them, gives a campaign a pool and finds the number people stopped
answering rested, its figures in words; an admin registers a CRM endpoint, copies its secret
(shown once), sends a test that a receiver on this machine checks the signature of, reads the
delivery log and sends a delivery again; a private address is refused in words."""
from __future__ import annotations

import secrets
from datetime import time as dtime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.helpers import truncate_tables
from tests.outbound_hooks.receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.browser]

POOL = ("+12025550101", "+12125550102", "+13125550104")  # three of the simulator's demo numbers
LABELLED = POOL[2]  # people stop answering it


@pytest.fixture
def admin_page(browser, live_server, floor):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def numbers_campaign(_app, live_server, test_environ):
    """A campaign of its own (its dials must not show in other tests' figures); its calls, the
    numbers and pools are removed afterwards."""
    from app.campaigns.models import Campaign
    from app.extensions import db

    name = f"Local Presence {secrets.token_hex(2)}"
    with _app.app_context():
        campaign = Campaign(name=name, caller_id="+12025550100", seller_name="Acme Solar",
                            seller_phone="+12025550101", dial_mode="progressive", status="paused",
                            safe_harbour_message="This is Acme Solar, 202-555-0101. Sorry we missed you.",
                            window_start=dtime(9), window_end=dtime(20))
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
    yield {"id": campaign_id, "name": name}
    with _app.app_context():
        from sqlalchemy import delete

        from app.calls.models import Call

        db.session.execute(delete(Call).where(Call.campaign_id == campaign_id))
        db.session.execute(delete(Campaign).where(Campaign.id == campaign_id))
        db.session.commit()
    truncate_tables(test_environ["DATABASE_URL"], "phone_numbers, number_pool_members")


def _dials(app, campaign_id: int, answered: dict[str, int], dials: int) -> None:
    """`dials` finished calls from each number an hour ago, `answered[number]` of them by a person."""
    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db

    at = utcnow() - timedelta(hours=1)
    with app.app_context():
        for number, people in answered.items():
            for i in range(dials):
                db.session.add(Call(campaign_id=campaign_id, to_number=f"+1312555{3000 + i:04d}",
                                    from_number=number, call_sid=f"CA{secrets.token_hex(16)}",
                                    status="completed", outcome="human" if i < people else "no-answer",
                                    created_at=at, queued_at=at, ended_at=at))
        db.session.commit()


def _row(page, number: str):
    return page.locator(f'#numbers tbody tr[data-number="{number}"]')


def test_an_admin_pools_numbers_and_finds_the_unanswered_one_rested(_app, admin_page, live_server, floor,
                                                                     numbers_campaign):
    from app.numbers import health

    page = admin_page
    sign_in(page, live_server, floor["admin"], "/admin/numbers")
    # The account's numbers, as the carrier lists them, with their state in words.
    expect(_row(page, LABELLED)).to_contain_text("Chicago")
    expect(_row(page, LABELLED).locator("td").nth(2)).to_have_text("IL")
    expect(_row(page, LABELLED)).to_contain_text("In service")
    expect(_row(page, LABELLED)).to_contain_text("No dials yet")
    expect(_row(page, LABELLED).locator(".calls-go")).to_have_text(
        "Nowhere: the carrier has no address for calls to it")

    # The campaign gets a pool of three.
    page.select_option("#pool-campaign", label=numbers_campaign["name"])
    expect(page.locator("#pool-default")).to_contain_text("+12025550100")
    for number in POOL:
        page.locator(f'#pool-choices input[value="{number}"]').check()
    page.locator("#pool-form button[type=submit]").click()
    expect(page.locator(".toast").last).to_contain_text("Pool saved")
    for number in POOL:
        expect(_row(page, number).locator("td").nth(3)).to_contain_text(numbers_campaign["name"])
        # Pooled, it is pointed at Omnivox at the carrier: whoever calls it back reaches the seller.
        expect(_row(page, number).locator(".calls-go")).to_contain_text("Omnivox answers")
    expect(page.locator("#pool-campaign")).to_have_value(str(numbers_campaign["id"]))

    # A day of dials: people answer two numbers half the time and the third hardly ever.
    _dials(_app, numbers_campaign["id"], {POOL[0]: 30, POOL[1]: 30, LABELLED: 2}, 60)
    with _app.app_context():
        assert health.assess_numbers() == [LABELLED]
    page.reload()
    labelled = _row(page, LABELLED)
    expect(labelled).to_contain_text("Resting until")
    expect(labelled.locator(".rest-reason")).to_contain_text("People answered 3.3 per 100 dials over the last 24 hours")
    expect(labelled.locator(".rest-reason")).to_contain_text("(2 of 60)")
    expect(labelled.locator("td").nth(6)).to_have_text("2 of 60 dials answered: 3.3 per 100 (pool: 50 per 100)")
    expect(_row(page, POOL[0])).to_contain_text("In service")
    expect(_row(page, POOL[0]).locator("td").nth(6)).to_have_text(
        "30 of 60 dials answered: 50 per 100 (pool: 26.7 per 100)")
    # Not in the pool it now shows as resting, in words.
    expect(page.locator(f'#pool-choices label:has(input[value="{LABELLED}"])')).to_contain_text("resting")

    # Back in service at the admin's word.
    labelled.get_by_role("button", name="Back in service now").click()
    expect(labelled).to_contain_text("In service")


def test_an_admin_registers_an_endpoint_tests_it_and_sends_a_delivery_again(_app, admin_page, live_server, floor,
                                                                           test_environ):
    from app.outbound_hooks import secrets as signing

    page = admin_page
    try:
        with Receiver() as crm:
            sign_in(page, live_server, floor["admin"], "/admin/webhooks")
            expect(page.locator("#hooks tbody")).to_contain_text("No endpoints yet.")

            # A private address is refused, in words, beside the field.
            form = page.locator("#hook-form")
            form.locator("input[name=url]").fill("https://10.1.2.3/omnivox")
            form.get_by_label("Call completed").check()
            form.get_by_role("button", name="Add endpoint").click()
            error = form.locator(".field-error")
            expect(error).to_have_text("10.1.2.3 is a private address: Omnivox sends only to public internet "
                                       "addresses.")
            expect(page.locator("#hooks tbody")).to_contain_text("No endpoints yet.")

            # The receiver on this machine is accepted; its secret is shown once.
            form.locator("input[name=url]").fill(crm.url)
            form.locator("input[name=description]").fill("Our CRM")
            form.get_by_role("button", name="Add endpoint").click()
            dialog = page.locator("#secret-dialog")
            expect(dialog).to_be_visible()
            secret = page.locator("#secret-value").inner_text()
            assert secret.startswith("whsec_")
            expect(form.locator(".field-error")).to_have_count(0)
            dialog.get_by_role("button", name="I have copied it").click()
            expect(dialog).to_be_hidden()
            row = page.locator("#hooks tbody tr").first
            expect(row).to_contain_text(crm.url)
            expect(row).to_contain_text("Call completed")
            expect(row).to_contain_text(f"…{secret[-4:]}")
            page.reload()
            expect(page.locator("#hooks tbody tr").first).to_contain_text(crm.url)
            assert secret not in page.content()

            # A test: the receiver checks its signature; the log shows the answer in words.
            page.locator("#hooks tbody tr").first.get_by_role("button", name="Send a test").click()
            test = crm.wait_for(1)[0]
            assert signing.verify(secret, test["body"], test["headers"]["Omnivox-Signature"])
            assert test["json"]["type"] == "webhook.test"
            expect(page.locator(".toast").last).to_contain_text("Delivered: answered 200")
            log = page.locator('[data-testid="hook-deliveries"] tbody')
            expect(log.locator("tr")).to_have_count(1)
            expect(log.locator("tr").first).to_contain_text("Delivered")
            expect(log.locator("tr").first.locator("td").nth(3)).to_have_text("200")
            expect(log.locator("tr").first.locator("td").nth(5)).to_have_text("1")

            # Sent again: the same event, signed again, a second line in the log.
            log.locator("tr").first.get_by_role("button", name="Send again").click()
            again = crm.wait_for(2)[1]
            assert again["body"] == test["body"]
            assert signing.verify(secret, again["body"], again["headers"]["Omnivox-Signature"])
            expect(log.locator("tr")).to_have_count(2)
            expect(log.locator("tr").first).to_contain_text("(sent again)")
            expect(log.locator("tr").first).to_contain_text("Delivered")
    finally:
        truncate_tables(test_environ["DATABASE_URL"],
                        "webhook_attempts, webhook_deliveries, webhook_events, webhook_endpoints")
