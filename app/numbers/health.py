"""Number health: how often people answer each number, against the rest of its pool.

A carrier that labels a number as spam ("Spam Likely") shows the label on the callee's phone,
and people stop answering that number while they go on answering its pool mates. So each number's
**person answers per 100 dials** is compared with the rest of its pool's, over the last 24 hours
and the last 7 days:

* a **dial** is a call the carrier placed from the number that ended with the callee's side
  known: answered by a person, by a machine, not answered, or busy (failed calls, which never
  rang, and calls cancelled before they rang are not the callee's doing);
* a **person answer** is a dial a person answered.

A number is **well below** its pool in a window when both hold:

1. it has at least ``NUMBER_HEALTH_MIN_DIALS`` dials there, and so has the rest of its pool;
2. its rate is under half the pool's (``NUMBER_HEALTH_RATIO``), *and* a one-sided two-proportion
   z-test puts the chance of a gap that large arising by luck under 1 in 100 (z <= -2.33).

Why both: the test alone, given thousands of dials, flags small gaps that come from area codes
answering a little differently, not from a label; the ratio alone, on a few dozen dials, flags
bad luck. A label cuts answers by far more than half, so this catches it within a day or so of
dialling while leaving healthy numbers alone.

A number well below its pool in either window is **rested** for ``NUMBER_REST_DAYS`` days: local
presence passes it over, and its reason and figures are kept for admins.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import column, func, select, table

from app.audit import services as audit
from app.common.timeutil import utcnow
from app.extensions import db
from app.numbers.models import PhoneNumber, PoolNumber

DIAL_OUTCOMES = ("human", "machine", "no-answer", "busy")
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
WINDOW_WORDS = {"24h": "the last 24 hours", "7d": "the last 7 days"}
Z_CRITICAL = 2.326  # one-sided, 1 in 100
DEFAULTS = {"NUMBER_HEALTH_MIN_DIALS": 50, "NUMBER_HEALTH_RATIO": 0.5, "NUMBER_REST_DAYS": 7}

# The calls placed from each number, read as a plain table: calls builds on numbers (a call's
# caller ID is chosen there), so numbers does not import calls back.
CALLS = table("calls", column("from_number"), column("outcome"), column("created_at"), column("call_sid"))


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


@dataclass(frozen=True)
class Comparison:
    dials: int
    answers: int
    pool_dials: int
    pool_answers: int
    z: float | None
    well_below: bool

    @property
    def per_100(self) -> float | None:
        return round(100.0 * self.answers / self.dials, 1) if self.dials else None

    @property
    def pool_per_100(self) -> float | None:
        return round(100.0 * self.pool_answers / self.pool_dials, 1) if self.pool_dials else None

    def as_dict(self) -> dict:
        return {"dials": self.dials, "answers": self.answers, "per_100": self.per_100,
                "pool_dials": self.pool_dials, "pool_answers": self.pool_answers,
                "pool_per_100": self.pool_per_100,
                "z": None if self.z is None else round(self.z, 2), "well_below": self.well_below}


def compare(dials: int, answers: int, pool_dials: int, pool_answers: int, *,
            min_dials: int, ratio: float) -> Comparison:
    """One number against the rest of its pool in one window (see the module's docstring)."""
    z = None
    if dials and pool_dials:
        p = (answers + pool_answers) / (dials + pool_dials)
        se = math.sqrt(p * (1 - p) * (1 / dials + 1 / pool_dials))
        z = (answers / dials - pool_answers / pool_dials) / se if se > 0 else 0.0
    below = (dials >= min_dials and pool_dials >= min_dials and pool_answers > 0
             and answers / dials < ratio * pool_answers / pool_dials
             and z is not None and z <= -Z_CRITICAL)
    return Comparison(dials, answers, pool_dials, pool_answers, z, below)


def _figures(numbers: list[str], since: datetime) -> dict[str, tuple[int, int]]:
    rows = db.session.execute(
        select(CALLS.c.from_number, func.count(),
               func.count().filter(CALLS.c.outcome == "human"))
        .where(CALLS.c.from_number.in_(numbers), CALLS.c.created_at >= since,
               CALLS.c.call_sid.is_not(None), CALLS.c.outcome.in_(DIAL_OUTCOMES))
        .group_by(CALLS.c.from_number)).all()
    return {number: (dials, answers) for number, dials, answers in rows}


def _peers() -> dict[int, set[int]]:
    """Each number's pool mates: every other number sharing a campaign pool with it."""
    by_campaign: dict[int, set[int]] = {}
    for campaign_id, number_id in db.session.execute(select(PoolNumber.campaign_id, PoolNumber.number_id)):
        by_campaign.setdefault(campaign_id, set()).add(number_id)
    peers: dict[int, set[int]] = {}
    for members in by_campaign.values():
        for number_id in members:
            peers.setdefault(number_id, set()).update(members - {number_id})
    return peers


def assess_numbers(now: datetime | None = None) -> list[str]:
    """Compute every number's health, store it, rest those well below their pool; returns the
    numbers rested by this pass."""
    now = now or utcnow()
    numbers = list(db.session.scalars(select(PhoneNumber).where(PhoneNumber.in_account.is_(True))
                                      .with_for_update()))
    by_id = {n.id: n for n in numbers}
    peers = _peers()
    min_dials, ratio = int(setting("NUMBER_HEALTH_MIN_DIALS")), float(setting("NUMBER_HEALTH_RATIO"))
    figures = {w: _figures([n.phone_e164 for n in numbers], now - span) for w, span in WINDOWS.items()}
    rested = []
    for number in numbers:
        health, flagged = {}, []
        mates = [by_id[i].phone_e164 for i in peers.get(number.id, ()) if i in by_id]
        for window in WINDOWS:
            dials, answers = figures[window].get(number.phone_e164, (0, 0))
            pool_dials = sum(figures[window].get(m, (0, 0))[0] for m in mates)
            pool_answers = sum(figures[window].get(m, (0, 0))[1] for m in mates)
            comparison = compare(dials, answers, pool_dials, pool_answers, min_dials=min_dials, ratio=ratio)
            health[window] = comparison.as_dict()
            if comparison.well_below:
                flagged.append((window, comparison))
        number.health, number.health_at = health, now
        if flagged and not number.rested_at(now):
            number.rested_until = now + timedelta(days=int(setting("NUMBER_REST_DAYS")))
            number.rest_reason = _reason(*flagged[0])
            audit.record("number.rested", target_type="phone_number", target_id=number.id,
                         actor_username="number health", number=number.phone_e164,
                         until=number.rested_until.isoformat(), reason=number.rest_reason)
            rested.append(number.phone_e164)
    db.session.commit()
    return rested


def _reason(window: str, c: Comparison) -> str:
    return (f"People answered {c.per_100:g} per 100 dials over {WINDOW_WORDS[window]} "
            f"({c.answers} of {c.dials}), against {c.pool_per_100:g} per 100 for the rest of its pool "
            f"({c.pool_answers} of {c.pool_dials}): under half the pool's rate, and too far below it "
            "to be chance (a two-proportion test, less than 1 in 100). Carriers may be showing it "
            "as spam.")
