"""The import report in the browser: a file with a stray byte, a made-up state, a premium-rate
number and a 5,000-character field imports its good lines, names each bad one with its reason
on the page (not in a toast that fades), and never makes the page scroll sideways."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

GOOD = [f"+1202555{n:04d},Jos\u00e9 {n},Pe\u00f1a,DC,\n".encode() for n in range(170, 180)]


def _file() -> bytes:
    lines = [b"phone,first_name,last_name,state,notes\n", *GOOD[:3],   # lines 1-4
             b"+12025550180,Jos\xff,Bad,DC,\n",                        # 5: not UTF-8
             *GOOD[3:6],                                                # 6-8
             b"+12025550181,Zed,Nowhere,ZZ,\n",                        # 9: not a state
             b"+1 900 555 0182,Pat,Premium,DC,\n",                     # 10: premium rate
             *GOOD[6:8],                                                # 11-12
             b"+12025550183,Long,Notes,DC," + b"x" * 5000 + b"\n",     # 13: a 5,000-character field
             *GOOD[8:]]                                                 # 14-15
    return b"".join(lines)


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def test_the_report_names_each_bad_line_and_the_page_stays_in_the_window(browser, live_server, floor):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, live_server, floor["admin"], "/admin/contacts")
        page.select_option("#campaign", str(floor["campaign_id"]))
        page.set_input_files("#file", files=[{"name": "excel-export.csv", "mimeType": "text/csv", "buffer": _file()}])
        page.click("#upload-form button[type=submit]")
        expect(page.get_by_test_id("import-status")).to_have_text("Finished", timeout=30000)
        expect(page.locator("#st-imported")).to_have_text("10")
        expect(page.locator("#st-rejected")).to_have_text("4")
        expect(page.get_by_test_id("import-encoding")).to_have_text("Read as UTF-8.")

        rows = page.get_by_test_id("rejections").locator("tbody tr")
        expect(rows).to_have_count(4)
        expected = {
            5: "Not imported: not readable text (byte 0xff at column 17)",
            9: "Not imported: state: 'ZZ' is not a US state, DC or territory",
            10: "Not imported: phone: premium-rate number (area code 900), never called",
            13: "Not imported: column 'notes' holds 5,000 characters; a field may hold at most 1,000",
        }
        for line, reason in expected.items():
            row = page.locator(f"#rejections tbody tr[data-line='{line}']")
            expect(row.locator("td").nth(0)).to_have_text(f"Line {line}")
            expect(row.locator("td").nth(1)).to_contain_text(reason)
        expect(page.get_by_test_id("rejections")).not_to_contain_text("invalid")  # no internal codes
        # The report is part of the page, not a toast: nothing of it is in the toast box.
        assert page.locator("#toasts .toast").count() == 0

        _no_sideways_scroll(page)
        long_row = page.locator("#rejections tbody tr[data-line='13'] td.raw")
        assert len(long_row.locator(".raw-text").get_attribute("title")) > 5000  # the full line, on hover
        long_row.get_by_role("button", name="Show all").click()
        expect(long_row).to_have_class("raw open")
        _no_sideways_scroll(page)
    finally:
        ctx.close()


def test_a_refused_file_says_why_and_what_to_do_and_stays_on_the_page(browser, live_server, floor):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, live_server, floor["admin"], "/admin/contacts")
        page.select_option("#campaign", str(floor["campaign_id"]))
        page.set_input_files("#file", files=[{"name": "names.csv", "mimeType": "text/csv",
                                              "buffer": b"name,email\nAda,ada@example.com\n"}])
        page.click("#upload-form button[type=submit]")
        refusal = page.get_by_test_id("upload-refusal")
        expect(refusal).to_contain_text("names.csv was not imported.")
        expect(refusal).to_contain_text("Name one 'phone'")
        assert page.locator("#toasts .toast").count() == 0
    finally:
        ctx.close()
