"""Delivering (the `default` worker): claim due deliveries in batches, POST them concurrently,
record each answer, and settle retries and switched-off endpoints.

One delivery at a time spent most of its time in PostgreSQL (about twelve round trips and two
commits each; docs/benchmarks.md). A courier instead keeps up to THREADS deliveries in flight
on a thread pool, at most PER_ENDPOINT of them to any one endpoint (and one once it is failing),
so an endpoint that hangs or fails holds a few threads for its timeout and the others go on. Each time posts finish, one
transaction records their answers and claims as many due deliveries as there are free threads:

- claiming is one statement: the due rows, oldest first, locked with SKIP LOCKED (another
  worker claims others) and leased by pushing `next_attempt_at` past the request's timeout, so
  a worker that dies mid-request has them tried again by the sweep; it returns the endpoint and
  the event, so nothing else is read before posting;
- the claim commits before the POSTs start: no transaction stays open while a CRM answers;
- recording is one statement too (the deliveries' new state, their attempts logged, and the
  endpoints' last success); only a round with a failure first reads its endpoints, locked, to
  start or end their failing day and switch them off;
- host names are resolved and checked once per batch (transport.Lookups) and connections are
  kept alive per endpoint address (transport.Connections) for the courier's run.

A task delivers whatever is due, so one task serves a burst of commits: a commit that queues
deliveries queues a task only when none is waiting to start (`wake`). A courier stops claiming
after RUN_SECONDS; what is left is the next task's, or the sweep's (`send_due`).

A delivery is tried until it succeeds (2xx) or WEBHOOKS_RETRY_FOR_SECONDS after its event, with
exponential backoff and jitter; an endpoint whose deliveries have all failed for
WEBHOOKS_DISABLE_AFTER_SECONDS is switched off, with an audit entry and the reason shown on the
admin page. Commits here do not wait for the disk (`_no_fsync_wait`).
"""
from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, text, update

from app.audit import services as audit
from app.common import tasks
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.extensions import db
from app.outbound_hooks import secrets, transport
from app.outbound_hooks.events import iso
from app.outbound_hooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

DELIVER = "workers.default.deliver_webhook"
LEASE_SLACK_SECONDS = 60
THREADS = 32  # deliveries in flight per worker process
PER_ENDPOINT = 8  # of which at most this many to one endpoint, and one to an endpoint that is failing
RUN_SECONDS = 30.0  # a courier stops claiming after this long (the next task or the sweep goes on)
WAKE_KEY = "webhooks:deliver-task-queued"  # set while a deliver task is queued and not yet started
WAKE_TTL_SECONDS = 60  # in case that task is lost

# One statement: lock the due deliveries (oldest first, at most `per` in flight per endpoint and
# one while it is failing, skipping rows another worker holds), lease them, and return what
# posting needs.
_CLAIM = text("""
WITH busy AS (
    SELECT * FROM unnest(CAST(:busy_ids AS bigint[]), CAST(:busy_counts AS int[])) AS b(endpoint_id, n)
), picked AS (
    SELECT due.id FROM webhook_endpoints e CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
        WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= :due
        ORDER BY d.next_attempt_at
        LIMIT greatest(0, CASE WHEN e.failing_since IS NULL THEN :per ELSE 1 END
                          - coalesce((SELECT n FROM busy WHERE busy.endpoint_id = e.id), 0))
        FOR UPDATE OF d SKIP LOCKED) due
    ORDER BY due.next_attempt_at LIMIT :free
)
UPDATE webhook_deliveries d SET next_attempt_at = :lease, attempts = d.attempts + 1
FROM picked, webhook_endpoints e, webhook_events ev
WHERE d.id = picked.id AND e.id = d.endpoint_id AND ev.id = d.event_id
RETURNING d.id, d.attempts, d.manual, d.created_at, e.id AS endpoint_id, e.url, e.active,
          e.secret_sealed, ev.public_id, ev.type, ev.body
""")


# One statement: each delivery's new state, its attempt logged (if it was posted: after the
# update, so a delivery deleted meanwhile with its endpoint logs nothing), and, when every answer
# succeeded, the endpoints' last success (their failing day over, unless only tests and
# redeliveries succeeded), locked in id order as every worker locks them.
_SETTLE = text("""
WITH v AS (
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(
        id bigint, status text, finished_at timestamptz, next_attempt_at timestamptz, attempts int,
        answered bool, started timestamptz, status_code int, duration_ms int, error text)
), settled AS (
    UPDATE webhook_deliveries d SET
        status = v.status, finished_at = v.finished_at, next_attempt_at = v.next_attempt_at,
        attempts = v.attempts,
        last_attempt_at = CASE WHEN v.answered THEN v.started ELSE d.last_attempt_at END,
        last_status_code = CASE WHEN v.answered THEN v.status_code ELSE d.last_status_code END,
        last_duration_ms = CASE WHEN v.answered THEN v.duration_ms ELSE d.last_duration_ms END,
        last_error = CASE WHEN v.answered THEN v.error ELSE coalesce(v.error, d.last_error) END
    FROM v WHERE d.id = v.id
    RETURNING d.id
), logged AS (
    INSERT INTO webhook_attempts (delivery_id, attempt_no, at, status_code, duration_ms, error)
    SELECT v.id, v.attempts, v.started, v.status_code, v.duration_ms, v.error
    FROM v JOIN settled ON settled.id = v.id WHERE v.answered
)
UPDATE webhook_endpoints e SET last_success_at = :at,
    failing_since = CASE WHEN e.id = ANY(CAST(:automatic AS bigint[])) THEN NULL ELSE e.failing_since END
WHERE e.id IN (SELECT id FROM webhook_endpoints WHERE id = ANY(CAST(:succeeded AS bigint[]))
               ORDER BY id FOR UPDATE)
""")


def _setting(name: str) -> float:
    return float(current_app.config[name])


@dataclass
class Job:
    """A claimed delivery: what to post, and what settling its answer needs."""

    id: int
    attempt: int
    manual: bool
    created_at: datetime
    endpoint_id: int
    url: str
    active: bool
    secret_sealed: str
    event_public_id: str
    event_type: str
    body: bytes
    started: datetime  # when it was claimed: the attempt's time in the log


@dataclass
class Outcome:
    """How a job ended: an answer (or why none came), or a reason it was not sent at all."""

    result: transport.Result | None = None
    not_sent: str | None = None  # "switched-off" or "no-secret"


def backoff_seconds(attempt: int) -> float:
    """The wait after failed attempt `attempt` (1-based): doubling from the base, capped, with
    jitter (between half and all of it) so that retries of many events do not arrive together."""
    base, cap = _setting("WEBHOOKS_BACKOFF_BASE_SECONDS"), _setting("WEBHOOKS_BACKOFF_MAX_SECONDS")
    delay = min(cap, base * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def deliver(delivery_id: int) -> str:
    """The task: deliver what is due, this delivery among it. Returns what happened to this one,
    in a word ("not-due" when it was not pending and due, or another worker had it).

    The wake-up mark is cleared before claiming: a commit from now on queues another task. A
    run that stopped claiming when its time was up hands what is still due to the next task at
    once, rather than to the sweep up to a quarter of a minute later."""
    get_redis().delete(WAKE_KEY)
    courier = Courier()
    outcomes = courier.run()
    if courier.timed_out:
        send_due()
    return outcomes.get(delivery_id, "not-due")


class Courier:
    """One worker's run: claims, posts and records until nothing is due (or RUN_SECONDS pass)."""

    def __init__(self, threads: int = THREADS, per_endpoint: int = PER_ENDPOINT):
        self.threads, self.per_endpoint = threads, per_endpoint
        self.timeout = _setting("WEBHOOKS_TIMEOUT_SECONDS")
        self.connections = transport.Connections()
        self.secrets: dict[str, str | None] = {}
        self.outcomes: dict[int, str] = {}
        self._retries: list[tuple[int, float]] = []  # (delivery id, countdown) to queue after commit
        self.timed_out = False  # stopped claiming after RUN_SECONDS, work perhaps left

    def run(self) -> dict[int, str]:
        """Deliver until nothing is due; returns each delivery's outcome in a word."""
        stop_claiming_at = time.monotonic() + RUN_SECONDS
        in_flight: dict[Future, Job] = {}
        # One resolution per host name per run (at most RUN_SECONDS and a timeout): each
        # connection is pinned to the address checked, so the guard holds throughout.
        lookups = transport.Lookups()
        try:
            with ThreadPoolExecutor(self.threads, thread_name_prefix="webhook") as pool:
                finished: list[tuple[Job, Outcome]] = []
                while True:
                    claim = time.monotonic() < stop_claiming_at
                    self.timed_out = not claim
                    for job, outcome in self._settle_and_claim(finished, in_flight.values(), claim):
                        if outcome is not None:
                            finished.append((job, outcome))
                        else:
                            in_flight[pool.submit(self._post, job, lookups)] = job
                    if not in_flight and not finished:
                        return self.outcomes
                    if in_flight:
                        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                        finished += [(in_flight.pop(f), f.result()) for f in done]
        finally:
            self.connections.close()

    # --- one transaction per round: record what finished, claim what is due ---------------

    def _settle_and_claim(self, finished: list, in_flight, claim: bool) -> list[tuple[Job, Outcome | None]]:
        wrote = self._settle(finished)
        finished.clear()
        busy = Counter(job.endpoint_id for job in in_flight)
        free = self.threads - sum(busy.values())
        jobs = self._claim(free, busy) if claim and free > 0 else []
        if wrote or jobs:
            _no_fsync_wait()
        db.session.commit()
        self._queue_retries()
        return [(job, self._unsendable(job)) for job in jobs]

    def _claim(self, free: int, busy: Counter) -> list[Job]:
        now = utcnow()
        rows = db.session.execute(_CLAIM, {
            "busy_ids": list(busy), "busy_counts": list(busy.values()), "per": self.per_endpoint,
            "free": free, "due": now + timedelta(seconds=1),
            "lease": now + timedelta(seconds=self.timeout + LEASE_SLACK_SECONDS)}).all()
        return [Job(r.id, r.attempts, r.manual, r.created_at, r.endpoint_id, r.url, r.active, r.secret_sealed,
                    r.public_id, r.type, r.body.encode(), now) for r in rows]

    def _unsendable(self, job: Job) -> Outcome | None:
        """Why a claimed job is not posted at all (None: post it)."""
        if not job.active and not job.manual:
            return Outcome(not_sent="switched-off")
        if self._secret(job.secret_sealed) is None:
            return Outcome(not_sent="no-secret")
        return None

    def _secret(self, sealed: str) -> str | None:
        if sealed not in self.secrets:
            try:
                self.secrets[sealed] = secrets.unseal(sealed)
            except secrets.SealBroken:
                self.secrets[sealed] = None
        return self.secrets[sealed]

    # --- posting (a pool thread; no database) ------------------------------------------------

    def _post(self, job: Job, lookups: transport.Lookups) -> Outcome:
        headers = {secrets.SIGNATURE_HEADER: secrets.signature(self.secrets[job.secret_sealed], job.body),
                   "Omnivox-Event-Id": job.event_public_id, "Omnivox-Event-Type": job.event_type,
                   "Omnivox-Delivery-Id": str(job.id), "Omnivox-Attempt": str(job.attempt)}
        return Outcome(result=transport.post(job.url, job.body, headers, self.timeout, lookups=lookups,
                                             connections=self.connections))

    # --- settling (inside the round's transaction) -------------------------------------------

    def _settle(self, finished: list[tuple[Job, Outcome]]) -> bool:
        """Record the answers of `finished` (one statement, plus the endpoints' bookkeeping);
        returns whether anything was written."""
        if not finished:
            return False
        at = utcnow()
        if all(outcome.result is not None and outcome.result.ok for _, outcome in finished):
            endpoints = None  # every answer a success: the endpoints are updated in the statement
        else:  # a failure may start an endpoint's failing day or end it: read them, locked
            endpoint_ids = sorted({job.endpoint_id for job, _ in finished})  # one lock order for all
            endpoints = {e.id: e for e in db.session.scalars(select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_(endpoint_ids)).order_by(WebhookEndpoint.id).with_for_update())}
        rows = []
        for job, outcome in finished:
            endpoint = None if endpoints is None else endpoints.get(job.endpoint_id)
            if endpoints is not None and endpoint is None:  # deleted meanwhile, its deliveries with it
                continue
            row, word = self._settle_one(job, outcome, endpoint, at)
            rows.append(row)
            self.outcomes[job.id] = word
        succeeded = sorted({job.endpoint_id for job, _ in finished}) if endpoints is None else []
        automatic = sorted({job.endpoint_id for job, _ in finished if not job.manual}) if endpoints is None else []
        db.session.execute(_SETTLE, {"rows": json.dumps(rows, default=str), "at": at,
                                     "succeeded": succeeded, "automatic": automatic})
        # After the round's rows: a delivery of the endpoint set to retry earlier in the round
        # is failed with the rest of its queue, not written back as pending afterwards.
        for endpoint in (endpoints or {}).values():
            if not endpoint.active and endpoint.disabled_at == at:
                _fail_pending(endpoint.id, at)
        return True

    def _settle_one(self, job: Job, outcome: Outcome, endpoint: WebhookEndpoint | None,
                    at: datetime) -> tuple[dict, str]:
        """The delivery's new state, as a row of _SETTLE, and what happened in a word. `endpoint`
        (locked) is given when any answer in the round failed; None means every one succeeded."""
        if outcome.not_sent == "switched-off":
            return _row(job, "failed", at, attempts=job.attempt - 1,
                        error="Not sent: the endpoint is switched off."), "switched-off"
        if outcome.not_sent == "no-secret":
            return _row(job, "failed", at, error="Not sent: the signing secret cannot be read (was "
                                                 "SECRET_KEY changed?). Create the endpoint again."), "failed"
        result = outcome.result
        if result.ok:
            if endpoint is not None:
                endpoint.last_success_at = at
                if not job.manual:
                    endpoint.failing_since = None
            return _row(job, "succeeded", at, result=result), "succeeded"
        endpoint.last_failure_at = at
        if not job.manual:
            _count_failure(endpoint, job, at, result)
        deadline = job.created_at + timedelta(seconds=_setting("WEBHOOKS_RETRY_FOR_SECONDS"))
        if job.manual or not endpoint.active or at >= deadline:
            return _row(job, "failed", at, result=result), "failed"
        retry_in = min(backoff_seconds(job.attempt), (deadline - at).total_seconds())
        if retry_in <= _setting("WEBHOOKS_COUNTDOWN_MAX_SECONDS"):
            self._retries.append((job.id, retry_in))
        return _row(job, "pending", None, result=result,
                    next_attempt_at=at + timedelta(seconds=retry_in)), "will-retry"

    def _queue_retries(self) -> None:
        """Retries due within a countdown go back to the queue, after their commit."""
        retries, self._retries = self._retries, []
        for delivery_id, retry_in in retries:
            try:
                tasks.send(DELIVER, delivery_id, countdown=retry_in)
            except Exception:  # noqa: BLE001 - the sweep sends it when it is due
                log.exception("could not queue the retry of webhook delivery %s", delivery_id)


def _row(job: Job, status: str, finished_at: datetime | None, *, result: transport.Result | None = None,
         next_attempt_at: datetime | None = None, attempts: int | None = None, error: str | None = None) -> dict:
    """A delivery's new state for _SETTLE; `result` when it was posted (an attempt to log)."""
    return {"id": job.id, "status": status, "finished_at": finished_at, "next_attempt_at": next_attempt_at,
            "attempts": job.attempt if attempts is None else attempts, "answered": result is not None,
            "started": job.started, "status_code": result.status_code if result else None,
            "duration_ms": result.duration_ms if result else None, "error": result.error if result else error}


def _count_failure(endpoint: WebhookEndpoint, job: Job, at: datetime, result: transport.Result) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = min(at, job.created_at)
    disable_after = timedelta(seconds=_setting("WEBHOOKS_DISABLE_AFTER_SECONDS"))
    if endpoint.active and at - endpoint.failing_since >= disable_after:
        _switch_off(endpoint, at, result.error or f"the endpoint answered HTTP {result.status_code}")


def _switch_off(endpoint: WebhookEndpoint, at: datetime, last_failure: str) -> None:
    hours = (at - endpoint.failing_since).total_seconds() / 3600
    endpoint.active, endpoint.disabled_at = False, at
    endpoint.disabled_reason = (f"Switched off by Omnivox: every delivery failed for {hours:.0f} hours "
                                f"(since {iso(endpoint.failing_since)}). Last failure: {last_failure}")
    audit.record("webhook.endpoint_switched_off", target_type="webhook_endpoint", target_id=endpoint.id,
                 actor_username="system", url=endpoint.url, failing_since=iso(endpoint.failing_since),
                 last_failure=last_failure)


def _fail_pending(endpoint_id: int, at: datetime) -> None:
    """An endpoint switched off: its queue of automatic deliveries is failed, with why."""
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending",
        WebhookDelivery.manual.is_(False)).values(
        status="failed", finished_at=at, next_attempt_at=None,
        last_error="Not sent: the endpoint was switched off after a day of failures."),
        execution_options={"synchronize_session": False})


def _no_fsync_wait() -> None:
    """This transaction's commit does not wait for the disk: a claim or an answer lost in a
    database crash only means the delivery is sent again (CRMs deduplicate on the event id)."""
    db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def wake(delivery_ids: list[int]) -> None:
    """After a commit that queued deliveries: queue a deliver task, unless one is queued already
    and has not started (it will find these, committed before this call: see `deliver`). So a
    burst of commits queues one task, not one each that would find its delivery sent."""
    if get_redis().set(WAKE_KEY, delivery_ids[0], nx=True, ex=WAKE_TTL_SECONDS):
        try:
            tasks.send(DELIVER, delivery_ids[0])
        except Exception:
            get_redis().delete(WAKE_KEY)
            raise


def send_due(limit: int = 500) -> int:
    """The sweep (beat): a deliver task for the pending deliveries whose time has come (retries
    further off than a countdown, deliveries the broker missed, claims whose worker died),
    queued whatever `wake` thinks, in case its task was lost."""
    ids = db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow())
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)).all()
    db.session.rollback()
    if ids:
        tasks.send(DELIVER, ids[0])
    return len(ids)
