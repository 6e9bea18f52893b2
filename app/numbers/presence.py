"""Local presence: which of a campaign's pool numbers a call shows as its caller ID.

A number in the callee's area code, else one in their state, else the campaign's own caller ID
(the number a person can always call back, kept as the fallback the law needs). Rested numbers
and numbers at their daily cap are passed over. Within a tier the number used least today goes
first, so the load spreads. The day's count per number is one Redis key per number per UTC day,
taken with one atomic script (increment unless at the cap), and given back if the carrier never
took the call.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.common.redis import get_redis
from app.compliance.rules.places import jurisdiction_for
from app.extensions import db
from app.numbers.models import PhoneNumber, PoolNumber

COUNT_TTL_SECONDS = 3 * 24 * 3600
# KEYS[1] the number's count today; ARGV[1] its cap (0: none). Returns the new count, or 0 when
# the number is already at its cap (nothing taken).
_TAKE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
local cap = tonumber(ARGV[1])
if cap > 0 and n > cap then
  redis.call('DECR', KEYS[1])
  return 0
end
return n
"""


def count_key(number: str, day: str) -> str:
    return f"numbers:dials:{day}:{number}"


def day_of(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")  # `now` is UTC: the caps count UTC days


@dataclass
class CallerId:
    number: str
    key: str | None = None  # the count taken, when a pool number was chosen
    tier: str = "default"   # area_code | state | default

    def give_back(self) -> None:
        """The carrier never took the call: it does not count against the number's cap."""
        if self.key is not None:
            get_redis().decr(self.key)
            self.key = None


def area_code(number: str | None) -> str | None:
    if number and number.startswith("+1") and len(number) == 12:
        return number[2:5]
    return None


def _pool(campaign_id: int, now: datetime) -> list[PhoneNumber]:
    return list(db.session.scalars(
        select(PhoneNumber).join(PoolNumber, PoolNumber.number_id == PhoneNumber.id)
        .where(PoolNumber.campaign_id == campaign_id, PhoneNumber.in_account.is_(True),
               or_(PhoneNumber.rested_until.is_(None), PhoneNumber.rested_until <= now))
        .order_by(PhoneNumber.phone_e164)))


def choose_caller_id(campaign, contact, to_number: str, now: datetime) -> CallerId:
    """The number this call shows (see the module's docstring); takes one from its day's count."""
    pool = _pool(campaign.id, now)
    if not pool:
        return CallerId(campaign.caller_id)
    area = area_code(to_number)
    place = jurisdiction_for(contact.region if contact else None,
                             contact.postal_code if contact else None, to_number)
    state = place[3:] if place else None
    local = [n for n in pool if area and area_code(n.phone_e164) == area]
    in_state = [n for n in pool if state and n.state == state and n not in local]
    day = day_of(now)
    redis = get_redis()
    for tier, numbers in (("area_code", local), ("state", in_state)):
        if not numbers:
            continue
        counts = redis.mget([count_key(n.phone_e164, day) for n in numbers])
        ranked = sorted(zip(numbers, counts), key=lambda pair: int(pair[1] or 0))
        for number, _ in ranked:
            key = count_key(number.phone_e164, day)
            if redis.eval(_TAKE, 1, key, number.daily_cap or 0, COUNT_TTL_SECONDS):
                return CallerId(number.phone_e164, key, tier)
    return CallerId(campaign.caller_id)


def dials_today(numbers: list[str], now: datetime) -> dict[str, int]:
    if not numbers:
        return {}
    day = day_of(now)
    counts = get_redis().mget([count_key(n, day) for n in numbers])
    return {n: int(c or 0) for n, c in zip(numbers, counts)}
