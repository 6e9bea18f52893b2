"""A supervisor's call records and reports in Chromium: filter the calls (names, not ids), open
one, export what the filters show (names, dispositions, notes, formulas defused), open each report
(figures, a chart, a CSV); an agent sees only their own calls."""
from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EVIL = '=HYPERLINK("x")'


@pytest.fixture(scope="module")
def desk(_app, live_server):
    """A campaign of its own (other browser tests never see it), its supervisor, two named agents,
    calls placed in the last hour with dispositions and notes, and the KPI rollup brought up to date."""
    from app.agents.models import AgentStateChange
    from app.calls.models import Call
    from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode, PauseCode
    from app.common.timeutil import utcnow
    from app.contacts.models import Contact
    from app.extensions import db
    from app.interactions.models import Interaction
    from app.kpi import rollup
    from tests.browser.seed import _user

    now = utcnow()
    with _app.app_context():
        sup, ann, ben = (_user("supervisor", "Rita Reports"), _user("agent", "Ann Answer"),
                         _user("agent", "Ben Busy"))
        campaign = Campaign(name=f"Reports Desk {secrets.token_hex(2)}", caller_id="+12025550100",
                            seller_name="Acme", seller_phone="+12025550101", timezone="America/New_York",
                            safe_harbour_message="Acme calling, 202 555 0101.")
        db.session.add(campaign)
        db.session.flush()
        cid = campaign.id
        sale = DispositionCode(campaign_id=cid, code="SALE", label="Sale", is_sale=True)
        ni = DispositionCode(campaign_id=cid, code="NI", label="Not interested")
        brk = PauseCode(campaign_id=cid, code="lunch", label="Lunch")
        grace = Contact(campaign_id=cid, phone_e164="+12125550181", first_name="Grace", last_name="Hopper")
        alan = Contact(campaign_id=cid, phone_e164="+12125550182", first_name="Alan", last_name="Turing")
        evil = Contact(campaign_id=cid, phone_e164="+12125550183", first_name=EVIL, last_name="")
        db.session.add_all([sale, ni, brk, grace, alan, evil] + [
            CampaignAssignment(campaign_id=cid, user_id=u["id"], role=u["role"]) for u in (sup, ann, ben)])
        db.session.flush()

        def call(contact, minutes_ago, outcome, agent=None, **kw):
            at = now - timedelta(minutes=minutes_ago)
            c = Call(campaign_id=cid, contact_id=contact.id, agent_id=agent["id"] if agent else None,
                     to_number=contact.phone_e164, from_number="+12025550100", outcome=outcome,
                     status="busy" if outcome == "busy" else "completed", created_at=at, queued_at=at,
                     answered_at=at if outcome == "human" else None, ended_at=at + timedelta(minutes=2),
                     attempt_no=kw.pop("attempt", 1), **kw)
            db.session.add(c)
            db.session.flush()
            return c

        def handled(c, agent, code, notes, talk):
            db.session.add(Interaction(call_id=c.id, campaign_id=cid, contact_id=c.contact_id, agent_id=agent["id"],
                                       started_at=c.created_at, talk_seconds=talk, wrap_seconds=15,
                                       talk_ended_at=c.created_at + timedelta(seconds=talk),
                                       wrapup_ended_at=c.created_at + timedelta(seconds=talk + 15),
                                       disposition_code_id=code.id, notes=notes, dispositioned_at=c.created_at))

        handled(call(grace, 40, "human", ann, wait_seconds=0.6), ann, sale, "Wants the premium plan", 240)
        handled(call(alan, 30, "human", ann), ann, ni, "Happy with current supplier", 60)
        handled(call(evil, 20, "human", ben), ben, ni, "Call next spring", 90)
        call(alan, 15, "busy", attempt=2)
        call(grace, 10, "human", abandoned=True, attempt=2)
        # Each agent's day as their states say it: signed on, each handled call on-call then in
        # wrap-up (so occupancy has something to count), then a pause.
        talks = {ann["id"]: [(40, 240), (30, 60)], ben["id"]: [(20, 90)]}
        for agent, pause in ((ann, brk), (ben, None)):
            changes = [("offline", "ready", now - timedelta(minutes=50))]
            for minutes_ago, talk in talks[agent["id"]]:
                start = now - timedelta(minutes=minutes_ago)
                changes += [("ready", "reserved", start), ("reserved", "on-call", start),
                            ("on-call", "wrap-up", start + timedelta(seconds=talk)),
                            ("wrap-up", "ready", start + timedelta(seconds=talk + 15))]
            db.session.add_all([AgentStateChange(agent_id=agent["id"], campaign_id=cid, from_state=a, to_state=b, at=at)
                                for a, b, at in changes])
            db.session.add(AgentStateChange(agent_id=agent["id"], campaign_id=cid, from_state="ready", to_state="paused",
                                            pause_code_id=pause.id if pause else None, at=now - timedelta(minutes=8)))
        db.session.commit()
        rollup.run_rollup()
        db.session.commit()
        for person in (sup, ann, ben):
            person.pop("obj")
        return {"campaign_id": cid, "campaign_name": campaign.name, "sup": sup, "ann": ann, "ben": ben}


def _rows(page):
    return page.locator("#calls tbody tr[data-call-id]")


def _download(page, selector) -> list[dict]:
    with page.expect_download() as info:
        page.click(selector)
    text = Path(info.value.path()).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_a_supervisor_filters_opens_and_exports_the_call_records(browser, live_server, desk):
    page = browser.new_context(accept_downloads=True).new_page()
    try:
        sign_in(page, live_server, desk["sup"], "/calls")
        expect(_rows(page)).to_have_count(5)
        expect(page.get_by_test_id("calls")).to_contain_text(desk["campaign_name"])
        page.get_by_test_id("filter-agent").select_option(label="Ann Answer")
        page.get_by_test_id("filter-outcome").select_option(label="Answered by a person")
        expect(_rows(page)).to_have_count(2)
        for i in range(2):
            expect(_rows(page).nth(i)).to_contain_text("Ann Answer")
            expect(_rows(page).nth(i)).to_contain_text("Answered by a person")
        expect(page.get_by_test_id("calls")).to_contain_text("Grace Hopper")
        expect(page.get_by_test_id("calls")).to_contain_text("Sale")

        rows = _download(page, "#export")
        assert sorted((r["Agent"], r["Contact"], r["Disposition"], r["Notes"]) for r in rows) == [
            ("Ann Answer", "Alan Turing", "Not interested", "Happy with current supplier"),
            ("Ann Answer", "Grace Hopper", "Sale", "Wants the premium plan")]
        assert {r["Campaign"] for r in rows} == {desk["campaign_name"]}
        assert {r["Outcome"] for r in rows} == {"Answered by a person"}

        _rows(page).filter(has_text="Grace Hopper").click()
        detail = page.get_by_test_id("call-detail")
        expect(detail).to_be_visible()
        expect(detail).to_contain_text("Ann Answer")
        expect(page.get_by_test_id("detail-notes")).to_have_text("Wants the premium plan")

        page.get_by_test_id("filter-agent").select_option(label="Ben Busy")
        expect(_rows(page)).to_have_count(1)
        [row] = _download(page, "#export")
        assert (row["Agent"], row["Contact"], row["Notes"]) == ("Ben Busy", "'" + EVIL, "Call next spring")

        page.get_by_test_id("filter-agent").select_option(label="All agents")
        page.get_by_test_id("filter-outcome").select_option(label="Any outcome")
        page.get_by_test_id("filter-abandoned").select_option(label="Abandoned only")
        expect(_rows(page)).to_have_count(1)
        expect(_rows(page).first).to_contain_text("abandoned")
    finally:
        page.context.close()


def test_a_supervisor_opens_each_report(browser, live_server, desk):
    page = browser.new_context(accept_downloads=True, viewport={"width": 1440, "height": 900}).new_page()
    try:
        sign_in(page, live_server, desk["sup"], "/reports")
        expect(page.get_by_test_id("report-campaign")).to_have_value(str(desk["campaign_id"]))
        page.get_by_test_id("report-range").select_option("last_7_days")
        table = page.get_by_test_id("report-table")
        expect(table).to_contain_text("Ann Answer")
        expect(table.locator("tfoot")).to_contain_text("All agents")
        expect(table.locator("tfoot td").nth(1)).to_have_text("3")
        expect(table).to_contain_text("Lunch")
        expect(page.get_by_test_id("report-definitions")).to_contain_text("signed-in time excluding pause")
        _has_chart(page)
        shot(page, "reports")
        rows = _download(page, "#report-csv")
        assert [r["Agent"] for r in rows] == ["Ann Answer", "Ben Busy", "All agents"]
        assert rows[0]["Calls handled"] == "2" and rows[0]["Sales"] == "1" and rows[0]["Conversion (sales ÷ contacts)"] == "50.0%"

        page.get_by_test_id("tab-dispositions").click()
        expect(table.locator("thead")).to_contain_text("Share of handled calls")
        expect(table.locator("tbody tr").filter(has_text="Not interested")).to_contain_text("66.7%")
        expect(table.locator("tbody tr").filter(has_text="Sale")).to_contain_text("33.3%")
        _has_chart(page)

        for tab in ("hourly", "daily"):
            page.get_by_test_id(f"tab-{tab}").click()
            expect(table.locator("thead")).to_contain_text("Abandonment rate")
            foot = table.locator("tfoot td")
            expect(foot.nth(0)).to_have_text("Whole range")
            expect(foot.nth(1)).to_have_text("5")  # calls placed that ended (the busy one too)
            expect(foot.nth(2)).to_have_text("4")  # answered by a person
            expect(foot.nth(4)).to_have_text("1")  # abandoned
            expect(foot.nth(5)).to_have_text("25.0%")
            expect(page.get_by_test_id("report-definitions")).to_contain_text("signed-in agent hours including pause")
            _has_chart(page)
        rows = _download(page, "#report-csv")
        assert rows[-1]["Day (America/New_York)"] == "Whole range" and rows[-1]["Calls placed"] == "5"
    finally:
        page.context.close()


def _has_chart(page):
    page.wait_for_function("() => { const c = window.Chart && window.Chart.getChart(document.getElementById('report-chart'));"
                           " return c && c.data.datasets.some((d) => d.data.some((v) => v > 0)); }")


def test_an_agent_sees_only_their_own_calls(browser, live_server, desk):
    page = browser.new_context().new_page()
    try:
        sign_in(page, live_server, desk["ann"], "/calls")
        expect(_rows(page)).to_have_count(2)
        expect(page.get_by_test_id("calls")).not_to_contain_text("Ben Busy")
        expect(page.get_by_test_id("filter-agent")).to_have_count(0)
        page.goto(f"{live_server}/reports")
        expect(page.locator("body")).to_contain_text("Your role may not open this page.")
    finally:
        page.context.close()


def test_the_csv_after_switching_to_daily_is_the_daily_one(browser, live_server, desk):
    """While the daily figures are on their way (held here until after the download), the page
    shows no hourly figures and its CSV link is already the daily report's."""
    page = browser.new_context(accept_downloads=True).new_page()
    held = []

    def hold(route):
        held.append(route)  # answered only after the download

    try:
        sign_in(page, live_server, desk["sup"], "/reports")
        page.get_by_test_id("report-range").select_option("last_7_days")
        page.get_by_test_id("tab-hourly").click()
        expect(page.locator("#report-title")).to_have_text("Hourly figures")
        expect(page.get_by_test_id("report-table").locator("tfoot td").nth(0)).to_have_text("Whole range")
        page.route(lambda url: "/api/reports/daily?" in url, hold)
        page.get_by_test_id("tab-daily").click()
        expect(page.locator("#report-title")).to_have_text("Daily figures")
        table = page.get_by_test_id("report-table")
        expect(table.locator("tbody")).to_have_text("Loading…")
        expect(table.locator("tfoot td")).to_have_count(0)
        rows = _download(page, "#report-csv")
        assert held, "the daily request was not held"
        assert "Day (America/New_York)" in rows[0], list(rows[0])
        for route in held:
            route.continue_()
        expect(table.locator("tfoot td").nth(0)).to_have_text("Whole range")
    finally:
        page.context.close()
