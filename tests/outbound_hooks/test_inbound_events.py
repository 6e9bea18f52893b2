"""Audit of issue 21: a voicemail left on our number schedules a callback in the campaign, and a
CRM subscribed to callback.scheduled hears of it as it hears of one an agent scheduled."""
from __future__ import annotations

import json

from sqlalchemy import select

from tests.calls.test_voicemail import ada, call_in, closed, leave_voicemail, record_action  # noqa: F401
from tests.outbound_hooks.test_webhooks_out import PUBLIC_IP, create, dns  # noqa: F401


def test_a_voicemails_callback_raises_callback_scheduled(app, client, login_as, closed, ada, dns):
    from app.extensions import db
    from app.interactions.models import Callback
    from app.outbound_hooks.models import WebhookEvent

    dns["crm.example.test"] = [PUBLIC_IP]
    create(login_as("admin"), "https://crm.example.test/hook", events=["callback.scheduled"])
    leave_voicemail(app, client, record_action(call_in(app, client)))
    with app.app_context():
        callback = db.session.scalar(select(Callback))
        bodies = [json.loads(b) for b in db.session.scalars(
            select(WebhookEvent.body).where(WebhookEvent.type == "callback.scheduled"))]
    assert [b["data"]["callback"]["id"] for b in bodies] == [callback.id]
    assert bodies[0]["data"]["contact"]["id"] == ada["contact"]
