"""Today's abandonment counts the same calls the same way as the 30-day figure (issue 20, bug 3).

On a campaign's first day the wallboard showed today's base smaller than the 30-day base (87
against 91): today's figure came from the day rollup alone, which lags the last rollup run and
holds terminal calls only, while the 30-day figure adds the calls since the rollups' boundary
and those still live. On the first day both windows hold the same calls: the bases are equal.
"""
from sqlalchemy import update

from app.campaigns.models import Campaign
from app.extensions import db
from app.kpi import queries, rollup
from app.kpi.services import abandon_rate_30d, headline
from app.web.wallboard import wallboard
from tests.kpi import factories as f
from tests.kpi.factories import utc

# 14:00 in Los Angeles (PST, UTC-8) on the campaign's first day, which began at 08:00Z there.
NOW = utc(2026, 3, 2, 22, 0)


def _first_day(cid: int) -> None:
    f.call(cid, utc(2026, 3, 2, 16, 10), outcome="human")
    f.call(cid, utc(2026, 3, 2, 16, 20), outcome="human", abandoned=True)
    f.call(cid, utc(2026, 3, 2, 17, 5), outcome="machine")
    f.call(cid, utc(2026, 3, 2, 18, 30), outcome="human")
    f.call(cid, utc(2026, 3, 2, 19, 58), status="in-progress", outcome="human")  # live over the rollup
    rollup.run_rollup(utc(2026, 3, 2, 20, 0))
    f.call(cid, utc(2026, 3, 2, 20, 30), outcome="human", abandoned=True)        # since the last run
    f.call(cid, utc(2026, 3, 2, 21, 10), status="no-answer", outcome="no-answer")
    f.call(cid, utc(2026, 3, 2, 21, 50), status="in-progress", outcome="human")  # live now


def test_on_the_first_day_today_and_thirty_days_have_the_same_base(ctx, users):
    camp = f.campaign(tz="America/Los_Angeles", started_at=utc(2026, 3, 2, 16, 0))
    _first_day(camp.id)

    # By hand: people answered at 16:10, 16:20, 18:30, 19:58, 20:30 and 21:50; 16:20 and 20:30 abandoned.
    assert abandon_rate_30d(camp.id, NOW)[:2] == (2, 6)
    today = queries.today(camp.id, NOW)
    assert (today["abandoned"], today["human_answered"]) == (2, 6)
    assert today["abandon_rate"] == abandon_rate_30d(camp.id, NOW)[2] == 2 / 6

    # Every place that shows both says the same: the headline (the live campaign.figures event)
    # and the wallboard's tiles.
    figures = headline(db.session.get(Campaign, camp.id), NOW)
    assert (figures["today"]["human_answered"], figures["abandonment_30d"]["human_answered"]) == (6, 6)
    board = wallboard(users.create("admin"), camp.id, NOW)["campaigns"][0]["abandonment"]
    assert (board["today_abandoned"], board["today_human"]) == (board["abandoned_30d"], board["human_30d"]) == (2, 6)


def test_today_still_starts_at_local_midnight(ctx):
    camp = f.campaign(tz="America/Los_Angeles")
    f.call(camp.id, utc(2026, 3, 2, 7, 30), outcome="human", abandoned=True)  # 23:30 on 1 March there
    _first_day(camp.id)
    db.session.execute(update(Campaign).where(Campaign.id == camp.id).values(started_at=utc(2026, 3, 2, 7, 0)))
    today = queries.today(camp.id, NOW)
    assert (today["abandoned"], today["human_answered"]) == (2, 6)
    assert abandon_rate_30d(camp.id, NOW)[:2] == (3, 7)
