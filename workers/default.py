"""Tasks on the `default` queue: imports and housekeeping."""
import logging

from celery import shared_task

from app.common import tasks

log = logging.getLogger(__name__)


@shared_task(name="workers.default.ping")
def ping() -> str:
    """Round-trip check used by ops and the test suite to prove a worker is consuming."""
    return "pong"


@shared_task(name=tasks.IMPORT_CONTACTS, acks_late=True)
def import_contacts(job_id: int) -> None:
    """Import a stored contacts CSV. Safe to rerun: a finished job is left alone, a half-run one restarts."""
    from app.contacts.importer import run_contact_import

    run_contact_import(job_id)


@shared_task(name=tasks.IMPORT_DNC, acks_late=True)
def import_dnc(job_id: int) -> None:
    """Import a stored do-not-call CSV (adding numbers is idempotent)."""
    from app.dnc.importer import run_dnc_import

    run_dnc_import(job_id)


@shared_task(name="workers.default.disconnect_silent_agents")
def disconnect_silent_agents() -> int:
    """Beat, every 5 seconds: agents whose console stopped its heartbeat are taken out of ready."""
    from app.agents.reservations import disconnect_silent_agents as sweep

    return len(sweep())


@shared_task(name="workers.default.release_due_callbacks")
def release_due_callbacks() -> int:
    """Beat, every 30 seconds: callbacks whose time has come are announced and dialled first."""
    from app.interactions.callbacks import release_due

    return release_due()


@shared_task(name="workers.default.close_forgotten_wrap_ups")
def close_forgotten_wrap_ups() -> int:
    """Beat, every 30 seconds: wrap-ups nobody will finish are closed and their contacts scheduled."""
    from app.interactions.services import close_forgotten_wrap_ups as close

    return len(close())


@shared_task(name="workers.default.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str:
    """POST webhook deliveries to their CRM endpoints: this one and whatever else is due, in
    batches, concurrently (app.outbound_hooks.courier; a failure schedules the next try).

    Safe to run twice: deliveries are claimed atomically, and one not pending or not due is
    left alone."""
    from app.outbound_hooks.services import deliver

    return deliver(delivery_id)


@shared_task(name="workers.default.send_due_webhooks")
def send_due_webhooks() -> int:
    """Beat, every 15 seconds: queue webhook deliveries whose retry time has come."""
    from app.outbound_hooks.services import send_due

    return send_due()


@shared_task(name="workers.default.assess_number_health")
def assess_number_health() -> list[str]:
    """Beat, every 15 minutes: each number's answer rate against its pool; rests the ones well
    below it (app.numbers.health); and every number our calls show answers its callers (a pool
    or a campaign's caller ID changed since, or the carrier refused last time)."""
    from app.numbers.health import assess_numbers
    from app.numbers.services import answer_calls_here

    try:
        refused = answer_calls_here()
    except Exception:  # noqa: BLE001 - the health check runs whatever the carrier said
        log.exception("could not point the numbers our calls show at Omnivox")
    else:
        if refused:
            log.warning("%s", refused)
    return assess_numbers()
