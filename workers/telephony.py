"""Tasks on the `telephony` queue: stored carrier callbacks become call state."""
from celery import shared_task

from app.calls import state


@shared_task(name="workers.telephony.process_call_event")
def process_call_event(event_id: int) -> None:
    state.process_call_event(event_id)


@shared_task(name="workers.telephony.sweep_unprocessed_events")
def sweep_unprocessed_events() -> int:
    """Beat: callbacks whose task never ran (broker down when they arrived) still get applied."""
    return state.sweep_unprocessed_events()


@shared_task(name="workers.telephony.expire_agent_reservations")
def expire_agent_reservations() -> int:
    """Beat, every second: reservations the voice webhook never confirmed return their agent to ready."""
    from app.agents.routing import expire_stale_reservations

    return len(expire_stale_reservations())
