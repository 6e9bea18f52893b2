"""The demo never runs dry: contacts the law allows calling now, at every hour, however long it runs.

Issue 20, bug 5: seeded once, the demo used up its 360 contacts in 26 minutes and the wallboard
went flat. These drive `devtools.demo_supply.top_up` with an injected clock against the real
calling rules and the real dialer steps (the refill query, the gates of the dial attempt, the
outcome rules), never a stand-in for the law.
"""
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.compliance import checks
from app.contacts.attempts import apply_call_outcome
from app.contacts.models import Contact
from app.dialer.hopper import Hopper, ready_key
from app.dialer.refill import refill
from app.dnc.models import DncEntry
from app.extensions import db
from app.web import wallboard
from devtools import demo, demo_supply

UTC = timezone.utc

# Somewhere in each US zone and territory, the UK and Australia: the places a demo could ring.
# Independent of the demo's own ranges: "the law allows a call somewhere" is asked of these.
REFERENCE = [("+12025550150", "America/New_York"), ("+16155550150", "America/Chicago"),
             ("+15055550150", "America/Denver"), ("+14155550150", "America/Los_Angeles"),
             ("+19075550150", "America/Anchorage"), ("+18085550150", "Pacific/Honolulu"),
             ("+17875550150", "America/Puerto_Rico"), ("+13405550150", "America/St_Thomas"),
             ("+16715550150", "Pacific/Guam"), ("+16705550150", "Pacific/Saipan"),
             ("+16845550150", "Pacific/Pago_Pago"), ("+442079460150", "Europe/London"),
             ("+61255500150", "Australia/Sydney"), ("+61491570150", "Australia/Perth")]


@pytest.fixture(autouse=True)
def _leave_redis_empty(redis_client):
    yield
    redis_client.flushdb()


@pytest.fixture
def campaign(ctx):
    return db.session.get(Campaign, demo.seed_demo()["campaign_id"])


def law_allows_somewhere(campaign, at) -> bool:
    return any(not checks.time_rules(campaign, Contact(campaign_id=campaign.id, phone_e164=n, timezone=z), at)[0]
               for n, z in REFERENCE)


def contacts(ids: list[int]) -> list[Contact]:
    """The contacts of `ids`, in that order, loaded in one query (not one query each)."""
    by_id = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    return [by_id[i] for i in ids]


def queue_up(campaign, at) -> None:
    """The dialer's queue at `at`, made afresh by the real refill query."""
    Hopper(get_redis()).clear(campaign.id)
    refill(campaign.id, agents_signed_in=6, now=at)


def callable_now(campaign, at, look_at: int = 20) -> list[int]:
    """What the dialer would dial at `at`: the refill's queue (left for `dial`), each asked the
    attempt's gates."""
    queue_up(campaign, at)
    queued = contacts([int(i) for i in get_redis().zrange(ready_key(campaign.id), 0, look_at - 1)])
    return [c.id for c in queued if checks.attempt_hold(c, campaign, at)[0] is None]


def dial(campaign, at, n: int, rng: random.Random) -> list[Contact]:
    """What the dialer does with `n` contacts at `at`: the claim from the queue the real refill
    query just made (`queue_up`, nothing changed since), then each call's outcome by the
    outcome rules (a person's call ends in a final disposition)."""
    claimed = contacts(Hopper(get_redis()).claim(campaign.id, n, 60, now=at.timestamp()))
    for contact in claimed:  # dialled (app.dialer.attempts), then the call's outcome
        contact.attempts += 1
        contact.last_attempt_at = at
        outcome = rng.choices(["human", "machine", "no-answer", "busy", "failed"], [35, 15, 30, 12, 8])[0]
        if outcome == "human":  # the agent's disposition: a final one
            contact.status, contact.next_due_at, contact.last_outcome = "done", None, "human"
        else:
            apply_call_outcome(contact, campaign, outcome, abandoned=False, now=at)
    db.session.commit()
    return claimed


@pytest.mark.parametrize("day", [datetime(2026, 1, 14, tzinfo=UTC),   # a winter Wednesday
                                 datetime(2026, 7, 12, tzinfo=UTC)])  # a summer Sunday
def test_callable_contacts_at_every_instant_the_law_allows_any(campaign, day):
    """Every 10 minutes of a day, dialling 100 contacts in each 10 minutes in between (more
    than the demo's five bots get through), the gates of the dial attempt pass contacts."""
    rng = random.Random(5)
    short = []
    for at in [day + timedelta(minutes=10 * i) for i in range(24 * 6)]:
        supply = demo_supply.top_up(campaign.id, at)
        assert law_allows_somewhere(campaign, at), f"no place open at {at:%H:%M} UTC"
        ready = callable_now(campaign, at)
        if len(ready) < 10:
            short.append((f"{at:%H:%M}", len(ready), supply.message))
        dial(campaign, at, 100, rng)
    assert not short, short
    # Every number the supply made is fictional.
    numbers = db.session.scalars(select(Contact.phone_e164).where(Contact.campaign_id == campaign.id)).all()
    assert all(demo.is_fictional(n) for n in numbers)


def test_us_numbers_alone_leave_an_hour_uncovered_that_the_other_ranges_fill(campaign):
    """The real rules: from 11:00 to 12:00 UTC no US place (territories included) may be called."""
    us = [r for r in demo_supply.RANGES if r.prefix.startswith("+1")]
    at = datetime(2026, 1, 14, 11, 30, tzinfo=UTC)
    assert not demo_supply.top_up(campaign.id, at, ranges=us).open_places
    supply = demo_supply.top_up(campaign.id, at)
    assert supply.open_places and not any(p in supply.open_places for p in ("Guam", "New York"))
    assert callable_now(campaign, at)


@pytest.mark.parametrize("only", [None, "London"])
def test_two_hours_of_heavy_dialling_never_run_it_dry(campaign, only):
    """Faster than the demo dials (40 calls a minute for 150 minutes, over the hour no US number
    may be called): each minute a top-up, the real refill query, and the dialler's claim; the
    attempt's gates asked of some of the claimed; the calls' outcomes by the outcome rules.
    With London's thousand numbers alone it must recycle finished contacts to keep going."""
    ranges = [r for r in demo_supply.RANGES if r.place == only] if only else None
    rng = random.Random(20)
    start = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
    placed_per_minute, refused = [], []
    for minute in range(150):
        at = start + timedelta(minutes=minute)
        demo_supply.top_up(campaign.id, at, ranges=ranges)
        # The attempt's gates, asked of some of what the dialer claims before it dials them.
        queue_up(campaign, at)
        for contact in contacts([int(i) for i in get_redis().zrange(ready_key(campaign.id), 0, 2)]):
            why = checks.attempt_hold(contact, campaign, at)[0]
            if why is not None:
                refused.append((f"{at:%H:%M}", why))
        placed_per_minute.append(len(dial(campaign, at, 40, rng)))
    assert not refused, refused
    dry = [(f"{start + timedelta(minutes=m):%H:%M}", n) for m, n in enumerate(placed_per_minute) if n < 40]
    assert not dry, dry
    if only:  # more calls than numbers: finished contacts were recycled, no number invented
        numbers = db.session.scalar(select(func.count()).select_from(Contact).where(
            Contact.campaign_id == campaign.id, Contact.phone_e164.like(ranges[0].like)))
        assert numbers <= ranges[0].count < sum(placed_per_minute) - 200


def test_recycling_never_takes_a_contact_on_a_do_not_call_list(campaign):
    new_york = demo_supply.RANGES[0]
    at = datetime(2026, 1, 14, 16, 0, tzinfo=UTC)  # 11:00 in New York
    db.session.execute(insert(Contact).values([dict(campaign_id=campaign.id, phone_e164=n, timezone=new_york.zone)
                                               for n in new_york.numbers()]).on_conflict_do_nothing())
    # The range is used up: every number called its three times an hour ago; one opted out since.
    db.session.execute(update(Contact).where(Contact.campaign_id == campaign.id).values(
        status="done", attempts=3, last_attempt_at=at - timedelta(hours=1)))
    listed = new_york.number(7)
    db.session.add(DncEntry(phone_e164=listed, campaign_id=None, source="manual"))
    db.session.commit()
    supply = demo_supply.top_up(campaign.id, at, ranges=[new_york], target=500)
    assert supply.added == 0 and supply.recycled == demo_supply.BATCH
    supply = demo_supply.top_up(campaign.id, at, ranges=[new_york], target=500)
    assert supply.recycled == new_york.count - 1 - demo_supply.BATCH
    row = db.session.scalar(select(Contact).where(Contact.campaign_id == campaign.id, Contact.phone_e164 == listed))
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("done", 3)


def test_the_count_of_dialable_contacts_leaves_out_what_may_not_be_dialled(campaign):
    at = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)  # 13:00 in New York: many ranges open
    first = demo_supply.top_up(campaign.id, at)
    open_ranges = [r for r in demo_supply.RANGES if r.place in first.open_places]
    assert len(open_ranges) > 1
    fresh = db.session.scalars(select(Contact).where(
        Contact.campaign_id == campaign.id, Contact.status == "new").order_by(Contact.id)).all()
    fresh = [c for c in fresh if any(c.phone_e164.startswith(r.prefix) for r in open_ranges)]
    fresh[0].status = "done"                             # finished
    fresh[1].next_due_at = at + timedelta(hours=1)       # not due yet
    fresh[2].attempts = campaign.max_attempts            # no attempt left
    db.session.add(DncEntry(phone_e164=fresh[3].phone_e164, campaign_id=None, source="manual"))
    db.session.commit()
    listed = set(db.session.scalars(select(DncEntry.phone_e164)))
    expected = sum(1 for c in db.session.scalars(select(Contact).where(Contact.campaign_id == campaign.id))
                   if any(c.phone_e164.startswith(r.prefix) for r in open_ranges)
                   and c.status in ("new", "retry") and c.pass_attempts < campaign.max_attempts
                   and (c.next_due_at is None or c.next_due_at <= at) and c.phone_e164 not in listed)
    again = demo_supply.top_up(campaign.id, at, target=0)  # counts, adds nothing
    assert (again.dialable, again.added, again.recycled) == (expected, 0, 0)
    assert expected == first.dialable - 4


def test_it_says_plainly_when_no_demo_contact_may_be_called(campaign):
    campaign.window_start, campaign.window_end = datetime(2026, 1, 1, 12).time(), datetime(2026, 1, 1, 13).time()
    db.session.commit()
    at = datetime(2026, 1, 14, 6, 10, tzinfo=UTC)  # 12:00-13:00 local is nowhere among the ranges
    supply = demo_supply.top_up(campaign.id, at)
    assert supply.open_places == [] and supply.added == 0
    assert supply.message.startswith("No demo contact may be called now")
    assert "Calls resume at" in supply.message and supply.next_open_at > at
    demo_supply.publish(supply, campaign.id)
    assert demo_supply.latest()["callable"] is False
    # The wallboard says it too, above the campaign's tiles, and stops saying it once calls resume.
    assert wallboard.notice(campaign.id) == supply.message
    campaign.window_start, campaign.window_end = datetime(2026, 1, 1, 8).time(), datetime(2026, 1, 1, 21).time()
    db.session.commit()
    demo_supply.publish(demo_supply.top_up(campaign.id, at), campaign.id)
    assert wallboard.notice(campaign.id) is None


def test_people_the_demo_reached_call_back_the_number_they_saw(app, ctx, placing_sim):
    """The demo shows calls to our numbers too: its campaign pools the account's numbers, each
    pointed at /twilio/inbound, and a person a demo call reached calls that number back."""
    from app.calls.models import Call
    from app.numbers.services import inbound_url
    from app.telephony.factory import get_carrier
    from devtools import demo_callers

    now = datetime(2026, 1, 14, 16, 0, tzinfo=UTC)
    campaign_id = demo.seed_demo(now)["campaign_id"]
    pool = demo_callers.set_up_numbers(campaign_id)
    assert pool and set(pool) == {n.phone_number for n in get_carrier().list_numbers()}
    assert {n.voice_url for n in get_carrier().list_numbers()} == {inbound_url()}
    assert demo_callers.set_up_numbers(campaign_id) == pool  # a second start keeps the pool

    rng = random.Random(3)
    assert demo_callers.call_back(placing_sim.api_base_url, campaign_id, now, rng) is None
    contact = db.session.scalars(select(Contact).where(Contact.campaign_id == campaign_id)).first()
    db.session.add(Call(campaign_id=campaign_id, contact_id=contact.id, to_number=contact.phone_e164,
                        from_number=pool[0], outcome="human", status="completed",
                        created_at=now - timedelta(minutes=10)))
    db.session.commit()
    asked = demo_callers.call_back(placing_sim.api_base_url, campaign_id, now, rng)
    assert (asked["From"], asked["To"]) == (contact.phone_e164, pool[0])
    [heard] = [c for c in placing_sim.calls() if c.get("direction") == "inbound"]
    assert (heard["from"], heard["to"]) == (contact.phone_e164, pool[0])
