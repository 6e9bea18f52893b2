"""Tasks on the `dial` queue."""
from celery import shared_task

from app.calls import dialing


@shared_task(bind=True, name="workers.dial.place_call", max_retries=None, acks_late=True)
def place_call(self, call_id: int) -> str:
    """Place one queued attempt; 429s come back here with backoff, nothing is dropped.

    acks_late is safe: a rerun finds the CallSid (or the callbacks' status) and skips.
    """
    result = dialing.place_call(call_id)
    if result.outcome == "rate_limited":
        if self.request.retries >= dialing.RATE_LIMIT_MAX_RETRIES:
            dialing.give_up(call_id, f"still rate limited after {self.request.retries} retries")
            return "failed"
        raise self.retry(countdown=dialing.backoff_seconds(self.request.retries, result.retry_after))
    return result.outcome
