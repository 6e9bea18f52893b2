"""Tasks on the `telephony` queue: stored carrier callbacks become call state."""
from celery import shared_task

from app.common import tasks

from app.calls import state
from app.extensions import db
from app.telephony import inbox


def _apply(event_id: int) -> None:
    try:
        state.process_call_event(event_id)
    except Exception:
        db.session.rollback()
        raise


@shared_task(name=tasks.DRAIN_CALL_EVENTS)
def drain_call_events() -> int:
    """Apply the callbacks queued in the inbox (see app.telephony.inbox); woken by the webhooks."""
    return inbox.drain(_apply)


@shared_task(name="workers.telephony.process_call_event")
def process_call_event(event_id: int) -> None:
    """Apply one stored callback (messages queued by an older release still arrive here)."""
    state.process_call_event(event_id)


@shared_task(name=tasks.MACHINE_ANSWERED)
def machine_answered(call_sid: str, campaign_id: int | None = None) -> None:
    """Asynchronous detection found a machine on a call already routed: leave the campaign's
    message or hang up (a REST update; the call leaves the agent's conference). The call says
    which campaign it is; `campaign_id` is kept for messages sent with it."""
    state.act_on_machine(call_sid)


@shared_task(name=tasks.ABANDON_STRANDED_CALL)
def abandon_stranded_call(call_id: int) -> None:
    """The person was bridged to a room whose agent's audio had just gone: they hear the
    safe-harbour message rather than wait alone."""
    state.play_safe_harbour(call_id)


@shared_task(name=tasks.CHECK_AGENT_LEG)
def check_agent_leg(agent_id: int) -> None:
    """A person found the agent's room empty: ask the carrier whether the agent's leg is over
    (its final status may have been lost), and if so take the agent out of ready."""
    from app.agents.audio import check_leg

    check_leg(agent_id)


@shared_task(name=tasks.HANG_UP_CALL)
def hang_up_call(call_sid: str, room_sid: str | None = None, cancel_only: bool = False) -> None:
    """End a leg (an agent's audio at sign-off; a replaced connection, with its room kept up),
    or cancel a call still ringing (`cancel_only`: an answered one is left alone)."""
    from app.agents.audio import hang_up_now

    hang_up_now(call_sid, room_sid, cancel_only=cancel_only)


@shared_task(name=tasks.START_RECORDING)
def start_recording(call_id: int) -> None:
    """An agent has just been connected on a call of a recording campaign: record it from now
    (two channels), a REST request kept off the 2-second answer path."""
    from app.calls.recordings import start_for_call

    start_for_call(call_id)


@shared_task(name="workers.telephony.sweep_recording_retention")
def sweep_recording_retention() -> int:
    """Beat, hourly: recordings past their campaign's retention period are deleted at the
    carrier (calls on legal hold keep theirs); idempotent."""
    from app.calls.recordings import sweep_retention

    return sweep_retention()


@shared_task(name="workers.telephony.sweep_unprocessed_events")
def sweep_unprocessed_events() -> int:
    """Beat: callbacks whose hand-off was lost (broker down, worker killed) still get applied,
    and a non-empty inbox always has a drainer on its way."""
    if inbox.depth():
        inbox.wake_drainer()
    return state.sweep_unprocessed_events()


@shared_task(name="workers.telephony.hand_waiting_callers")
def hand_waiting_callers() -> int:
    """Beat, every second: callers waiting in a campaign's queue are taken, mid-message, by the
    agents who freed up (a REST redirect into the agent's room)."""
    from app.dialer.inbound import hand_all_waiting_callers

    return hand_all_waiting_callers()


@shared_task(name="workers.telephony.expire_agent_reservations")
def expire_agent_reservations() -> int:
    """Beat, every second: reservations the voice webhook never confirmed return their agent to ready."""
    from app.agents.reservations import expire_stale_reservations

    return len(expire_stale_reservations())
