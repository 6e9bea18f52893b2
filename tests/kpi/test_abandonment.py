"""Rolling 30-day abandonment: the window crosses months, day rollups plus the live tail."""
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.extensions import db
from app.kpi import rollup
from app.kpi.queries import abandon_counts_many
from app.kpi.services import abandon_rate_30d
from tests.kpi import factories as f
from tests.kpi.conftest import NOW
from tests.kpi.factories import utc


@pytest.fixture
def month_crossing(scenario):
    """Calls from late January to early March; NOW - 30 days is 2026-01-31 15:00Z."""
    cid = scenario.campaign.id
    f.call(cid, utc(2026, 1, 31, 14, 59), outcome="human", abandoned=True)   # a minute too old
    f.call(cid, utc(2026, 1, 31, 15, 0), outcome="human", abandoned=True)    # first instant inside
    f.call(cid, utc(2026, 1, 31, 15, 30), outcome="human")
    f.call(cid, utc(2026, 2, 1, 3, 0), outcome="human")                      # 31 Jan 22:00 in New York
    f.call(cid, utc(2026, 2, 15, 12, 0), outcome="human", abandoned=True)
    f.call(cid, utc(2026, 2, 28, 23, 0), outcome="human")
    f.call(cid, utc(2026, 3, 1, 10, 0), outcome="machine")
    f.call(cid, utc(2026, 3, 2, 14, 59), status="in-progress", outcome="human", abandoned=True)
    return cid


# By hand, inside [2026-01-31 15:00Z, 2026-03-02 15:00Z): human answers 1/31 15:00, 1/31 15:30, 2/1 03:00,
# 2/15, 2/28, 3/2 04:30 (c6), c1, c2, c5 and 3/2 14:59 = 10; abandoned 1/31 15:00, 2/15, c2, 3/2 14:59 = 4.
EXPECTED = (4, 10, 0.4)


def test_thirty_days_across_months_before_any_rollup(month_crossing):
    assert abandon_rate_30d(month_crossing, NOW) == EXPECTED


def test_thirty_days_from_rollups_and_the_tail_agree_with_the_raw_count(month_crossing):
    rollup.run_rollup(NOW)
    assert abandon_rate_30d(month_crossing, NOW) == EXPECTED
    # the day rollups are really used: a rollup-only figure would miss a call that bypassed them
    db.session.execute(text("UPDATE kpi_rollups SET abandoned = abandoned + 100 "
                            "WHERE campaign_id = :c AND granularity = 'day' AND bucket_start = :d AND agent_id IS NULL"),
                       {"c": month_crossing, "d": utc(2026, 2, 15, 5)})
    abandoned, human, _ = abandon_rate_30d(month_crossing, NOW)
    assert (abandoned, human) == (104, 10)


def test_the_window_slides(month_crossing):
    rollup.run_rollup(NOW)
    later = NOW + timedelta(days=14, hours=1)  # 2026-02-14 16:00Z onwards: drops the January calls
    abandoned, human, rate = abandon_rate_30d(month_crossing, later)
    # 2/15 (abandoned), 2/28, c6, c1, c2 (abandoned), c5 and 3/2 14:59 (abandoned, both still live)
    assert (abandoned, human) == (3, 7)
    assert rate == pytest.approx(3 / 7)


def test_many_campaigns_in_one_query_each_read_by_its_own_time_zone(month_crossing):
    # /metrics asks for every live campaign at once: each keeps its own time zone's day rollups
    # (Kolkata's days do not start on a UTC hour, so its window is read from hour rows).
    kolkata = f.campaign(tz="Asia/Kolkata").id
    f.call(kolkata, utc(2026, 1, 31, 14, 0), outcome="human", abandoned=True)  # before the window
    f.call(kolkata, utc(2026, 2, 10, 12, 0), outcome="human", abandoned=True)
    f.call(kolkata, utc(2026, 2, 20, 12, 0), outcome="human")
    f.call(kolkata, utc(2026, 3, 2, 14, 0), outcome="machine")
    rollup.run_rollup(NOW)
    counts = abandon_counts_many([month_crossing, kolkata, 999999], NOW - timedelta(days=30), NOW)
    assert counts == {month_crossing: EXPECTED[:2], kolkata: (1, 2)}
    # Marked day rows: New York's window reads its day rows, Kolkata's its hour rows only. Read
    # by the other's zone, each count would move the other way.
    db.session.execute(text("UPDATE kpi_rollups SET human_answered = human_answered + 50 "
                            "WHERE campaign_id IN (:a, :b) AND agent_id IS NULL AND granularity = 'day'"),
                       {"a": month_crossing, "b": kolkata})
    assert db.session.scalar(text("SELECT count(*) FROM kpi_rollups WHERE campaign_id = :b "
                                  "AND granularity = 'day'"), {"b": kolkata}) > 0
    counts = abandon_counts_many([month_crossing, kolkata], NOW - timedelta(days=30), NOW)
    assert counts[kolkata] == (1, 2) and counts[month_crossing][1] > EXPECTED[1]


def test_a_campaign_with_no_human_answers_has_no_rate(ctx):
    camp = f.campaign()
    f.call(camp.id, utc(2026, 3, 1), outcome="machine")
    assert abandon_rate_30d(camp.id, NOW) == (0, 0, None)
    assert abandon_rate_30d(999999, NOW) == (0, 0, None)
