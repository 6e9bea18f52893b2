"""Audit of issue 21: a call to our numbers from a withheld number shows, in the call records and
their export, that the number was withheld; never our own number as if it were the caller's."""
from __future__ import annotations

import csv
import io

from tests.calls.factories import make_campaign

OURS = "+12025550100"


def test_a_withheld_callers_record_does_not_show_our_number_as_theirs(app, login_as):
    from app.calls.models import Call
    from app.extensions import db

    campaign_id = make_campaign(app)
    with app.app_context():
        call = Call(campaign_id=campaign_id, direction="inbound", kind="inbound", from_number="anonymous",
                    to_number=OURS, status="completed", outcome="human", answered_by="human")
        db.session.add(call)
        db.session.commit()
        call_id = call.id
    admin = login_as("admin")
    [item] = [i for i in admin.get("/api/call-records").get_json()["items"] if i["id"] == call_id]
    assert item["person_number"] != OURS and "withheld" in item["person_number"].lower()
    rows = list(csv.DictReader(io.StringIO(admin.get("/api/call-records/export").get_data(as_text=True))))
    [row] = [r for r in rows if int(r["Call ID"]) == call_id]
    assert "withheld" in row["Phone"].lower()
