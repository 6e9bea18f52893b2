"""The `make run` demo: seeded once, only fictional numbers, and something to dial at any hour."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.campaigns.models import PauseCode
from app.auth.services import authenticate
from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode
from app.campaigns.services import STANDARD_DISPOSITIONS
from app.contacts.models import Contact
from app.compliance import gates
from app.dialer.refill import refill
from app.extensions import db
from devtools import demo


@pytest.fixture(autouse=True)
def _leave_redis_empty(redis_client):
    """Refill writes dial queues; tests that use Redis without the `app` fixture expect none."""
    yield
    redis_client.flushdb()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seeding_twice_makes_one_campaign_and_prints_passwords_once(ctx):
    first = demo.seed_demo()
    second = demo.seed_demo()

    assert first["created"] and not second["created"]
    assert first["campaign_id"] == second["campaign_id"]
    assert _count(Campaign, Campaign.name == demo.DEMO_CAMPAIGN) == 1
    cid = first["campaign_id"]
    assert _count(Contact, Contact.campaign_id == cid) == len(demo.demo_contacts()) >= 300
    assert _count(DispositionCode, DispositionCode.campaign_id == cid) == len(STANDARD_DISPOSITIONS)
    assert _count(PauseCode, PauseCode.campaign_id == cid) == 1
    # The newcomer's two users get fresh passwords once; bots' passwords are never handed out.
    assert set(first["passwords"]) == {demo.SUPERVISOR, demo.AGENT}
    assert second["passwords"] == {}
    assert first["bot_ids"] == second["bot_ids"] and len(first["bot_ids"]) == demo.BOT_COUNT
    for username, password in first["passwords"].items():
        assert authenticate(username, password) is not None
    assert authenticate(demo.AGENT, "admin") is None
    assigned = dict(db.session.execute(select(CampaignAssignment.user_id, CampaignAssignment.role)
                                       .where(CampaignAssignment.campaign_id == cid)).all())
    assert assigned[first["supervisor_id"]] == "supervisor"
    assert all(assigned[uid] == "agent" for uid in [first["agent_id"], *first["bot_ids"]])
    campaign = db.session.get(Campaign, cid)
    assert (campaign.status, campaign.dial_mode) == ("active", "predictive")


def test_passwords_are_fresh_random_strings(ctx):
    passwords = demo.seed_demo()["passwords"]
    assert len(set(passwords.values())) == 2
    assert all(len(p) >= 20 and p not in ("admin", "password", "demo") for p in passwords.values())


def test_every_number_is_in_a_reserved_fictional_range(ctx):
    demo.seed_demo()
    numbers = db.session.scalars(select(Contact.phone_e164).join(Campaign).where(
        Campaign.name == demo.DEMO_CAMPAIGN)).all()
    assert numbers and all(demo.is_fictional(n) for n in numbers)
    assert demo.is_fictional(demo.CALLER_ID)
    # The patterns themselves refuse real-looking numbers.
    for real in ("+12125551234", "+12125550200", "+442079461000", "+447700901000", "+61255510000"):
        assert not demo.is_fictional(real)


@pytest.mark.parametrize("hour", [0, 3, 6, 9, 12, 15, 18, 21, 23])
@pytest.mark.parametrize("month", [1, 7])  # both sides of daylight saving, north and south
def test_some_contacts_are_inside_calling_hours_at_any_hour(ctx, hour, month):
    seeded = demo.seed_demo()
    now = datetime(2026, month, 14, hour, 30, tzinfo=timezone.utc)
    campaign = db.session.get(Campaign, seeded["campaign_id"])
    window = gates.Window.for_campaign(campaign.window_start, campaign.window_end)
    inside = [c for c in demo.demo_contacts()
              if gates.inside_window(now, gates.candidate_zones(c["timezone"], c["phone_e164"]), window)]
    outside = len(demo.demo_contacts()) - len(inside)
    assert len(inside) >= 30 and outside > 0
    # The real refill query (SQL time-zone arithmetic) agrees: the queue fills at that hour.
    assert refill(seeded["campaign_id"], agents_signed_in=6, now=now)["added"] > 0


def test_refill_holds_back_contacts_outside_their_local_hours(ctx):
    seeded = demo.seed_demo()
    now = datetime(2026, 1, 14, 3, 0, tzinfo=timezone.utc)  # 03:00 London, 22:00 New York
    refill(seeded["campaign_id"], agents_signed_in=50, now=now)
    from app.common.redis import get_redis
    from app.dialer.hopper import ready_key

    queued = {int(i) for i in get_redis().zrange(ready_key(seeded["campaign_id"]), 0, -1)}
    zones = dict(db.session.execute(select(Contact.id, Contact.timezone).where(Contact.id.in_(queued))).all())
    assert queued and "Europe/London" not in zones.values() and "America/New_York" not in zones.values()
