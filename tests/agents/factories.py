"""Campaigns, assignments, calls and pause codes for agent and live-event tests."""
from __future__ import annotations

import itertools
import json
import secrets
import threading

from app.campaigns.models import PauseCode
from app.calls.models import Call
from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode
from app.contacts.models import Contact
from app.extensions import db
from app.realtime.publish import queue_channel

_seq = itertools.count(1)


def make_campaign(name: str | None = None, *, script: str = "Hello, this is Omnivox.") -> Campaign:
    campaign = Campaign(name=name or f"campaign-{next(_seq)}-{secrets.token_hex(2)}", caller_id="+12025550100",
                        seller_name="Acme Solar", seller_phone="+12025550101",
                        safe_harbour_message="Sorry we missed you.", script=script,
                        scrub_national_registry=False)  # test numbers: no registry copy to scrub against
    db.session.add(campaign)
    db.session.flush()
    return campaign


def assign(user_id: int, campaign_id: int, role: str = "agent") -> None:
    db.session.add(CampaignAssignment(campaign_id=campaign_id, user_id=user_id, role=role))
    db.session.flush()


def make_call(campaign_id: int, *, first_name: str = "Ada", custom_fields: dict | None = None) -> Call:
    contact = Contact(campaign_id=campaign_id, phone_e164=f"+1202555{next(_seq) % 10000:04d}",
                      first_name=first_name, last_name="Lovelace", custom_fields=custom_fields or {})
    db.session.add(contact)
    db.session.flush()
    call = Call(campaign_id=campaign_id, contact_id=contact.id, to_number=contact.phone_e164,
                from_number="+12025550100", status="in-progress")
    db.session.add(call)
    db.session.flush()
    return call


def make_pause_code(code: str = "break", campaign_id: int | None = None) -> PauseCode:
    pause = PauseCode(code=code, label=code.title(), campaign_id=campaign_id)
    db.session.add(pause)
    db.session.flush()
    return pause


def make_disposition(campaign_id: int, code: str = "sale") -> DispositionCode:
    disposition = DispositionCode(campaign_id=campaign_id, code=code, label=code.title())
    db.session.add(disposition)
    db.session.flush()
    return disposition


class QueueTap:
    """Reads what the publisher writes to the real Redis message queue (no server involved)."""

    def __init__(self, redis_client):
        db = redis_client.connection_pool.connection_kwargs.get("db", 0)
        self.pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(queue_channel(f"redis://localhost/{db}"))
        self.pubsub.get_message(timeout=1)  # the subscribe confirmation
        self._lock = threading.Lock()

    def drain(self, timeout: float = 0.5) -> list[tuple[str, str, dict]]:
        """(event, room, payload) for each message published so far."""
        out = []
        while True:
            message = self.pubsub.get_message(timeout=timeout)
            if message is None:
                return out
            data = json.loads(message["data"])
            if data.get("method") == "emit":
                out.append((data["event"], data["room"], data["data"][0] if isinstance(data["data"], (list, tuple))
                            else data["data"]))
            timeout = 0.05

    def close(self):
        self.pubsub.close()
