"""People calling the demo back: the demo shows calls to our numbers as well as the calls it places.

At the start the demo campaign gets a pool of every number the simulator's account holds (its
calls then show a local number where one fits), and each is pointed at `/twilio/inbound`, as
`app.numbers.services.answer_calls_here` does for any pool. Then, every `CALL_BACK_EVERY`, one
person a demo call reached in the last hour calls back the number that call showed, through the
simulator's `/_sim/inbound` as a person dials it: in the campaign's hours they reach an agent (the
one who spoke with them if ready) or wait in the queue hearing their place, and give up after
their patience; out of hours, or past the longest wait, they hear the seller's name and leave a
voicemail, which becomes a callback. Every number is fictional (devtools.demo.FICTIONAL_RANGES).
"""
from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import requests
from sqlalchemy import func, select

log = logging.getLogger(__name__)

CALL_BACK_EVERY = timedelta(minutes=3)
LOOK_BACK = timedelta(hours=1)
PATIENCE_SECONDS = (20.0, 150.0)  # how long a caller holds before hanging up


def set_up_numbers(campaign_id: int) -> list[str]:
    """The demo campaign's pool: every number of the account (kept if it has one already), each
    answering at /twilio/inbound. Returns the pool."""
    from app.extensions import db
    from app.numbers import services
    from app.numbers.models import PhoneNumber, PoolNumber

    services.sync_numbers()
    pooled = db.session.scalar(select(func.count()).select_from(PoolNumber)
                               .where(PoolNumber.campaign_id == campaign_id))
    if not pooled:
        for number_id in db.session.scalars(select(PhoneNumber.id).where(PhoneNumber.in_account.is_(True))):
            db.session.add(PoolNumber(campaign_id=campaign_id, number_id=number_id))
        db.session.commit()
    warning = services.answer_calls_here()
    if warning:
        log.warning("demo numbers: %s", warning)
    return list(db.session.scalars(
        select(PhoneNumber.phone_e164).join(PoolNumber, PoolNumber.number_id == PhoneNumber.id)
        .where(PoolNumber.campaign_id == campaign_id).order_by(PhoneNumber.phone_e164)))


def call_back(sim_url: str, campaign_id: int, now: datetime, rng: random.Random) -> dict | None:
    """One person the demo reached in the last hour calls back the number that call showed.
    Returns what was asked of the simulator, or None when nobody was reached lately."""
    from app.calls.models import Call
    from app.extensions import db
    from app.numbers.models import PhoneNumber

    ours = select(PhoneNumber.phone_e164).where(PhoneNumber.in_account.is_(True))
    reached = db.session.execute(select(Call.to_number, Call.from_number).where(
        Call.campaign_id == campaign_id, Call.direction == "outbound", Call.outcome == "human",
        Call.created_at >= now - LOOK_BACK, Call.from_number.in_(ours))
        .order_by(Call.created_at.desc()).limit(50)).all()
    db.session.rollback()
    if not reached:
        return None
    person, shown = rng.choice(reached)
    caller = {"From": person, "To": shown, "patience": round(rng.uniform(*PATIENCE_SECONDS)),
              "voicemail": True}
    response = requests.post(f"{sim_url}/_sim/inbound", json=caller, timeout=5)
    response.raise_for_status()
    return caller
