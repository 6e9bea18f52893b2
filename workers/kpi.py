"""Tasks on the `kpi` queue: the scheduled KPI rollup and the minute-row purge."""
from celery import shared_task

from app.common.timeutil import utcnow
from app.extensions import db
from app.kpi import rollup, services


@shared_task(name="workers.kpi.roll_up_kpis", ignore_result=True)
def roll_up_kpis() -> int:
    """Recompute the buckets new call data touched, commit, then push each campaign's figures."""
    now = utcnow()
    touched = rollup.run_rollup(now)
    db.session.commit()
    services.publish_figures(touched, now)
    db.session.rollback()
    return len(touched)


@shared_task(name="workers.kpi.purge_minute_rollups", ignore_result=True)
def purge_minute_rollups() -> int:
    deleted = rollup.purge_minute_rollups()
    db.session.commit()
    return deleted
