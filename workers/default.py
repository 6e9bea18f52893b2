"""Tasks on the `default` queue: imports and housekeeping."""
from celery import shared_task


@shared_task(name="workers.default.ping")
def ping() -> str:
    """Round-trip check used by ops and the test suite to prove a worker is consuming."""
    return "pong"


@shared_task(name="workers.default.disconnect_silent_agents")
def disconnect_silent_agents() -> int:
    """Beat, every 5 seconds: agents whose console stopped its heartbeat are taken out of ready."""
    from app.agents.routing import disconnect_silent_agents as sweep

    return len(sweep())
