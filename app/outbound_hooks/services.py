"""Endpoints, events and deliveries: what the routes, the signal receivers and the worker call.

Raising an event (inside the transaction that caused it) writes the event and one pending
delivery per subscribed endpoint; the `default` workers are woken only after that transaction
commits (a rolled-back transaction sends nothing). Delivering, retrying and switching off a
failing endpoint are the courier's (app.outbound_hooks.courier; `deliver` and `send_due` are
the tasks' entry points).
"""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.common.pagination import paginate
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db
from app.outbound_hooks import courier, secrets, transport
from app.outbound_hooks.courier import deliver, send_due  # noqa: F401 - the tasks' entry points
from app.outbound_hooks.events import EVENT_TYPES, TEST_EVENT, iso, test_data
from app.outbound_hooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)

_PENDING = "outbound_hooks.deliveries_to_send"


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
    if ids:
        try:
            courier.wake(ids)
        except Exception:  # noqa: BLE001 - the broker is away: the sweep sends them later
            log.exception("could not queue webhook deliveries %s; the sweep will", ids)


def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint in it
        session.info.pop(_PENDING, None)


def listen_for_commits() -> None:
    """Send queued deliveries to the workers after their transaction commits (idempotent)."""
    if not orm_event.contains(Session, "after_commit", _send_after_commit):
        orm_event.listen(Session, "after_commit", _send_after_commit)
        orm_event.listen(Session, "after_soft_rollback", _forget_after_rollback)


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

