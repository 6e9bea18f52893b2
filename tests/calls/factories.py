"""Test data for calls: campaigns, call attempts and signed carrier callbacks."""
from __future__ import annotations

import itertools
import secrets
from datetime import datetime, timezone
from email.utils import formatdate

from twilio.request_validator import RequestValidator

_seq = itertools.count(1)

# A Wednesday, 10:00 in Washington DC (area code 202, the numbers these factories call): every
# calling rule allows a call then. Tests that place calls in-process freeze the clock on it.
IN_HOURS_DC = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)


def make_campaign(app, **fields) -> int:
    from app.campaigns.models import Campaign
    from app.extensions import db

    values = dict(name=f"campaign-{next(_seq)}-{secrets.token_hex(3)}", status="active", caller_id="+12025550100",
                  seller_name="Acme", seller_phone="+12025550199",
                  safe_harbour_message="Acme calling, 202 555 0199. Press 9 to opt out.")
    values.update(fields)
    with app.app_context():
        campaign = Campaign(**values)
        db.session.add(campaign)
        db.session.commit()
        return campaign.id


def make_call(app, campaign_id: int, to_number: str = "+12025550111", **fields) -> int:
    from app.calls.models import Call
    from app.extensions import db

    with app.app_context():
        call = Call(campaign_id=campaign_id, to_number=to_number, from_number="+12025550100",
                    **fields)
        db.session.add(call)
        db.session.commit()
        return call.id


def status_form(call_sid: str, status: str, seq: int, **extra) -> dict:
    form = {"AccountSid": "AC" + "a1" * 16, "CallSid": call_sid, "CallStatus": status,
            "SequenceNumber": str(seq), "Timestamp": formatdate(usegmt=True),
            "CallbackSource": "call-progress-events", "To": "+12025550111",
            "From": "+12025550100", "Direction": "outbound-api"}
    form.update({k: str(v) for k, v in extra.items()})
    return form


def sign(app, path: str, form: dict, base: str = "http://localhost") -> str:
    return RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(base + path, form)


def post_signed(client, app, path: str, form: dict):
    return client.post(path, data=form, headers={"X-Twilio-Signature": sign(app, path, form)})
