"""Steering a running campaign's dialer by hand, within the law's limits.

An admin, or one of the campaign's supervisors (they run the floor: they already start and
pause it), may cap the predictive pacer's dial level, fix it, or lower the abandonment target
it steers to. The pacer itself is untouched (DESIGN.md's contract): the tick asks it as always
and `steer` bounds its answer. Whatever is set, the rolling 30-day abandonment governor holds:
a fixed level only applies while the 30-day budget has room, and otherwise the campaign dials
as progressive does. Every change is audited with who made it, before and after; the next
pacing tick (within a second) uses it. Clearing it returns the campaign to automatic pacing.

Each tick also leaves what it decided in Redis (`record_decision`), so the campaign's page can
show the live dial level beside the settings.
"""
from __future__ import annotations

import json
import math
from decimal import Decimal

from app.audit import services as audit
from app.auth.models import User
from app.campaigns import access
from app.campaigns.models import Campaign, PacingOverride
from app.campaigns.rules import MAX_ABANDON_RATE
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db

LIVE_KEY = "pacing-live:{}"  # hash: the last tick's decision
RECENT_KEY = "pacing-recent:{}"  # sorted set of the last minute's ticks (score: epoch seconds)
RECENT_SECONDS = 60
LIVE_TTL_SECONDS = 3600
# The wallboard's line on why the dialer holds back: shown at least this long before it changes,
# and only from a tick this recent (a paused campaign's, or one switched to another mode, ages).
SHOWN_MIN_SECONDS = 5.0
SHOWN_FRESH_SECONDS = 15.0
# A fixed level dials beyond progressive only with this many abandonments still to spare in
# the 30-day budget (the predictive pacer's own reserve).
BUDGET_RESERVE = 1.0

DEFINITIONS = {
    "dial_level": "Calls dialling (placed, not yet answered or ended) per ready agent, at the "
                  "last pacing tick. Progressive dialling keeps it at 1.",
    "dial_level_last_minute": "Calls placed in the last minute divided by the average number of "
                              "ready agents at each pacing tick of that minute.",
    "abandon_target": "Abandoned calls per call answered by a person that the predictive pacer "
                      "steers to; the law allows at most 3% over each 30 days.",
    "abandon_rate_30d": "Abandoned calls divided by calls answered by a person, over the last 30 "
                        "days of this campaign (the legal measure).",
}

HOW_IN_WORDS = {
    "automatic": "Automatic pacing",
    "ceiling": "Held at the dial-level ceiling set for this campaign",
    "fixed": "At the fixed dial level set for this campaign",
    "governor": "Held to one call per ready agent: the 30-day abandonment budget is spent",
    "budget": "Below the fixed dial level set for this campaign: no more lines beyond the ready "
              "agents than the 30-day abandonment budget has abandonments to spare",
}

# Why automatic pacing held back (the pacer's own governor: app.dialer.pacing.HELD_REASONS).
HOLD, SLOW = "Held to one call per ready agent", "Dialling fewer lines"
BUNCHED = "abandoned calls bunched in the last half minute, more than chance explains"
HELD_IN_WORDS = {
    "young": f"{HOLD}: too few people have answered in the last 30 days for even one abandoned "
             f"call to stay within the target",
    "spent": f"{HOLD}: the 30-day abandonment budget is spent",
    "ringing": f"{HOLD}: the calls already ringing could spend what is left of the 30-day "
               f"abandonment budget",
    "bunch": f"{HOLD}: {BUNCHED}",
    "small": f"{SLOW}: few people have answered in the last 30 days yet, so the abandonment "
             f"budget is small",
    "slowing": f"{SLOW}: the 30-day abandonment budget is nearly spent",
    "ringing-slowing": f"{SLOW}: the calls already ringing could spend much of what is left of "
                       f"the 30-day abandonment budget",
    "bunch-slowing": f"{SLOW}: {BUNCHED}",
}


def shows_pacing_line(status: str, dial_mode: str) -> bool:
    """Whether a campaign's board carries the line on why the dialer holds back: only while it
    is active and paced predictively (the board's read and the tick's live publish agree)."""
    return status == "active" and dial_mode == "predictive"


def held_in_words(how: str, why: str | None, target: float | None = None) -> str | None:
    """Why automatic pacing held back or slowed at the last tick, as a sentence; None when it
    did not (a person's override, and its own governor, say so in HOW_IN_WORDS). With the
    `target` steered to, a young period's sentence says how many answers it takes."""
    if how != "automatic":
        return None
    if why == "young" and target:
        needed = math.floor(BUDGET_RESERVE / target + 1e-9) + 1  # one abandonment beyond the reserve
        return (f"{HOLD} until {needed} people have answered in the last 30 days: before then, "
                f"the campaign's {_percent(target)} abandonment target has no room for an abandoned call")
    return HELD_IN_WORDS.get(why or "")


def holding_back(how: str, why: str | None, target: float | None = None) -> dict | None:
    """What the wallboard shows of a tick's decision: why it dialled otherwise than the pacer
    would freely (its own governor, or a person's setting), or None when it paced freely."""
    words = held_in_words(how, why, target) or (
        HOW_IN_WORDS.get(how, how) if how != "automatic" else None)
    return None if words is None else {"how": how, "because": why or None, "in_words": words}


# --- the tick's side --------------------------------------------------------------------------

def override_for(campaign_id: int) -> PacingOverride | None:
    return db.session.get(PacingOverride, campaign_id)


def abandon_target(campaign: Campaign, override: PacingOverride | None) -> float:
    """The target the pacer steers to: the override's if set, never above the campaign's own
    limit (which may have been lowered since the override was set) nor the legal 3%."""
    limit = min(Decimal(str(campaign.max_abandon_rate)), MAX_ABANDON_RATE)
    if override is not None and override.abandon_target is not None:
        return float(min(Decimal(str(override.abandon_target)), limit))
    return float(limit)


def spare_abandonments(target: float, abandoned_30d: int, humans_30d: int) -> int:
    """Abandonments the 30-day budget can still take at `target`, less the reserve."""
    return max(0, math.floor(target * humans_30d - abandoned_30d - BUDGET_RESERVE + 1e-9))


def budget_has_room(target: float, abandoned_30d: int, humans_30d: int) -> bool:
    return spare_abandonments(target, abandoned_30d, humans_30d) > 0


def steer(wanted: int, override: PacingOverride | None, mode: str, ready: int, dialing: int,
          target: float, abandoned_30d: int, humans_30d: int) -> tuple[int, str]:
    """(calls to place, how it was decided) once the override bounds the pacer's answer."""
    if mode != "predictive":
        return wanted, "automatic"
    floor = max(0, int(ready) - int(dialing))
    if override is None:
        return wanted, "automatic"
    if override.fixed_dial_level is not None:
        spare = spare_abandonments(target, abandoned_30d, humans_30d)
        if spare <= 0:
            return floor, "governor"
        fixed = max(floor, math.floor(float(override.fixed_dial_level) * ready + 1e-9) - dialing)
        # A person steers the level, not the law: the lines working beyond the ready agents
        # (each one an abandonment if every call were answered at once) never outnumber the
        # abandonments the 30-day budget can still take, so the rate stays within the target
        # whatever happens to the calls already placed.
        most = max(floor, int(ready) + spare - int(dialing))
        return (fixed, "fixed") if fixed <= most else (most, "budget")
    if override.max_dial_level is not None:
        cap = max(floor, math.floor(float(override.max_dial_level) * ready + 1e-9) - dialing)
        if wanted > cap:
            return cap, "ceiling"
    return wanted, "automatic"


def record_decision(redis, campaign_id: int, at: float, *, mode: str, ready: int, dialing: int,
                    wanted: int, decided: int, placed: int, how: str, target: float,
                    rate_30d: float | None, why: str | None = None) -> tuple[bool, dict | None]:
    """What this tick decided, for the campaign's page and the wallboard (best effort: pacing
    never waits on it). `why`: the pacer's own governor held or slowed it (one of
    app.dialer.pacing.HELD_REASONS), or None.

    Also what the wallboard's line on holding back shows (`holding_back`): this tick's, unless
    the line changed less than SHOWN_MIN_SECONDS ago (a pace near a ceiling, or near the
    budget's cushion, may cross it every second; the line would flicker). Returns (whether
    the line changed and is to be announced, what it shows now)."""
    key = LIVE_KEY.format(campaign_id)
    last_at, shown_how, shown_why, shown_at = redis.hmget(key, "at", "shown_how", "shown_why",
                                                          "shown_at")
    now_shows = holding_back(how, why, target)
    fresh = last_at is not None and 0.0 <= at - float(last_at) <= SHOWN_FRESH_SECONDS
    if not fresh:  # the first tick, or the first after a gap: the line as it is
        announce = True
    elif _words(now_shows) == _words(holding_back(shown_how or "automatic", shown_why or None,
                                                   target)):
        announce = False
    else:
        announce = at - float(shown_at or 0.0) >= SHOWN_MIN_SECONDS
    if announce:
        shown_how, shown_why, shown_at = how, why or "", at
    live = {"at": at, "mode": mode, "ready": ready, "dialing": dialing, "wanted": wanted,
            "decided": decided, "placed": placed, "how": how, "target": target,
            "rate_30d": "" if rate_30d is None else rate_30d, "why": why or "",
            "shown_how": shown_how or "automatic", "shown_why": shown_why or "",
            "shown_at": shown_at if shown_at is not None else at}
    recent = RECENT_KEY.format(campaign_id)
    pipe = redis.pipeline(transaction=False)
    pipe.hset(key, mapping=live)
    pipe.expire(key, LIVE_TTL_SECONDS)
    pipe.zadd(recent, {json.dumps([at, placed, ready]): at})
    pipe.zremrangebyscore(recent, "-inf", at - RECENT_SECONDS)
    pipe.expire(recent, LIVE_TTL_SECONDS)
    pipe.execute()
    return announce, (now_shows if announce else holding_back(live["shown_how"],
                                                                 live["shown_why"] or None, target))


# KEYS: 1 the live key. Only a record that is there is changed (a partial one would break `live`).
_FORGET_SHOWN = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'shown_how', 'automatic', 'shown_why', '', 'shown_at', 0)
end
return 1
"""


def forget_shown(redis, campaign_id: int) -> None:
    """The wallboard's line was cleared (the campaign paused, stopped or switched off
    predictive): the next tick, should the campaign run again within SHOWN_FRESH_SECONDS,
    announces its line at once rather than take it for the one still shown."""
    redis.eval(_FORGET_SHOWN, 1, LIVE_KEY.format(campaign_id))


def _words(shows: dict | None) -> str | None:
    return None if shows is None else shows["in_words"]


def live(redis, campaign_id: int, now: float) -> dict | None:
    last = redis.hgetall(LIVE_KEY.format(campaign_id))
    if not last:
        return None
    ticks = [json.loads(m) for m in redis.zrangebyscore(RECENT_KEY.format(campaign_id),
                                                        now - RECENT_SECONDS, "+inf")]
    ready, dialing, placed = int(last["ready"]), int(last["dialing"]), int(last["placed"])
    placed_minute = sum(t[1] for t in ticks)
    ready_avg = sum(t[2] for t in ticks) / len(ticks) if ticks else 0.0
    rate, why = last.get("rate_30d"), last.get("why")
    return {
        "at": float(last["at"]), "seconds_ago": max(0.0, now - float(last["at"])),
        "ready_agents": ready, "calls_dialing": dialing + placed,
        "pacer_wanted": int(last["wanted"]), "placed": placed, "how": last["how"],
        "how_in_words": HOW_IN_WORDS.get(last["how"], last["how"]),
        "held_because": why or None,
        "held_in_words": held_in_words(last["how"], why, float(last["target"])),
        # What the wallboard's line shows (record_decision): steadier than the tick's own.
        "shown": holding_back(last.get("shown_how") or "automatic", last.get("shown_why") or None,
                              float(last["target"])),
        "dial_level": round((dialing + placed) / ready, 2) if ready else None,
        "placed_last_minute": placed_minute, "ready_agents_last_minute": round(ready_avg, 2),
        "dial_level_last_minute": round(placed_minute / ready_avg, 2) if ready_avg else None,
        "abandon_target": float(last["target"]),
        "abandon_rate_30d": float(rate) if rate not in (None, "") else None,
    }


# --- the page's side --------------------------------------------------------------------------

def _values(override: PacingOverride | None) -> dict:
    if override is None:
        return {"max_dial_level": None, "fixed_dial_level": None, "abandon_target": None}
    return {k: (None if getattr(override, k) is None else float(getattr(override, k)))
            for k in ("max_dial_level", "fixed_dial_level", "abandon_target")}


def pacing(user, campaign_id: int) -> dict:
    from app.common.redis import get_redis

    campaign = access.get_campaign(user, campaign_id, manage=True)
    override = override_for(campaign.id)
    body = {
        "campaign_id": campaign.id, "campaign_name": campaign.name, "dial_mode": campaign.dial_mode,
        "status": campaign.status, "max_abandon_rate": float(campaign.max_abandon_rate),
        "abandon_target_in_use": abandon_target(campaign, override),
        "override": None, "live": live(get_redis(), campaign.id, utcnow().timestamp()),
        "definitions": DEFINITIONS,
    }
    if override is not None:
        setter = db.session.get(User, override.set_by_id) if override.set_by_id else None
        body["override"] = {**_values(override), "set_at": override.set_at,
                            "set_by": (setter.full_name or setter.username) if setter else None}
    return body


def _problems(campaign: Campaign, data: dict) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    target = data.get("abandon_target")
    if target is not None:
        limit = Decimal(str(campaign.max_abandon_rate))
        if target <= 0:
            problems["abandon_target"] = ["Enter a target above 0%."]
        elif Decimal(str(target)) > MAX_ABANDON_RATE:
            problems["abandon_target"] = [
                "At most 3%: the law allows no more than 3% of calls answered by a person to be "
                "abandoned, per campaign over each 30 days (FTC TSR 16 CFR 310.4(b)(4)(i))."]
        elif Decimal(str(target)) > limit:
            problems["abandon_target"] = [
                f"At most {_percent(limit)}, this campaign's own abandonment limit (an admin may "
                "raise it, up to the legal 3%, in the campaign's settings)."]
    levels = [k for k in ("max_dial_level", "fixed_dial_level") if data.get(k) is not None]
    for key in levels:
        if not 1 <= data[key] <= 10:
            problems[key] = ["Between 1 and 10 calls per ready agent (1 is progressive dialling)."]
    if levels and campaign.dial_mode != "predictive":
        for key in levels:
            problems.setdefault(key, []).append(
                f"Only a predictive campaign dials more than one call per ready agent; this one "
                f"is {campaign.dial_mode}.")
    if len(levels) == 2:
        problems.setdefault("fixed_dial_level", []).append(
            "Choose a fixed dial level or a ceiling, not both.")
    return problems


def _percent(value) -> str:
    return f"{(Decimal(str(value)) * 100).normalize():f}%"


def set_pacing(user, campaign_id: int, data: dict) -> dict:
    """Set (or, with every value empty, clear) the campaign's override; audited."""
    campaign = access.get_campaign(user, campaign_id, manage=True)
    values = {k: data.get(k) for k in ("max_dial_level", "fixed_dial_level", "abandon_target")}
    problems = _problems(campaign, values)
    if problems:
        raise ApiError(422, "The pacing override was not saved: " + " ".join(
            m for ms in problems.values() for m in ms), "validation_error", problems)
    override = override_for(campaign.id)
    before = _values(override) if override is not None else None
    if all(v is None for v in values.values()):
        return clear_pacing(user, campaign_id)
    if override is None:
        override = PacingOverride(campaign_id=campaign.id)
        db.session.add(override)
    for key, value in values.items():
        setattr(override, key, None if value is None else Decimal(str(value)))
    override.set_by_id, override.set_at = user.id, utcnow()
    audit.record("campaign.pacing_override", target_type="campaign", target_id=campaign.id,
                 before=before, after=values)
    db.session.commit()
    return pacing(user, campaign_id)


def clear_pacing(user, campaign_id: int) -> dict:
    campaign = access.get_campaign(user, campaign_id, manage=True)
    override = override_for(campaign.id)
    if override is not None:
        audit.record("campaign.pacing_override", target_type="campaign", target_id=campaign.id,
                     before=_values(override), after=None)
        db.session.delete(override)
        db.session.commit()
    return pacing(user, campaign_id)
