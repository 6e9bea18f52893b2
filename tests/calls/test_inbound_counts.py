"""Calls to our numbers are no dials: the law's abandonment rate (of outbound calls answered by
a person) and the campaign's dialling figures leave them out, from the raw calls and from the
rollups alike."""
from app.extensions import db
from app.kpi import rollup
from app.kpi.services import abandon_rate_30d
from tests.kpi import factories as f

NOW = f.utc(2026, 3, 2, 15, 0)


def test_calls_to_us_count_neither_for_the_abandonment_rate_nor_as_calls_placed(ctx):
    cid = f.campaign().id
    f.call(cid, f.utc(2026, 3, 1, 14, 0), outcome="human", abandoned=True)
    f.call(cid, f.utc(2026, 3, 1, 14, 5), outcome="human")
    for minute in (10, 20, 30):  # callers who reached an agent: answered by a person, never dialled
        f.call(cid, f.utc(2026, 3, 1, 14, minute), outcome="human").direction = "inbound"
    db.session.flush()
    assert abandon_rate_30d(cid, NOW) == (1, 2, 0.5)
    rollup.run_rollup(NOW)
    assert abandon_rate_30d(cid, NOW) == (1, 2, 0.5)
    placed = db.session.execute(db.text(
        "SELECT sum(calls_placed), sum(human_answered) FROM kpi_rollups "
        "WHERE campaign_id = :c AND granularity = 'day' AND agent_id IS NULL"), {"c": cid}).one()
    assert tuple(placed) == (2, 2)
