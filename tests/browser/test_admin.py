"""Admin pages in the browser, and the pages' sign-in and role rules."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_call_flow import shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CSV = (
    "phone,first_name,last_name,state,plan\n"
    "+12125550160,Grace,Hopper,NY,Basic\n"
    "not-a-number,Bad,Row,NY,Basic\n"
    "+13125550161,Alan,Turing,IL,Premium\n"
    "+12125550160,Grace,Again,NY,Basic\n"
    "+14155550162,Barbara,Liskov,CA,Premium\n"
    "12,Short,Number,TX,Basic\n"
)


def test_admin_uploads_a_list_and_sees_progress_and_rejected_rows(browser, live_server, floor):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, live_server, floor["admin"], "/admin/contacts")
        page.select_option("#campaign", str(floor["campaign_id"]))
        page.set_input_files("#file", files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
        page.click("#upload-form button[type=submit]")
        expect(page.get_by_test_id("import-status")).to_have_text("Finished", timeout=30000)
        expect(page.locator("#progress-bar")).to_have_attribute("aria-valuenow", "100")
        expect(page.locator("#st-imported")).to_have_text("3")
        rejections = page.locator("#rejections tbody")
        expect(rejections).to_contain_text("not-a-number")
        expect(rejections).to_contain_text("Duplicate")
        href = page.locator("#rejections-csv").get_attribute("href")
        body = page.request.get(f"{live_server}{href}")
        assert body.ok and "not-a-number" in body.text() and "Short" in body.text()
        shot(page, "admin")

        page.goto(f"{live_server}/admin/campaigns")
        expect(page.locator("#f-name")).to_have_value(re.compile(r"\S"))
        expect(page.locator("label", has=page.locator("#f-ring_timeout_seconds")).locator(".law")).to_contain_text("15 seconds")
        page.fill("#f-ring_timeout_seconds", "10")
        page.click("#campaign-form button[type=submit]")
        expect(page.locator(".field-error").first).to_contain_text("at least 15 seconds")
    finally:
        ctx.close()


def test_pages_need_sign_in_and_the_right_role(live_server, floor):
    anon = requests.get(f"{live_server}/supervisor", allow_redirects=False)
    assert anon.status_code == 302 and anon.headers["Location"].startswith("/login?next=/supervisor")
    http = requests.Session()
    token = http.get(f"{live_server}/api/auth/csrf").json()["csrf_token"]
    agent = floor["agent"]
    assert http.post(f"{live_server}/api/auth/login", headers={"X-CSRFToken": token},
                     json={"username": agent["username"], "password": agent["password"]}).ok
    assert http.get(f"{live_server}/agent").status_code == 200
    for path in ("/supervisor", "/admin/users", "/admin/contacts"):
        assert http.get(f"{live_server}{path}").status_code == 403, path
    assert http.get(f"{live_server}/api/wallboard").status_code == 403
    # Writes from a page session still need the CSRF token.
    assert http.post(f"{live_server}/api/agents/me/state", json={"state": "offline"}).status_code in (400, 403)
    assert requests.get(f"{live_server}/login?next=//evil.example/x", allow_redirects=False).status_code == 200
