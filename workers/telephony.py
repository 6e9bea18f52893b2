"""Tasks on the `telephony` queue."""
from celery import shared_task


@shared_task(name="workers.telephony.expire_agent_reservations")
def expire_agent_reservations() -> int:
    """Beat, every second: reservations the voice webhook never confirmed return their agent to ready."""
    from app.agents.routing import expire_stale_reservations

    return len(expire_stale_reservations())
