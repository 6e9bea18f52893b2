"""Small, explicit KPI source data: campaigns, calls, interactions and agent state changes."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

from app.agents.models import AgentStateChange
from app.campaigns.models import PauseCode
from app.calls.models import Call
from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode
from app.contacts.models import Contact
from app.extensions import db
from app.interactions.models import Interaction

_seq = itertools.count(1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def campaign(name: str = "", tz: str = "America/New_York", **kw) -> Campaign:
    c = Campaign(name=name or f"kpi-{next(_seq)}", timezone=tz, caller_id="+12025550100",
                 seller_name="Acme", seller_phone="+12025550101",
                 safe_harbour_message="Acme calling; press 9 to opt out", **kw)
    db.session.add(c)
    db.session.flush()
    return c


def assign(campaign_id: int, user_id: int, role: str) -> None:
    db.session.add(CampaignAssignment(campaign_id=campaign_id, user_id=user_id, role=role))
    db.session.flush()


def dispo(campaign_id: int, code: str, *, contact: bool = True, sale: bool = False) -> DispositionCode:
    d = DispositionCode(campaign_id=campaign_id, code=code, label=code, is_contact=contact, is_sale=sale)
    db.session.add(d)
    db.session.flush()
    return d


def pause_code(code: str) -> PauseCode:
    p = PauseCode(code=code, label=code)
    db.session.add(p)
    db.session.flush()
    return p


def call(campaign_id: int, created_at: datetime, *, status: str = "completed", outcome: str | None = None,
         ring: float | None = None, agent_id: int | None = None, abandoned: bool = False,
         answered: bool | None = None) -> Call:
    n = next(_seq)
    if answered is None:
        answered = outcome in ("human", "machine")
    c = Call(campaign_id=campaign_id, to_number=f"+1202555{n:04d}", from_number="+12025550100",
             status=status, outcome=outcome, ring_seconds=ring, agent_id=agent_id, abandoned=abandoned,
             created_at=created_at, queued_at=created_at,
             answered_at=created_at if answered else None,
             ended_at=created_at if status in ("completed", "busy", "no-answer", "failed", "canceled") else None)
    db.session.add(c)
    db.session.flush()
    return c


def interaction(campaign_id: int, agent_id: int, started_at: datetime, talk: float, wrap: float,
                code: DispositionCode | None = None, *, done: bool = True, call_id: int | None = None) -> Interaction:
    i = Interaction(campaign_id=campaign_id, agent_id=agent_id, started_at=started_at, talk_seconds=talk,
                    wrap_seconds=wrap, disposition_code_id=code.id if code else None, call_id=call_id,
                    wrapup_ended_at=started_at if done else None)
    db.session.add(i)
    db.session.flush()
    return i


def states(agent_id: int, campaign_id: int | None, *changes) -> None:
    """changes: (at, to_state) or (at, to_state, pause_code) in time order."""
    previous = "offline"
    for change in changes:
        at, to_state, *rest = change
        db.session.add(AgentStateChange(agent_id=agent_id, campaign_id=campaign_id, from_state=previous,
                                        to_state=to_state, at=at,
                                        pause_code_id=rest[0].id if rest else None))
        previous = to_state
    db.session.flush()


def contacts(campaign_id: int, rows) -> None:
    """rows: (status, attempts)."""
    for status, attempts in rows:
        db.session.add(Contact(campaign_id=campaign_id, phone_e164=f"+1303555{next(_seq):04d}",
                               status=status, attempts=attempts))
    db.session.flush()
