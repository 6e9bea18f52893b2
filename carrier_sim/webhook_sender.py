"""Webhook delivery: signed form posts, retried on 5xx, with optional chaos.

Status callbacks of one call go through one sender thread (sharded by
CallSid), so they arrive in order unless the chaos knobs say otherwise.
"""
from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from twilio.request_validator import RequestValidator

from carrier_sim.calls import SimCall
from carrier_sim.config import SimConfig
from carrier_sim.webhook_http import WebhookClient, WebhookConnectionError, WebhookResponse

log = logging.getLogger("carrier_sim.webhook_sender")
USER_AGENT = "TwilioProxy/1.1"


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def incr(self, name: str, by: int = 1) -> None:
        with self._lock:
            self.counts[name] += by

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def clear(self) -> None:
        with self._lock:
            self.counts.clear()


@dataclass
class Delivery:
    url: str
    params: dict[str, str]
    call: SimCall
    kind: str  # status | amd | recording | conference | queue-action | record-action
    retry: bool = True  # on 5xx and connection errors (callbacks); not for action requests
    attempt: int = 1
    duplicate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def sign(token: str, url: str, params: dict[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, params)


class WebhookSender:
    def __init__(self, config: Callable[[], SimConfig], scheduler, stats: Stats,
                 chance: Callable[[float], bool]):
        self._config = config
        self._scheduler = scheduler
        self._stats = stats
        self._chance = chance
        self._queues: list[queue.SimpleQueue] = []
        self._threads: list[threading.Thread] = []
        self._local = threading.local()

    def start(self) -> None:
        for number in range(max(1, self._config().sender_threads)):
            q: queue.SimpleQueue = queue.SimpleQueue()
            thread = threading.Thread(target=self._work, args=(q,), daemon=True,
                                      name=f"carrier-sim-sender-{number}")
            self._queues.append(q)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def backlog(self) -> int:
        return sum(q.qsize() for q in self._queues)

    # -- entry points ----------------------------------------------------------
    def send_status(self, delivery: Delivery, final: bool) -> None:
        """Queue a status callback, applying the out-of-order and duplicate knobs.

        Called with the engine lock held, so ``held_callback`` is safe to touch.
        """
        call = delivery.call
        config = self._config()
        if call.held_callback is not None:
            held, call.held_callback = call.held_callback, None
            batch = [delivery, held]
            self._stats.incr("callbacks_reordered")
        elif not final and self._chance(config.out_of_order_probability):
            call.held_callback = delivery
            return
        else:
            batch = [delivery]
        for item in batch:
            self.enqueue(item)
            if self._chance(config.duplicate_probability):
                self._stats.incr("callbacks_duplicated")
                self.enqueue(replace(item, duplicate=True))

    def enqueue(self, delivery: Delivery) -> None:
        shard = zlib.crc32(delivery.call.sid.encode()) % len(self._queues)
        self._queues[shard].put(delivery)

    def post_form(self, url: str, params: dict[str, str],
                  read_body: bool = True) -> WebhookResponse:
        """A signed form POST from the calling thread, on that thread's connections."""
        config = self._config()
        headers = {"X-Twilio-Signature": sign(config.auth_token, url, params),
                   "User-Agent": USER_AGENT,
                   "Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "text/xml, application/xml, */*"}
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = WebhookClient(config.callback_timeout_seconds)
        return client.post(url, params, headers, read_body)

    # -- worker ----------------------------------------------------------------
    def _work(self, q: queue.SimpleQueue) -> None:
        while True:
            delivery = q.get()
            if delivery is None:
                return
            self._deliver(delivery)

    def _deliver(self, delivery: Delivery) -> None:
        config = self._config()
        kind = delivery.kind
        try:
            http_status = self.post_form(delivery.url, delivery.params,
                                         read_body=False).status_code
        except WebhookConnectionError as exc:
            http_status = None
            log.debug("%s callback to %s failed: %s", kind, delivery.url, exc)
        self._record(delivery, http_status)
        if http_status is not None and http_status < 400:
            self._stats.incr(f"{kind}_callbacks_delivered")
            return
        retryable = delivery.retry and (http_status is None or http_status >= 500)
        if retryable and delivery.attempt < config.callback_max_attempts:
            self._stats.incr("callbacks_retried")
            backoff = config.callback_retry_seconds * 2 ** (delivery.attempt - 1)
            self._scheduler.call_later(backoff, self.enqueue,
                                       replace(delivery, attempt=delivery.attempt + 1))
        else:
            self._stats.incr(f"{kind}_callbacks_failed")

    def _record(self, delivery: Delivery, http_status: int | None) -> None:
        entry = {"kind": delivery.kind, "attempt": delivery.attempt,
                 "http_status": http_status, "duplicate": delivery.duplicate}
        if delivery.kind == "status":
            entry["status"] = delivery.params.get("CallStatus")
            entry["sequence"] = int(delivery.params["SequenceNumber"])
        delivery.call.callbacks.append(entry)
