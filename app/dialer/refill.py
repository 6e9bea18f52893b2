"""Refill a campaign's dial queue from PostgreSQL with contacts that may be called now."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.compliance import gates
from app.contacts.models import MANUAL_DIAL_SOURCE
from app.dialer.hopper import PRIORITY_CALLBACK, PRIORITY_NEW, PRIORITY_RETRY, Hopper, priority, ready_key
from app.extensions import db

_ON_DNC = """EXISTS (SELECT 1 FROM dnc_entries d WHERE d.phone_e164 = c.phone_e164
                     AND (d.campaign_id IS NULL OR d.campaign_id = :cid))"""
# A contact of a switched-off list (app.contacts.lists) is not queued; attempts count this
# pass's calls (a list recycle starts a new pass).
_LIST_ACTIVE = """(c.import_job_id IS NULL
                  OR EXISTS (SELECT 1 FROM import_jobs j WHERE j.id = c.import_job_id AND j.active))"""
PASS_ATTEMPTS = "(c.attempts - c.attempts_before_pass)"
# A number an agent dialled by hand is not a lead of the campaign's lists: the dialer never calls
# it on its own, only for a callback the agent promised.
_NOT_HAND_DIALLED = f"(c.status = 'callback' OR COALESCE(c.custom_fields->>'source', '') <> '{MANUAL_DIAL_SOURCE}')"
# A contact the refill may queue at some time (list on, not dialled by hand, attempts left in
# this pass); _DUE: and now.
_QUEUEABLE = f"""c.status IN ('new', 'retry', 'callback') AND {_LIST_ACTIVE} AND {_NOT_HAND_DIALLED}
          AND (c.status = 'callback' OR {PASS_ATTEMPTS} < :max_attempts)"""
_DUE = f"""{_QUEUEABLE}
          AND (c.next_due_at IS NULL OR c.next_due_at <= :now)"""
_LOCAL_TIME = "(CAST(:now AS timestamptz) AT TIME ZONE c.timezone)::time"

# Contacts whose every source agrees on one zone are windowed in SQL (PostgreSQL knows DST);
# the rest (a split state without a ZIP code, a number in two zones, a mobile number that may
# be anywhere in its country, a stated zone the number contradicts, or not yet classified) in
# Python, against every zone they may be in, from a query of their own: they may be held for
# hours (a toll-free number only fits the window in every US zone in the Eastern afternoon) and
# must never stand in front of the others.
_ORDER = """ORDER BY CASE c.status WHEN 'callback' THEN 0 WHEN 'new' THEN 1 ELSE 2 END,
         c.next_due_at NULLS FIRST, c.id"""
_KNOWN_ZONE = f"""
SELECT c.id, c.status, c.next_due_at, c.phone_e164, c.timezone
FROM contacts c
WHERE c.campaign_id = :cid AND {_DUE} AND c.zones_agree
  AND {_LOCAL_TIME} >= :wstart AND {_LOCAL_TIME} < :wend
  AND NOT {_ON_DNC}
{_ORDER}
LIMIT :limit
"""
_UNKNOWN_ZONE = f"""
SELECT c.id, c.status, c.next_due_at, c.phone_e164, c.timezone, c.region, c.postal_code, c.zones_agree
FROM contacts c
WHERE c.campaign_id = :cid AND {_DUE} AND c.zones_agree IS NOT TRUE AND NOT {_ON_DNC}
{_ORDER}
LIMIT :limit OFFSET :offset
"""
# Unknown-zone contacts looked at per refill, at most: the rest wait for a later refill.
UNKNOWN_ZONE_SCAN = 5000

_HELD = f"""
SELECT
  count(*) FILTER (WHERE NOT {_LIST_ACTIVE}) AS list_switched_off,
  count(*) FILTER (WHERE {_LIST_ACTIVE} AND {_ON_DNC}) AS do_not_call,
  count(*) FILTER (WHERE {_LIST_ACTIVE} AND NOT {_ON_DNC} AND c.status <> 'callback'
                   AND {PASS_ATTEMPTS} >= :max_attempts) AS max_attempts_reached,
  count(*) FILTER (WHERE {_LIST_ACTIVE} AND NOT {_ON_DNC}
                   AND (c.status = 'callback' OR {PASS_ATTEMPTS} < :max_attempts)
                   AND c.next_due_at > :now) AS retry_not_due,
  count(*) FILTER (WHERE {_LIST_ACTIVE} AND NOT {_ON_DNC}
                   AND (c.status = 'callback' OR {PASS_ATTEMPTS} < :max_attempts)
                   AND (c.next_due_at IS NULL OR c.next_due_at <= :now) AND c.zones_agree
                   AND NOT ({_LOCAL_TIME} >= :wstart AND {_LOCAL_TIME} < :wend))
      AS outside_calling_window
FROM contacts c
WHERE c.campaign_id = :cid AND c.status IN ('new', 'retry', 'callback')
"""


# When the next contact the refill would queue falls due (not on a do-not-call list).
_NEXT_DUE = f"""
SELECT min(COALESCE(c.next_due_at, :now)) FROM contacts c
WHERE c.campaign_id = :cid AND {_QUEUEABLE} AND NOT {_ON_DNC}
"""


def next_due_at(campaign: Campaign, now: datetime) -> datetime | None:
    """When the campaign's next contact the refill may queue falls due (`now` for one due
    already); None when its lists have nobody left to call."""
    due = db.session.scalar(text(_NEXT_DUE), _params(campaign, now))
    return None if due is None else max(due, now)


def _params(campaign: Campaign, now: datetime) -> dict:
    window = gates.Window.for_campaign(campaign.window_start, campaign.window_end)
    return {"cid": campaign.id, "now": now, "max_attempts": campaign.max_attempts,
            "wstart": window.start, "wend": window.end}


def target_depth(agents_signed_in: int) -> int:
    """Enough contacts for a few refill intervals of predictive dialling at a high dial level."""
    return max(50, 20 * agents_signed_in)


def _score(row) -> float:
    if row.status == "callback":
        return priority(PRIORITY_CALLBACK, row.next_due_at.timestamp() if row.next_due_at else 0)
    if row.status == "new":
        return priority(PRIORITY_NEW, row.id)
    return priority(PRIORITY_RETRY, row.next_due_at.timestamp() if row.next_due_at else 0)


_SWITCHED_OFF_WAITING = """
SELECT c.id FROM contacts c JOIN import_jobs j ON j.id = c.import_job_id
WHERE c.id = ANY(:ids) AND NOT j.active
"""


def _drop_switched_off(hopper: Hopper, campaign_id: int) -> None:
    """Contacts waiting in the queue whose list was switched off since they were queued leave
    it (one claimed meanwhile is refused at the moment of dialling)."""
    if not db.session.scalar(text("SELECT EXISTS (SELECT 1 FROM import_jobs WHERE campaign_id = :cid "
                                  "AND kind = 'contacts' AND NOT active)"), {"cid": campaign_id}):
        return
    waiting = [int(i) for i in hopper.redis.zrange(ready_key(campaign_id), 0, -1)]
    if waiting:
        off = db.session.scalars(text(_SWITCHED_OFF_WAITING), {"ids": waiting}).all()
        hopper.remove(campaign_id, list(off))


def refill(campaign_id: int, *, agents_signed_in: int = 0, now: datetime | None = None) -> dict:
    """Top the campaign's queue up to its target depth; record why contacts are held back."""
    now = now or utcnow()
    campaign = db.session.get(Campaign, campaign_id)
    hopper = Hopper(get_redis())
    if campaign is None or campaign.status != "active":
        return {"added": 0, **hopper.depth(campaign_id)}
    params = _params(campaign, now)
    window = gates.Window(params["wstart"], params["wend"])
    _drop_switched_off(hopper, campaign_id)
    depth = hopper.depth(campaign_id)
    target = target_depth(agents_signed_in)
    scored: list[tuple[int, float]] = []
    unknown_zone = 0
    if target - depth["ready"] - depth["leased"] > 0:
        # The best `target` by the queue's order (due callbacks, then new, then retries), from
        # both queries; those already queued or leased are among them and are skipped by the
        # add, so the queue grows by about what it lacks.
        rows = db.session.execute(text(_KNOWN_ZONE), {**params, "limit": target}).all()
        scored = [(row.id, _score(row)) for row in rows]
        # At most UNKNOWN_ZONE_SCAN of them per refill, going on where the last refill stopped
        # (from the start again once the end is reached), so a long run of held ones at the
        # front cannot hide those behind it.
        redis, cursor = get_redis(), f"dq:{campaign_id}:unknown-zone-offset"
        fitting, page_size, classified = [], max(target, 200), {}
        offset = start = int(redis.get(cursor) or 0)
        while len(fitting) < target and offset - start < UNKNOWN_ZONE_SCAN:
            page = db.session.execute(text(_UNKNOWN_ZONE), {
                **params, "limit": page_size, "offset": offset}).all()
            for row in page:
                zones = gates.candidate_zones(row.timezone, row.phone_e164, row.region, row.postal_code)
                if row.zones_agree is None:
                    agree = row.timezone is not None and [z.key for z in zones] == [row.timezone]
                    classified.setdefault(agree, []).append(row.id)
                if gates.inside_window(now, zones, window):
                    fitting.append((row.id, _score(row)))
                else:
                    unknown_zone += 1
            offset += len(page)
            if len(page) < page_size:
                offset = 0
                break
        redis.set(cursor, offset if offset - start >= UNKNOWN_ZONE_SCAN else 0, ex=3600)
        scored = sorted(scored + fitting, key=lambda item: item[1])[:target]
        for agree, ids in classified.items():  # learnt once: next time the right query takes them
            db.session.execute(text("UPDATE contacts SET zones_agree = :agree WHERE id = ANY(:ids)"),
                               {"agree": agree, "ids": ids})
        db.session.commit()
    added = hopper.add(campaign_id, scored)
    held = {k: v for k, v in db.session.execute(text(_HELD), params).one()._mapping.items() if v}
    if unknown_zone:
        held[gates.OUTSIDE_WINDOW] = held.get(gates.OUTSIDE_WINDOW, 0) + unknown_zone
    hopper.set_held(campaign_id, held)
    db.session.rollback()  # end the snapshot
    return {"added": added, **hopper.depth(campaign_id)}
