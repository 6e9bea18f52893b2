"""Keeps the demo campaign supplied with contacts it may legally call, for as long as it runs.

Seeded once, the demo's few hundred contacts ran dry after about half an hour (every number
called its three times, or outside its hours) and the wallboard went flat. `top_up` makes the
supply structural: every minute it asks the real calling rules (`app.compliance.checks`, the
same ones the gates apply at each placement) which of the demo's number ranges may be called
now, and if fewer than `TARGET_CALLABLE` contacts of those ranges are dialable it adds fresh
fictional numbers of those ranges, or, once a range is used up, recycles its finished contacts
(a new pass, as an operator recycles a list) after they have rested `RECYCLE_AFTER`. It never
decides that a call may be made: the gates still decide per contact at placement, so a number
put on a do-not-call list, a holiday or a state's Sunday ban still holds a contact back.

The ranges cover every hour of the day. The US alone does not: with 08:00-21:00 local time,
Guam and the Northern Marianas close at 11:00 UTC and Puerto Rico and the Virgin Islands open
at 12:00 UTC, so from 11:00 to 12:00 UTC no US number may be called (American Samoa, the last
to close, closes at 08:00 UTC); the UK and Australian drama ranges fill that hour. If some day
no range may be called at all (a campaign window narrowed, say), `top_up` says so in words and
when calls resume, and the demo prints it instead of going quiet.

Every number is in a range reserved for fiction (see `devtools.demo.FICTIONAL_RANGES`).
"""
from __future__ import annotations

import json
import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

log = logging.getLogger(__name__)

# Contacts of the ranges open now that should be dialable at any moment: a few refills' worth
# for the demo's agents (the refill queues up to 50 at a time).
TARGET_CALLABLE = 120
# Fresh numbers or recycled contacts added to one range per top-up, at most.
BATCH = 60
# A finished demo contact is called again after resting this long (a new pass of the list).
RECYCLE_AFTER = timedelta(minutes=15)
# Ranges still open this much later are preferred, so new contacts are not added to a zone
# whose window is about to close.
LOOKAHEAD = timedelta(minutes=15)
TOP_UP_EVERY_SECONDS = 30
STATUS_KEY = "demo:supply"
NAMES_FIRST = ["Alex", "Sam", "Jordan", "Robin", "Casey", "Morgan", "Taylor", "Jamie", "Avery", "Riley"]
NAMES_LAST = ["Doe", "Roe", "Smith", "Jones", "Citizen", "Bloggs", "Public", "Example"]


@dataclass(frozen=True)
class Range:
    """A block of fictional numbers that all ring in one place (the same zones and rules)."""

    place: str      # in words, for the terminal and the wallboard
    prefix: str
    first: int
    count: int
    digits: int
    zone: str       # the contact's stated time zone

    def number(self, i: int) -> str:
        return f"{self.prefix}{self.first + i:0{self.digits}d}"

    def numbers(self) -> list[str]:
        return [self.number(i) for i in range(self.count)]

    @property
    def like(self) -> str:
        return f"{self.prefix}%"


def _nanp(place: str, area: str, zone: str) -> Range:
    return Range(place, f"+1{area}555", 100, 100, 4, zone)   # 555-0100..0199: fiction in any area code


# Every range the demo calls, the seed's first (devtools.demo.NUMBER_PLAN is the start of these).
# US area codes of states whose rules allow an autodialled sales call without written consent and
# on every day of the week (no Connecticut, Florida, Maryland, Oklahoma, Utah, nor the states with
# Sunday or holiday bans), so each range's numbers are callable whenever its hours are open.
_US = [
    ("New York", "212", "America/New_York"), ("Chicago", "312", "America/Chicago"),
    ("Denver", "303", "America/Denver"), ("Los Angeles", "213", "America/Los_Angeles"),
    ("Honolulu", "808", "Pacific/Honolulu"),
    ("Brooklyn", "718", "America/New_York"), ("Boston", "617", "America/New_York"),
    ("Jersey City", "201", "America/New_York"), ("Atlanta", "404", "America/New_York"),
    ("Charlotte", "704", "America/New_York"), ("Columbus", "614", "America/New_York"),
    ("Arlington", "703", "America/New_York"), ("Houston", "713", "America/Chicago"),
    ("Dallas", "214", "America/Chicago"), ("Minneapolis", "612", "America/Chicago"),
    ("Milwaukee", "414", "America/Chicago"), ("St Louis", "314", "America/Chicago"),
    ("Nashville", "615", "America/Chicago"), ("Boulder", "720", "America/Denver"),
    ("Phoenix", "602", "America/Phoenix"), ("Billings", "406", "America/Denver"),
    ("San Francisco", "415", "America/Los_Angeles"), ("Seattle", "206", "America/Los_Angeles"),
    ("Portland", "503", "America/Los_Angeles"), ("Las Vegas", "702", "America/Los_Angeles"),
    ("Anchorage", "907", "America/Anchorage"),
    ("San Juan, Puerto Rico", "787", "America/Puerto_Rico"), ("Bayamon, Puerto Rico", "939", "America/Puerto_Rico"),
    ("St Thomas, US Virgin Islands", "340", "America/St_Thomas"), ("Guam", "671", "Pacific/Guam"),
    ("Saipan, Northern Mariana Islands", "670", "Pacific/Saipan"),
    ("Pago Pago, American Samoa", "684", "Pacific/Pago_Pago"),
]
RANGES = [_nanp(*row) for row in _US[:5]] + [
    Range("London", "+442079460", 0, 1000, 3, "Europe/London"),        # Ofcom 020 7946 0xxx
    Range("UK mobile", "+447700900", 0, 1000, 3, "Europe/London"),     # Ofcom 07700 900xxx
    Range("Sydney", "+61255500", 0, 1000, 3, "Australia/Sydney"),      # ACMA 02 5550 0xxx
    Range("Australian mobile", "+61491570", 0, 1000, 3, "Australia/Perth"),  # ACMA 0491 570 xxx
] + [_nanp(*row) for row in _US[5:]]


@dataclass
class Supply:
    """What one top-up found and did, and the sentence the demo shows about it."""

    at: datetime
    open_places: list[str] = field(default_factory=list)
    dialable: int = 0          # dialable contacts of the ranges open now (before the gates' last word)
    added: int = 0
    recycled: int = 0
    next_open_at: datetime | None = None

    @property
    def message(self) -> str:
        if self.open_places:
            return (f"{self.dialable} demo contacts ready to call in {len(self.open_places)} places inside "
                    f"their calling hours ({', '.join(self.open_places[:4])}"
                    f"{', ...' if len(self.open_places) > 4 else ''})")
        resume = (f" Calls resume at {self.next_open_at:%H:%M} UTC." if self.next_open_at else "")
        return ("No demo contact may be called now: it is outside the legal calling hours (08:00-21:00 "
                "local time, and the states' own rules) in every place the demo's numbers ring."
                f"{resume} The dialer waits; nothing is wrong.")

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "open_places": self.open_places, "dialable": self.dialable,
                "added": self.added, "recycled": self.recycled, "message": self.message,
                "callable": bool(self.open_places),
                "next_open_at": self.next_open_at.isoformat() if self.next_open_at else None}


def _probe(campaign, rng: Range, at: datetime):
    """(open now?, next instant the rules allow) for the range's numbers, by the real rules."""
    from app.compliance import checks
    from app.contacts.models import Contact

    contact = Contact(campaign_id=campaign.id, phone_e164=rng.number(0), timezone=rng.zone)
    reasons, next_at = checks.time_rules(campaign, contact, at)
    return not reasons, next_at


def _dialable(campaign, ranges: list[Range], now: datetime) -> dict[str, int]:
    """Contacts dialable now in each range, by prefix: one pass over the campaign's contacts
    (a count per range was a scan each, some twenty per top-up)."""
    from app.dialer.refill import PASS_ATTEMPTS
    from app.extensions import db

    if not ranges:
        return {}
    rows = db.session.execute(text(
        "SELECT r.prefix, count(c.id) FROM unnest(CAST(:prefixes AS text[])) AS r(prefix) "
        "LEFT JOIN contacts c ON c.campaign_id = :cid AND starts_with(c.phone_e164, r.prefix) "
        f"AND c.status IN ('new', 'retry') AND {PASS_ATTEMPTS} < :max "
        "AND (c.next_due_at IS NULL OR c.next_due_at <= :now) "
        "AND NOT EXISTS (SELECT 1 FROM dnc_entries d WHERE d.phone_e164 = c.phone_e164 "
        "AND (d.campaign_id IS NULL OR d.campaign_id = :cid)) GROUP BY r.prefix"),
        {"prefixes": sorted({r.prefix for r in ranges}), "cid": campaign.id, "max": campaign.max_attempts,
         "now": now}).all()
    return {prefix: int(n) for prefix, n in rows}


def _add_fresh(campaign, rng: Range, want: int) -> int:
    """Numbers of the range the campaign does not have yet, `want` at most."""
    from app.contacts.models import Contact
    from app.extensions import db

    have = set(db.session.scalars(select(Contact.phone_e164).where(
        Contact.campaign_id == campaign.id, Contact.phone_e164.like(rng.like))))
    return _insert(campaign, rng, [n for n in rng.numbers() if n not in have][:want])


def _insert(campaign, rng: Range, numbers: list[str]) -> int:
    from app.common.phones import zones_agree
    from app.contacts.models import Contact
    from app.extensions import db

    if not numbers:
        return 0
    agree = zones_agree(rng.zone, numbers[0])
    rows = [dict(campaign_id=campaign.id, phone_e164=n, timezone=rng.zone, zones_agree=agree,
                 first_name=NAMES_FIRST[int(n[-3:]) % len(NAMES_FIRST)],
                 last_name=NAMES_LAST[(int(n[-3:]) // len(NAMES_FIRST)) % len(NAMES_LAST)]) for n in numbers]
    return len(db.session.execute(insert(Contact).values(rows).on_conflict_do_nothing(
        index_elements=["campaign_id", "phone_e164"]).returning(Contact.id)).all())


_RESTED = """SELECT c.id FROM contacts c WHERE c.campaign_id = :cid AND c.phone_e164 LIKE :like
  AND (c.status = 'done' OR (c.status IN ('new', 'retry') AND {attempts} >= :max))
  AND (c.last_attempt_at IS NULL OR c.last_attempt_at <= :rested)
  AND NOT EXISTS (SELECT 1 FROM dnc_entries d WHERE d.phone_e164 = c.phone_e164
                  AND (d.campaign_id IS NULL OR d.campaign_id = :cid))
  AND NOT EXISTS (SELECT 1 FROM callbacks b WHERE b.contact_id = c.id)
  ORDER BY c.last_attempt_at NULLS FIRST, c.id LIMIT :want FOR UPDATE SKIP LOCKED"""


def _recycle(campaign, rng: Range, want: int, now: datetime) -> int:
    """Another pass for finished contacts of the range that have rested: never one on a
    do-not-call list, opted out or invalid (status dnc/invalid are never touched), nor one with
    a callback. The pass starts at the calls made so far (they stay on record, linked to it)."""
    from app.dialer.refill import PASS_ATTEMPTS
    from app.extensions import db

    params = {"cid": campaign.id, "like": rng.like, "max": campaign.max_attempts,
              "rested": now - RECYCLE_AFTER, "want": want}
    rested = _RESTED.format(attempts=PASS_ATTEMPTS)
    result = db.session.execute(text(
        f"WITH picked AS MATERIALIZED ({rested}) "
        "UPDATE contacts SET status = 'retry', next_due_at = NULL, attempts_before_pass = attempts, "
        "updated_at = now() WHERE id IN (SELECT id FROM picked)"), params)
    return result.rowcount or 0


def top_up(campaign_id: int, now: datetime, *, target: int = TARGET_CALLABLE,
           ranges: list[Range] | None = None) -> Supply:
    """Make sure the demo campaign has about `target` dialable contacts in places where the
    law allows a call at `now`; commits. Returns what it found and did."""
    from app.campaigns.models import Campaign
    from app.extensions import db

    ranges = RANGES if ranges is None else ranges
    campaign = db.session.get(Campaign, campaign_id)
    supply = Supply(at=now)
    if campaign is None or campaign.status != "active":
        return supply
    open_now, lasting, next_times = [], [], []
    for rng in ranges:
        ok, next_at = _probe(campaign, rng, now)
        if ok:
            open_now.append(rng)
            if _probe(campaign, rng, now + LOOKAHEAD)[0]:
                lasting.append(rng)
        elif next_at is not None:
            next_times.append(next_at)
    supply.open_places = [r.place for r in open_now]
    supply.next_open_at = min(next_times) if not open_now and next_times else None
    counts = _dialable(campaign, open_now, now)
    supply.dialable = sum(counts.values())
    # Fill the ranges that stay open a while first, the emptiest first.
    for rng in sorted(lasting or open_now, key=lambda r: counts[r.prefix]):
        if supply.dialable >= target:
            break
        want = min(BATCH, target - supply.dialable)
        added = _add_fresh(campaign, rng, want)
        recycled = _recycle(campaign, rng, want - added, now) if added < want else 0
        supply.added += added
        supply.recycled += recycled
        supply.dialable += added + recycled
    db.session.commit()
    return supply


def publish(supply: Supply, campaign_id: int | None = None) -> None:
    """The latest top-up, for `make run`'s terminal line (kept 5 minutes); with `campaign_id`,
    the campaign's wallboard says plainly when no demo contact may be called, and until when."""
    from app.common.redis import get_redis
    from app.web.wallboard import set_notice

    get_redis().set(STATUS_KEY, json.dumps(supply.as_dict()), ex=300)
    if campaign_id is not None:
        set_notice(campaign_id, None if supply.open_places else supply.message)


def latest() -> dict | None:
    from app.common.redis import get_redis

    raw = get_redis().get(STATUS_KEY)
    return json.loads(raw) if raw else None


def keep_supplied(app, campaign_id: int, stop: threading.Event, every: float = TOP_UP_EVERY_SECONDS) -> None:
    """The demo-agents process's loop: a top-up every `every` seconds until `stop`, and now and
    then a person calling the demo back (devtools.demo_callers)."""
    from app.common.timeutil import utcnow
    from app.extensions import db

    from devtools import demo_callers

    said: tuple | None = None
    sim_url = app.config.get("TWILIO_API_BASE_URL")
    rng, called_back = random.Random(), None
    with app.app_context():
        if sim_url:
            try:
                demo_callers.set_up_numbers(campaign_id)
            except Exception:  # noqa: BLE001 - the demo goes on calling out, with no calls in
                db.session.rollback()
                log.exception("demo numbers not set up: no calls back")
                sim_url = None
        while not stop.is_set():
            now = utcnow()
            if sim_url and (called_back is None or now - called_back >= demo_callers.CALL_BACK_EVERY):
                called_back = now
                try:
                    demo_callers.call_back(sim_url, campaign_id, now, rng)
                except Exception:  # noqa: BLE001 - a call back that fails costs one call back
                    db.session.rollback()
                    log.exception("demo call back failed")
            try:
                supply = top_up(campaign_id, utcnow())
                publish(supply, campaign_id)
                places = (tuple(supply.open_places), supply.next_open_at)
                if supply.added or supply.recycled or places != said:
                    log.info("demo supply: %s (added %s new, recycled %s)", supply.message,
                             supply.added, supply.recycled)
                said = places
            except Exception:  # noqa: BLE001 - the supply never takes the demo down
                db.session.rollback()
                log.exception("demo supply top-up failed")
            stop.wait(every)


def start(app, campaign_id: int) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=keep_supplied, args=(app, campaign_id, stop), name="demo-supply",
                              daemon=True)
    thread.start()
    return thread, stop
