"""Each KPI against hand-computed values; incremental, idempotent and local-midnight correct."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.kpi import rollup
from app.kpi.definitions import derive
from app.kpi.models import KpiRollup
from tests.kpi import factories as f
from tests.kpi.conftest import NOW
from tests.kpi.factories import utc


def row(campaign_id, granularity, bucket_start, agent_id=None) -> dict:
    r = db.session.scalar(select(KpiRollup).where(
        KpiRollup.campaign_id == campaign_id, KpiRollup.granularity == granularity,
        KpiRollup.bucket_start == bucket_start,
        KpiRollup.agent_id.is_(None) if agent_id is None else KpiRollup.agent_id == agent_id))
    assert r is not None, (granularity, bucket_start, agent_id)
    return derive({c.name: getattr(r, c.name) for c in KpiRollup.__table__.columns})


def snapshot() -> list[tuple]:
    return [tuple(r) for r in db.session.execute(text("SELECT * FROM kpi_rollups ORDER BY id"))]


def values() -> list[str]:
    """Every rollup row's key and values, without id and computed_at, in key order."""
    cols = [c.name for c in KpiRollup.__table__.columns if c.name not in ("id", "computed_at")]
    return sorted(repr(tuple(r)) for r in db.session.execute(text(f"SELECT {', '.join(cols)} FROM kpi_rollups")))


def test_hour_row_has_every_call_interaction_and_agent_kpi(scenario):
    rollup.run_rollup(NOW)
    k = row(scenario.campaign.id, "hour", utc(2026, 3, 2, 14))
    # c1-c4 are terminal; c5 is still in progress and not counted yet
    assert (k["calls_placed"], k["answered"], k["human_answered"], k["machine_answered"], k["abandoned"]) == \
        (4, 3, 2, 1, 1)
    assert k["abandon_rate"] == pytest.approx(0.5)
    assert k["avg_ring_seconds"] == pytest.approx((10 + 6 + 20 + 30) / 4)
    # three finished interactions: talk 210, wrap 60
    assert (k["handled"], k["talk_seconds"], k["wrap_seconds"]) == (3, 210, 60)
    assert k["avg_handle_seconds"] == pytest.approx(90)
    assert (k["contacts_reached"], k["sales"], k["conversion"]) == (2, 1, pytest.approx(0.5))
    assert k["dispositions"] == {"SALE": 1, "NI": 1, "NOANS": 1}
    # a1 in 14:00-15:00: ready 6+11+15 min, on-call 2+10, wrap-up 1, paused 15
    assert k["signed_in_seconds"] == pytest.approx(3600)
    assert k["paused_seconds"] == pytest.approx(900)
    assert k["occupied_seconds"] == pytest.approx(780)
    assert k["occupancy"] == pytest.approx(780 / 2700)
    assert k["talk_minutes_per_agent_hour"] == pytest.approx(3.5)
    assert k["contacts_per_hour"] == pytest.approx(2)
    assert k["pause_by_code"] == {"BREAK": pytest.approx(900)}


def test_agent_rows_hold_only_that_agents_work(scenario):
    rollup.run_rollup(NOW)
    a1 = row(scenario.campaign.id, "hour", utc(2026, 3, 2, 14), scenario.a1.id)
    assert (a1["calls_placed"], a1["human_answered"], a1["handled"], a1["talk_seconds"]) == (1, 1, 2, 180)
    assert a1["occupancy"] == pytest.approx(780 / 2700)
    a2 = row(scenario.campaign.id, "hour", utc(2026, 3, 2, 14), scenario.a2.id)
    assert (a2["calls_placed"], a2["handled"], a2["signed_in_seconds"]) == (0, 1, 0)
    assert a2["dispositions"] == {"NOANS": 1}


def test_minute_rows_split_agent_time_across_minutes(scenario):
    rollup.run_rollup(NOW)
    assert row(scenario.campaign.id, "minute", utc(2026, 3, 2, 14, 5))["calls_placed"] == 1
    on_call = row(scenario.campaign.id, "minute", utc(2026, 3, 2, 14, 7))
    assert (on_call["signed_in_seconds"], on_call["occupied_seconds"]) == (60, 60)
    assert row(scenario.campaign.id, "minute", utc(2026, 3, 2, 13, 59))["signed_in_seconds"] == 60


def test_day_rows_start_at_local_midnight(scenario):
    rollup.run_rollup(NOW)
    march_1 = row(scenario.campaign.id, "day", utc(2026, 3, 1, 5))  # 1 March 00:00 EST
    assert (march_1["calls_placed"], march_1["human_answered"]) == (1, 1)  # c6, 23:30 local
    march_2 = row(scenario.campaign.id, "day", utc(2026, 3, 2, 5))
    assert (march_2["calls_placed"], march_2["answered"], march_2["handled"]) == (5, 3, 3)  # c1-c4, c7
    assert march_2["avg_ring_seconds"] == pytest.approx((10 + 6 + 20 + 30 + 2) / 5)
    assert march_2["signed_in_seconds"] == pytest.approx(5400)


def test_day_across_the_dst_change_has_23_hours(ctx):
    camp = f.campaign(tz="America/New_York")
    f.call(camp.id, utc(2026, 3, 8, 5, 0), outcome="human")    # 00:00 EST, first second of 8 March
    f.call(camp.id, utc(2026, 3, 9, 3, 59), outcome="human")   # 23:59 EDT, still 8 March
    f.call(camp.id, utc(2026, 3, 9, 4, 0), outcome="machine")  # 00:00 EDT, 9 March
    rollup.run_rollup(utc(2026, 3, 10))
    assert row(camp.id, "day", utc(2026, 3, 8, 5))["calls_placed"] == 2
    assert row(camp.id, "day", utc(2026, 3, 9, 4))["machine_answered"] == 1


def test_half_hour_zone_days_split_an_hour_at_local_midnight(ctx, users):
    agent = users.create("agent")
    camp = f.campaign(tz="Asia/Kolkata")  # midnight is 18:30Z
    f.call(camp.id, utc(2026, 3, 1, 18, 10), outcome="human")
    f.call(camp.id, utc(2026, 3, 1, 18, 40), outcome="machine")
    f.states(agent.id, camp.id, (utc(2026, 3, 1, 18, 0), "ready"), (utc(2026, 3, 1, 19, 0), "offline"))
    rollup.run_rollup(utc(2026, 3, 3))
    first = row(camp.id, "day", utc(2026, 2, 28, 18, 30))
    second = row(camp.id, "day", utc(2026, 3, 1, 18, 30))
    assert (first["calls_placed"], first["human_answered"], first["signed_in_seconds"]) == (1, 1, 1800)
    assert (second["calls_placed"], second["machine_answered"], second["signed_in_seconds"]) == (1, 1, 1800)
    assert row(camp.id, "hour", utc(2026, 3, 1, 18))["calls_placed"] == 2


def test_a_rerun_changes_nothing(scenario):
    rollup.run_rollup(NOW)
    first = snapshot()
    assert first
    rollup.run_rollup(NOW)
    assert snapshot() == first  # same ids, values and computed_at: nothing was written
    rollup.recompute_hours({(scenario.campaign.id, utc(2026, 3, 2, h)) for h in range(24)}, NOW)
    assert snapshot() == first


def test_late_and_changed_calls_are_picked_up_and_match_a_full_recompute(scenario):
    camp = scenario.campaign
    rollup.run_rollup(NOW)
    later = NOW + timedelta(minutes=1)
    c5 = scenario.calls.c5
    c5.status, c5.ended_at, c5.ring_seconds = "completed", later, 8.0  # the ORM bumps updated_at
    f.call(camp.id, utc(2026, 2, 15, 12), outcome="human", abandoned=True)  # arrives a fortnight late
    rollup.run_rollup(later)
    assert row(camp.id, "hour", utc(2026, 3, 2, 14))["calls_placed"] == 5
    assert row(camp.id, "day", utc(2026, 2, 15, 5))["abandoned"] == 1
    incremental = values()
    rollup.full_recompute(later)
    assert values() == incremental


def test_only_touched_buckets_are_rewritten(scenario):
    camp = scenario.campaign
    rollup.run_rollup(NOW)
    march_1 = db.session.scalar(select(KpiRollup.computed_at).where(
        KpiRollup.campaign_id == camp.id, KpiRollup.granularity == "day", KpiRollup.bucket_start == utc(2026, 3, 1, 5)))
    db.session.execute(text("SELECT pg_sleep(0.01)"))
    f.call(camp.id, utc(2026, 3, 2, 14, 45), outcome="human")
    rollup.run_rollup(NOW)
    rows = {(r.granularity, r.bucket_start): r for r in db.session.scalars(
        select(KpiRollup).where(KpiRollup.campaign_id == camp.id, KpiRollup.agent_id.is_(None)))}
    assert rows[("day", utc(2026, 3, 1, 5))].computed_at == march_1
    assert rows[("hour", utc(2026, 3, 2, 14))].calls_placed == 5


def test_purge_keeps_hours_and_days(scenario):
    rollup.run_rollup(NOW)
    assert rollup.purge_minute_rollups(NOW + timedelta(days=5)) > 0
    assert row(scenario.campaign.id, "hour", utc(2026, 3, 2, 14))["calls_placed"] == 4


def test_a_late_agent_state_change_splits_the_interval_it_lands_in(scenario):
    camp, a1 = scenario.campaign, scenario.a1
    rollup.run_rollup(NOW)
    # arrives after the run, dated 14:30: a1 came back from the break five minutes early
    f.states(a1.id, camp.id, (utc(2026, 3, 2, 14, 30), "ready"))
    rollup.run_rollup(NOW)
    k = row(camp.id, "hour", utc(2026, 3, 2, 14))
    assert k["paused_seconds"] == pytest.approx(600)
    assert k["pause_by_code"] == {"BREAK": pytest.approx(600)}
    assert row(camp.id, "minute", utc(2026, 3, 2, 14, 32))["paused_seconds"] == 0
    incremental = values()
    rollup.full_recompute(NOW)
    assert values() == incremental


def test_late_interactions_and_new_dispositions_are_picked_up(scenario):
    camp, a2 = scenario.campaign, scenario.a2
    rollup.run_rollup(NOW)
    f.interaction(camp.id, a2.id, utc(2026, 2, 20, 16), 100, 20, scenario.sale)  # a week late
    rollup.run_rollup(NOW)
    day = row(camp.id, "day", utc(2026, 2, 20, 5))
    assert (day["handled"], day["sales"], day["dispositions"]) == (1, 1, {"SALE": 1})
    assert row(camp.id, "day", utc(2026, 2, 20, 5), a2.id)["avg_handle_seconds"] == pytest.approx(120)


def test_a_full_recompute_leaves_the_rollup_indexes_as_they_were(scenario):
    """It drops and rebuilds them around its bulk load; readers and upserts rely on every one."""
    definitions = text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'kpi_rollups' "
                       "ORDER BY indexname")
    before = db.session.execute(definitions).all()
    assert len(before) == 3  # primary key, the unique key, the per-agent index
    rollup.full_recompute(NOW)
    assert db.session.execute(definitions).all() == before
    first = values()
    rollup.run_rollup(NOW)  # an upsert on the unique key: fails without it
    assert values() == first


def test_a_days_parts_are_never_split_across_statements(ctx, users, monkeypatch):
    """A half-hour zone's day is its hour rows plus two partial hours from source: three items
    that must land in one statement, whatever the batch size (a split wrote the day twice)."""
    camp = f.campaign(tz="Asia/Kolkata")  # local midnight is 18:30 UTC
    for day in range(1, 9):
        f.call(camp.id, utc(2026, 2, day, 18, 10), outcome="human", ring=5)  # 23:40 local
        f.call(camp.id, utc(2026, 2, day, 18, 40), outcome="machine", ring=7)  # 00:10 next day
        f.call(camp.id, utc(2026, 2, day, 21, 0), status="busy", outcome="busy", ring=3)
    rollup.full_recompute(NOW)
    whole = values()
    for batch in (1, 2, 4):
        monkeypatch.setattr(rollup, "BATCH", batch)
        rollup.full_recompute(NOW)
        assert values() == whole
        db.session.execute(text("DELETE FROM kpi_rollups WHERE granularity = 'day'"))
        rollup.recompute_hours({(camp.id, utc(2026, 2, d, h)) for d in range(1, 9) for h in (18, 21)}, NOW)
        assert values() == whole
    day = row(camp.id, "day", utc(2026, 2, 2, 18, 30))  # 3 Feb local: 00:10 machine + 02:30 busy + 23:40 human
    assert (day["calls_placed"], day["human_answered"], day["machine_answered"]) == (3, 1, 1)
