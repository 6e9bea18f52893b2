"""Sending Celery tasks by name: the one way code under app/ hands work to a worker pool.

Nothing under app/ imports workers/ (the task modules import app/, never the other way).
A task is named by the constant below, sent with `send`, and routed to its pool by the
`workers.<queue>.*` prefix (config.CELERY["task_routes"]). Tests capture what was sent with the
`sent_tasks` fixture instead of hooks in production signatures.
"""
from __future__ import annotations

from flask import current_app

# dial pool
DIAL_CONTACT = "workers.dial.dial_contact"
PLACE_CALL = "workers.dial.place_call"
# telephony pool
DRAIN_CALL_EVENTS = "workers.telephony.drain_call_events"
MACHINE_ANSWERED = "workers.telephony.machine_answered"
ABANDON_STRANDED_CALL = "workers.telephony.abandon_stranded_call"
CHECK_AGENT_LEG = "workers.telephony.check_agent_leg"
HANG_UP_CALL = "workers.telephony.hang_up_call"
START_RECORDING = "workers.telephony.start_recording"
# default pool
IMPORT_CONTACTS = "workers.default.import_contacts"
IMPORT_DNC = "workers.default.import_dnc"


def send(name: str, *args, countdown: float | None = None) -> None:
    """Queue task `name` with positional `args` (ids and plain values: JSON only)."""
    options = {} if countdown is None else {"countdown": countdown}
    current_app.extensions["celery"].send_task(name, args=list(args), **options)
