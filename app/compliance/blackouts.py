"""Blackout days an admin declares (a state of emergency, a holiday a governor proclaims), and
the ones `checks.assess` hands the rule evaluation for one callee.

Every attempt and every placement asks, so each process keeps the whole (small) table for a
few seconds rather than paying a query per call. A change stores a fresh token in Redis, and
the token is read with every placement: a blackout declared now holds at the next placement in
every dial worker, not seconds later. The seconds only bound how long a change made around
this module (straight in the database) goes unseen.
"""
from __future__ import annotations

import logging
import time
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import redis
from flask import current_app
from sqlalchemy import select

from app.audit import services as audit
from app.common.pagination import paginate
from app.common.phones import STATE_ZONES
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.compliance.jurisdictions import FEDERAL, HORIZON, Blackout
from app.compliance.models import EVERY_STATE, BlackoutDay
from app.compliance.rules.messages import place
from app.errors import ApiError
from app.extensions import db

log = logging.getLogger(__name__)

CHANGED_KEY = "compliance:blackouts:changed"
CACHE_SECONDS = 5.0
REASON_MAX = 500
# A day has passed only once it has ended for every callee: the last clock to leave it is UTC-12.
_LAST_TO_END = ZoneInfo("Etc/GMT+12")
_US_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})
_CACHE = "compliance.blackouts"
_UNREADABLE = object()  # Redis did not answer: read the table again


def today() -> date:
    """The earliest date still running anywhere a callee may be."""
    return utcnow().astimezone(_LAST_TO_END).date()


def places() -> list[dict]:
    """Every jurisdiction a blackout may name, with its name for people: every state first."""
    states = sorted((place(f"US-{code}"), f"US-{code}") for code in STATE_ZONES)
    return [{"jurisdiction": FEDERAL, "name": EVERY_STATE}] + [{"jurisdiction": j, "name": n} for n, j in states]


# --- what the gates see ------------------------------------------------------------------

@dataclass(frozen=True)
class _Snapshot:
    token: object
    loaded_at: float
    blackouts: tuple[Blackout, ...]


def declared() -> tuple[Blackout, ...]:
    """Every declared blackout, as this process last read them; read again when another
    process changed them (the Redis token moved) or after CACHE_SECONDS."""
    token = _changed_token()
    snapshot = current_app.extensions.get(_CACHE)
    if (snapshot is None or token is _UNREADABLE or snapshot.token != token
            or time.monotonic() - snapshot.loaded_at > CACHE_SECONDS):
        rows = db.session.execute(select(BlackoutDay.jurisdiction, BlackoutDay.date_from, BlackoutDay.date_to,
                                         BlackoutDay.reason)).all()
        snapshot = _Snapshot(token, time.monotonic(), tuple(Blackout(*row) for row in rows))
        current_app.extensions[_CACHE] = snapshot
    return snapshot.blackouts


def blackouts_for(at: datetime, zones, jurisdictions: tuple[str, ...], to_number: str) -> tuple[Blackout, ...]:
    """The blackouts the rule evaluation must see for a callee in `jurisdictions` who may be in
    any of `zones`: theirs, and every-state ones when the callee may be in the US, overlapping
    a local date from `at` to the evaluation's horizon (so the next open instant it finds
    skips a blackout's later days too)."""
    if not zones:
        return ()
    days = [at.astimezone(zone).date() for zone in zones]
    first = min(days)
    try:
        last = max(days) + HORIZON + timedelta(days=1)
    except OverflowError:
        last = date.max
    federal = bool(jurisdictions) or _may_be_in_the_us(to_number)
    return tuple(b for b in declared()
                 if (b.jurisdiction in jurisdictions or (federal and b.jurisdiction == FEDERAL))
                 and b.date_from <= last and b.date_to >= first)


def _may_be_in_the_us(to_number: str) -> bool:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(to_number))
    except phonenumbers.NumberParseException:
        return True  # unknown: the stricter reading
    return region in _US_REGIONS


def _changed_token():
    try:
        return get_redis().get(CHANGED_KEY)
    except redis.RedisError:
        log.warning("blackouts: Redis unreadable, reading the table for this call")
        return _UNREADABLE


def _changed() -> None:
    """After the commit: this process forgets at once, the others at their next placement."""
    current_app.extensions.pop(_CACHE, None)
    try:
        get_redis().set(CHANGED_KEY, uuid.uuid4().hex)
    except redis.RedisError:
        log.warning("blackouts: Redis unreachable; other processes see the change within %ss", CACHE_SECONDS)


# --- what admins do ----------------------------------------------------------------------

def list_blackouts(page: int = 1, per_page: int = 50, upcoming: bool = False) -> dict:
    """Every declared blackout by first day, or only those not yet over (`upcoming`)."""
    query = select(BlackoutDay).order_by(BlackoutDay.date_from, BlackoutDay.id)
    if upcoming:
        query = query.where(BlackoutDay.date_to >= today())
    return paginate(query, page, per_page)


def declare(user, jurisdiction: str, date_from: date, date_to: date, reason: str) -> BlackoutDay:
    """Close `jurisdiction` ("US": every state) to calls from `date_from` to `date_to` inclusive."""
    jurisdiction = (jurisdiction or "").strip().upper()
    reason = (reason or "").strip()
    problems: dict[str, list[str]] = {}
    if jurisdiction != FEDERAL and not (jurisdiction.startswith("US-") and jurisdiction[3:] in STATE_ZONES):
        problems["jurisdiction"] = ['Give "US" for every state, or "US-" and a state code such as "US-FL".']
    if date_to < date_from:
        problems["date_to"] = ["The last day must be on or after the first day."]
    elif date_to < today():
        problems["date_to"] = ["That day is over everywhere; a blackout must end today or later."]
    if not reason or len(reason) > REASON_MAX:
        problems["reason"] = [f"Say why calls stop, in 1 to {REASON_MAX} characters."]
    elif any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in reason):
        problems["reason"] = ["Control characters are not allowed."]
    if problems:
        raise ApiError(422, "The blackout has invalid fields", "validation_error", problems)
    entry = BlackoutDay(jurisdiction=jurisdiction, date_from=date_from, date_to=date_to, reason=reason,
                        created_by_id=getattr(user, "id", None))
    db.session.add(entry)
    db.session.flush()
    audit.record("blackout.add", actor=user, target_type="blackout", target_id=entry.id,
                 jurisdiction=jurisdiction, date_from=date_from.isoformat(), date_to=date_to.isoformat(),
                 reason=reason)
    db.session.commit()
    _changed()
    return entry


def remove(user, blackout_id: int) -> None:
    """Lift a blackout: calls there follow the other rules again at the next placement."""
    entry = db.session.get(BlackoutDay, blackout_id)
    if entry is None:
        raise ApiError(404, "No such blackout", "not_found")
    audit.record("blackout.remove", actor=user, target_type="blackout", target_id=entry.id,
                 jurisdiction=entry.jurisdiction, date_from=entry.date_from.isoformat(),
                 date_to=entry.date_to.isoformat(), reason=entry.reason)
    db.session.delete(entry)
    db.session.commit()
    _changed()
