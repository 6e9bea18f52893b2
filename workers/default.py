"""Tasks on the `default` queue: imports and housekeeping."""
from celery import shared_task


@shared_task(name="workers.default.ping")
def ping() -> str:
    """Round-trip check used by ops and the test suite to prove a worker is consuming."""
    return "pong"
