"""Endpoints, events and deliveries: what the routes, the signal receivers and the worker call.

Raising an event (inside the transaction that caused it) writes the event and one pending
delivery per subscribed endpoint; the delivery ids are handed to the `default` workers only
after that transaction commits (a rolled-back transaction sends nothing). A delivery is
claimed by pushing its `next_attempt_at` past the request's timeout (so a second worker, or the
sweep, leaves it alone, and a worker that dies mid-request has it tried again by the sweep),
posted with no database transaction open, and its answer recorded: 2xx succeeds; anything else
is tried again with exponential backoff and jitter until WEBHOOKS_RETRY_FOR_SECONDS after the
event. An endpoint whose deliveries have all failed for WEBHOOKS_DISABLE_AFTER_SECONDS is
switched off, with an audit entry and the reason shown on the admin page.
"""
from __future__ import annotations

import json
import logging
import random
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event as orm_event
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.common import tasks
from app.common.pagination import paginate
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db
from app.outbound_hooks import secrets, transport
from app.outbound_hooks.events import EVENT_TYPES, TEST_EVENT, iso, test_data
from app.outbound_hooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)

DELIVER = "workers.default.deliver_webhook"
_PENDING = "outbound_hooks.deliveries_to_send"
LEASE_SLACK_SECONDS = 60


def _setting(name: str) -> float:
    return float(current_app.config[name])


# --- raising events (inside the source's transaction) ---------------------------------------

def raise_event(event_type: str, data: dict, at: datetime | None = None) -> WebhookEvent | None:
    """Queue `event_type` for every switched-on endpoint subscribed to it (not committed)."""
    endpoints = db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.active.is_(True), WebhookEndpoint.events.contains([event_type]))).all()
    if not endpoints:
        return None
    at = at or utcnow()
    try:
        with db.session.begin_nested():  # a fault here must not undo the change that raised it
            event = _new_event(event_type, data, at)
            for endpoint in endpoints:
                _queue(endpoint, event, at)
    except Exception:  # noqa: BLE001 - the call, disposition or opt-out stands; the event is lost
        log.exception("could not queue webhook event %s", event_type)
        return None
    return event


def _new_event(event_type: str, data: dict, at: datetime) -> WebhookEvent:
    public_id = "evt_" + uuid.uuid4().hex
    body = json.dumps({"id": public_id, "type": event_type, "created_at": iso(at), "api_version": "1",
                       "data": data}, separators=(",", ":"), default=str)
    event = WebhookEvent(public_id=public_id, type=event_type, body=body, created_at=at)
    db.session.add(event)
    return event


def _queue(endpoint: WebhookEndpoint, event: WebhookEvent, at: datetime, *, manual: bool = False,
           redelivery_of: int | None = None) -> WebhookDelivery:
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event=event, next_attempt_at=at, manual=manual,
                               redelivery_of_id=redelivery_of, created_at=at)
    db.session.add(delivery)
    db.session.flush()
    db.session().info.setdefault(_PENDING, []).append(delivery.id)
    return delivery


def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction may still roll back
        return
    ids = session.info.pop(_PENDING, None)
    for delivery_id in ids or ():
        try:
            tasks.send(DELIVER, delivery_id)
        except Exception:  # noqa: BLE001 - the broker is away: the sweep sends it later
            log.exception("could not queue webhook delivery %s; the sweep will", delivery_id)


def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint in it
        session.info.pop(_PENDING, None)


def listen_for_commits() -> None:
    """Send queued deliveries to the workers after their transaction commits (idempotent)."""
    if not orm_event.contains(Session, "after_commit", _send_after_commit):
        orm_event.listen(Session, "after_commit", _send_after_commit)
        orm_event.listen(Session, "after_soft_rollback", _forget_after_rollback)


# --- delivering (the `default` worker) ------------------------------------------------------

def backoff_seconds(attempt: int) -> float:
    """The wait after failed attempt `attempt` (1-based): doubling from the base, capped, with
    jitter (between half and all of it) so that retries of many events do not arrive together."""
    base, cap = _setting("WEBHOOKS_BACKOFF_BASE_SECONDS"), _setting("WEBHOOKS_BACKOFF_MAX_SECONDS")
    delay = min(cap, base * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def deliver(delivery_id: int) -> str:
    """Try one delivery once, if it is pending and due. Returns what happened, in a word."""
    now = utcnow()
    timeout = _setting("WEBHOOKS_TIMEOUT_SECONDS")
    _no_fsync_wait()
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
               WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1))
        .values(next_attempt_at=now + timedelta(seconds=timeout + LEASE_SLACK_SECONDS),
                attempts=WebhookDelivery.attempts + 1)
        .returning(WebhookDelivery.attempts)).scalar()
    if claimed is None:
        db.session.commit()
        return "not-due"
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    endpoint = delivery.endpoint
    if not endpoint.active and not delivery.manual:
        _finish(delivery, "failed", now, "Not sent: the endpoint is switched off.")
        delivery.attempts -= 1
        db.session.commit()
        return "switched-off"
    try:
        secret = secrets.unseal(endpoint.secret_sealed)
    except secrets.SealBroken:
        _finish(delivery, "failed", now, "Not sent: the signing secret cannot be read (was SECRET_KEY "
                                         "changed?). Create the endpoint again.")
        db.session.commit()
        return "failed"
    url, body = endpoint.url, delivery.event.body.encode()
    headers = {secrets.SIGNATURE_HEADER: secrets.signature(secret, body),
               "Omnivox-Event-Id": delivery.event.public_id, "Omnivox-Event-Type": delivery.event.type,
               "Omnivox-Delivery-Id": str(delivery.id), "Omnivox-Attempt": str(claimed)}
    db.session.commit()  # no transaction stays open while the CRM answers
    result = transport.post(url, body, headers, timeout)
    return _record(delivery_id, claimed, now, result)


def _finish(delivery: WebhookDelivery, status: str, at: datetime, error: str | None = None) -> None:
    delivery.status, delivery.finished_at, delivery.next_attempt_at = status, at, None
    if error:
        delivery.last_error = error


def _no_fsync_wait() -> None:
    """This transaction's commit does not wait for the disk: a claim or an answer lost in a
    database crash only means the delivery is sent again (CRMs deduplicate on the event id)."""
    db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _record(delivery_id: int, attempt_no: int, started: datetime, result: transport.Result) -> str:
    _no_fsync_wait()
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id, with_for_update=True)
    at = utcnow()
    db.session.add(WebhookAttempt(delivery_id=delivery.id, attempt_no=attempt_no, at=started,
                                  status_code=result.status_code, duration_ms=result.duration_ms,
                                  error=result.error))
    delivery.last_attempt_at, delivery.last_status_code = started, result.status_code
    delivery.last_duration_ms, delivery.last_error = result.duration_ms, result.error
    retry_in = None
    if result.ok:
        _finish(delivery, "succeeded", at)
        endpoint.last_success_at = at
        if not delivery.manual:
            endpoint.failing_since = None
        outcome = "succeeded"
    else:
        endpoint.last_failure_at = at
        if not delivery.manual:
            if endpoint.failing_since is None:
                endpoint.failing_since = min(at, delivery.created_at)
            disable_after = timedelta(seconds=_setting("WEBHOOKS_DISABLE_AFTER_SECONDS"))
            if endpoint.active and at - endpoint.failing_since >= disable_after:
                _switch_off(endpoint, at, _failure_words(result))
        deadline = delivery.created_at + timedelta(seconds=_setting("WEBHOOKS_RETRY_FOR_SECONDS"))
        if delivery.manual or not endpoint.active or at >= deadline:
            _finish(delivery, "failed", at)
            outcome = "failed"
        else:
            retry_in = min(backoff_seconds(attempt_no), (deadline - at).total_seconds())
            delivery.next_attempt_at = at + timedelta(seconds=retry_in)
            outcome = "will-retry"
    db.session.commit()
    if retry_in is not None and retry_in <= _setting("WEBHOOKS_COUNTDOWN_MAX_SECONDS"):
        try:
            tasks.send(DELIVER, delivery_id, countdown=retry_in)
        except Exception:  # noqa: BLE001 - the sweep sends it when it is due
            log.exception("could not queue the retry of webhook delivery %s", delivery_id)
    return outcome


def _failure_words(result: transport.Result) -> str:
    return result.error or f"the endpoint answered HTTP {result.status_code}"


def _switch_off(endpoint: WebhookEndpoint, at: datetime, last_failure: str) -> None:
    hours = (at - endpoint.failing_since).total_seconds() / 3600
    endpoint.active, endpoint.disabled_at = False, at
    endpoint.disabled_reason = (f"Switched off by Omnivox: every delivery failed for {hours:.0f} hours "
                                f"(since {iso(endpoint.failing_since)}). Last failure: {last_failure}")
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending",
        WebhookDelivery.manual.is_(False)).values(
        status="failed", finished_at=at, next_attempt_at=None,
        last_error="Not sent: the endpoint was switched off after a day of failures."))
    audit.record("webhook.endpoint_switched_off", target_type="webhook_endpoint", target_id=endpoint.id,
                 actor_username="system", url=endpoint.url, failing_since=iso(endpoint.failing_since),
                 last_failure=last_failure)


def send_due(limit: int = 500) -> int:
    """The sweep (beat): hand the workers every pending delivery whose time has come (retries
    further off than a countdown, deliveries the broker missed, claims whose worker died)."""
    ids = db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow())
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)).all()
    db.session.rollback()
    for delivery_id in ids:
        tasks.send(DELIVER, delivery_id)
    return len(ids)


# --- endpoints (the admin API) --------------------------------------------------------------

def _check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown or not events:
        raise ApiError(422, "Choose the events to send", fields={"events": [
            "Choose at least one of: " + ", ".join(EVENT_TYPES.values()) + "." if not unknown else
            f"Not an event Omnivox sends: {', '.join(unknown)}."]})
    return list(dict.fromkeys(events))


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        transport.check_url(url)
    except transport.TargetRefused as refused:
        raise ApiError(422, "That address cannot receive webhooks", fields={"url": [str(refused)]}) from None
    return url


def create_endpoint(user, url: str, events: list[str], description: str = "") -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown this once only)."""
    events, url = _check_events(events), _check_url(url)
    secret = secrets.new_secret()
    endpoint = WebhookEndpoint(url=url, events=events, description=description.strip(),
                               secret_sealed=secrets.seal(secret), secret_hint=secret[-4:],
                               created_by_id=user.id)
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook.endpoint_create", target_type="webhook_endpoint", target_id=endpoint.id,
                 url=url, events=events)
    db.session.commit()
    return endpoint, secret


def get_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise ApiError(404, "No such webhook endpoint")
    return endpoint


def list_endpoints() -> list[WebhookEndpoint]:
    return db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()


def update_endpoint(endpoint_id: int, changes: dict) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None:
        raise ApiError(404, "No such webhook endpoint")
    before = {"events": list(endpoint.events), "active": endpoint.active, "url": endpoint.url}
    if "events" in changes:
        endpoint.events = _check_events(changes["events"])
    if "url" in changes:
        endpoint.url = _check_url(changes["url"])
    if "description" in changes:
        endpoint.description = changes["description"].strip()
    if "active" in changes and changes["active"] != endpoint.active:
        endpoint.active = changes["active"]
        if endpoint.active:  # switched on again: its failures start counting afresh
            endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
    audit.record("webhook.endpoint_update", target_type="webhook_endpoint", target_id=endpoint.id,
                 before=before, after={"events": list(endpoint.events), "active": endpoint.active,
                                       "url": endpoint.url})
    db.session.commit()
    return endpoint


def delete_endpoint(endpoint_id: int) -> None:
    endpoint = get_endpoint(endpoint_id)
    audit.record("webhook.endpoint_delete", target_type="webhook_endpoint", target_id=endpoint.id,
                 url=endpoint.url)
    db.session.delete(endpoint)
    db.session.commit()


def list_deliveries(endpoint_id: int, page: int, per_page: int) -> dict:
    get_endpoint(endpoint_id)
    return paginate(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                    .order_by(WebhookDelivery.id.desc()), page, per_page)


def redeliver(endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's event again (the same body and event id), once, as a new delivery."""
    original = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id))
    if original is None:
        raise ApiError(404, "No such delivery")
    delivery = _queue(original.endpoint, original.event, utcnow(), manual=True, redelivery_of=original.id)
    audit.record("webhook.redeliver", target_type="webhook_endpoint", target_id=endpoint_id,
                 event_id=original.event.public_id, delivery_id=original.id)
    db.session.commit()
    return delivery


def send_test(endpoint_id: int) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint only, tried once (even when switched off)."""
    endpoint = get_endpoint(endpoint_id)
    now = utcnow()
    delivery = _queue(endpoint, _new_event(TEST_EVENT, test_data(endpoint.id), now), now, manual=True)
    db.session.commit()
    return delivery

