"""Prometheus metrics: every name Omnivox exports is defined here, and nowhere else.

Design. The web process and the Celery pools are separate processes (and pools scale to many
containers), so an in-process counter in a worker would be invisible to the one scrape target,
`GET /metrics` on the web process. So:

* **Counters that workers bump live in Redis**: one hash, ``omnivox:metrics:counters``; each
  event is a single ``HINCRBY`` (a pipeline when one event bumps two fields), never a read.
  They survive worker restarts, are shared by every replica, and the collector reads the hash
  with one ``HGETALL`` per scrape.
* **Gauges are computed at scrape time** by a custom collector from the systems of record:
  agents by state (the ``agents.state`` mirror in PostgreSQL, one ``GROUP BY`` over a small
  table), dial-queue depth per campaign, Celery queue lengths and the callback inbox (Redis, one
  pipeline), and
  abandonment per campaign over 24 h and 30 days, counted by the pacer's governor's own
  query (day and hour rollups up to their boundary, raw calls since), one query per window for
  every active or paused campaign at once; the 30-day figures are cached for
  ``SLOW_GAUGE_TTL`` seconds, so a scrape every 15 s reads them once a minute).
* **Latencies are observed in the web process**, where requests happen: the webhook latency
  histogram (every request to the ``twilio`` blueprint is timed automatically by
  `app.ops.logging`'s request hooks) and HTTP requests by status class. Run one web process per
  container (as compose does) and let Prometheus scrape each replica; the Redis-backed series are
  then the same on every replica, so aggregate them with ``max`` rather than ``sum``.

A scrape never fails because a source is down: each source reports
``omnivox_metrics_source_up{source}`` 1/0 instead.

Functions other features call (safe anywhere, never raise, one Redis round trip each; inside an
app context, which every Celery task and request has; outside one they do nothing):

* ``record_call_placed()`` -- the carrier accepted a call create (dial worker).
* ``record_call_outcome(outcome)`` -- a call reached its outcome: human, machine, no-answer,
  busy, failed, canceled or abandoned (telephony worker); anything else counts as ``other``.
* ``record_callback_processed(n=1)`` -- carrier callbacks were applied to their call (telephony).
* ``record_placement_refused(reason)`` -- a queued call was not sent: a calling rule refused it at
  the instant of placement (dial worker).
* ``record_carrier_unknown_call()`` -- the carrier answered the reaper 404 for a call we hold
  live: credentials that cannot see it, most likely (another account or region); nothing is
  settled on it, so alert on any increase.
* ``record_carrier_unknown_leg()`` -- the same for an agent's or supervisor's audio leg, asked
  about when a person found the agent's room empty (app.agents.audio.check_leg); counted through
  the agents' ``leg_unknown`` signal, which ``connect()`` subscribes to at start-up.
* ``observe_webhook_latency(seconds, endpoint="status")`` -- already done for every /twilio
  request by the request hooks; call it only for latencies measured elsewhere in the web process.
* ``record_pacing_decision(campaign_id, n)`` -- the pacing tick asked campaign ``campaign_id`` for
  ``n`` calls (dial worker): bumps the decision and requested-calls counters and sets the
  last-decision gauge.

Where the dial queue lives is the dialer's business: at start-up the app installs the dial
queue's own reader (``set_queue_depth_reader(app.dialer.hopper.ready_depths)``), so the gauge
counts what the dialer will actually dial next.

Access: `/metrics` is served to loopback callers, and to anyone presenting
``Authorization: Bearer <METRICS_TOKEN>`` when that variable is set; everyone else gets 403.
Behind a reverse proxy on the same host, set TRUSTED_PROXIES (so the caller's real address is
used) or block /metrics at the proxy.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from flask import current_app, has_app_context
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from app.telephony.inbox import INBOX_KEY

log = logging.getLogger(__name__)

COUNTERS_KEY = "omnivox:metrics:counters"
PACING_LAST_KEY = "omnivox:metrics:pacing_last"
CELERY_QUEUES = ("dial", "telephony", "kpi", "default")
AGENT_STATES = ("offline", "ready", "reserved", "on-call", "wrap-up", "paused")
OUTCOMES = ("human", "machine", "no-answer", "busy", "failed", "canceled", "abandoned")
WEBHOOK_ENDPOINTS = ("voice", "status", "amd", "recording", "opt-out")
ABANDON_WINDOWS = {"24h": timedelta(hours=24), "30d": timedelta(days=30)}
SLOW_GAUGE_TTL = 60.0  # seconds a 30-day abandonment figure is reused

# In-process metrics of the web process (registered into each app's registry by init_metrics).
WEBHOOK_LATENCY = Histogram(
    "omnivox_webhook_latency_seconds", "Time to answer a carrier webhook, by endpoint",
    ["endpoint"], registry=None,
    # finer below 25 ms, with a boundary at the 15 ms objective, so p99 is read off real buckets
    buckets=(0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
             2.0, 5.0),
)
HTTP_REQUESTS = Counter(
    "omnivox_http_requests", "HTTP requests answered by this web process, by method and status class",
    ["method", "status"], registry=None,
)

# --- recording (workers and web) -------------------------------------------------------------


def _redis():
    if not has_app_context():
        return None
    return current_app.extensions.get("redis")


def _bump(field: str, by: int = 1) -> None:
    r = _redis()
    if r is None:
        return
    try:
        r.hincrby(COUNTERS_KEY, field, by)
    except Exception as exc:  # noqa: BLE001 - metrics never break a call
        log.warning("metrics: could not record %s: %s", field, exc)


def record_call_placed() -> None:
    _bump("calls_placed")


def record_call_outcome(outcome: str) -> None:
    _bump("outcome:" + (outcome if outcome in OUTCOMES else "other"))


def record_placement_refused(reason: str) -> None:
    _bump("placement_refused:" + reason)


def record_carrier_unknown_call() -> None:
    _bump("carrier_unknown_calls")


def record_carrier_unknown_leg() -> None:
    _bump("carrier_unknown_legs")


def _on_leg_unknown(agent_id, **_details) -> None:
    record_carrier_unknown_leg()


def connect() -> None:
    """Count what other features only announce (idempotent): the agents' legs the carrier
    cannot see."""
    from app.agents.audio import leg_unknown

    leg_unknown.connect(_on_leg_unknown, weak=False)


def record_callback_processed(n: int = 1) -> None:
    if n > 0:
        _bump("callbacks_processed", n)


def record_pacing_decision(campaign_id: int, n: int) -> None:
    cid = int(campaign_id)
    r = _redis()
    if r is None:
        return
    try:
        pipe = r.pipeline(transaction=False)
        pipe.hincrby(COUNTERS_KEY, f"pacing_decisions:{cid}", 1)
        pipe.hincrby(COUNTERS_KEY, f"pacing_calls:{cid}", max(0, int(n)))
        pipe.hset(PACING_LAST_KEY, str(cid), max(0, int(n)))
        pipe.execute()
    except Exception as exc:  # noqa: BLE001
        log.warning("metrics: could not record a pacing decision: %s", exc)


def observe_webhook_latency(seconds: float, endpoint: str = "status") -> None:
    WEBHOOK_LATENCY.labels(endpoint if endpoint in WEBHOOK_ENDPOINTS else "other").observe(seconds)


def observe_http_request(method: str, status: int) -> None:
    HTTP_REQUESTS.labels(method, f"{status // 100}xx").inc()


# --- the scrape-time collector ---------------------------------------------------------------


_queue_depth_reader: Callable[..., dict[int, int]] | None = None


def set_queue_depth_reader(fn: Callable[..., dict[int, int]] | None):
    """Install ``fn(redis, campaign_ids) -> {campaign_id: depth}`` (the dialer's, at start-up);
    returns the reader it replaces. With none installed the depth series is not exported."""
    global _queue_depth_reader
    previous, _queue_depth_reader = _queue_depth_reader, fn
    return previous


class OmnivoxCollector(Collector):
    """Reads Redis and PostgreSQL when Prometheus scrapes; needs the app context of /metrics."""

    def __init__(self, abandon_counts) -> None:
        self._abandon_counts = abandon_counts  # see init_ops
        self._cache: dict[str, tuple[float, list]] = {}
        self._lock = threading.Lock()

    def describe(self) -> Iterable:
        return []  # computed series: nothing to check at registration time

    def collect(self) -> Iterable:
        up = GaugeMetricFamily("omnivox_metrics_source_up",
                               "1 when the source answered this scrape, 0 when it failed", labels=["source"])
        campaigns: list[int] = []
        try:
            campaigns = self._live_campaigns()
            yield from self._agents()
            yield from self._abandonment(campaigns)
            yield from self._numbers()
            up.add_metric(["postgres"], 1)
        except Exception as exc:  # noqa: BLE001 - a scrape reports the outage, it does not fail
            log.warning("metrics: PostgreSQL unavailable: %s", exc)
            self._rollback()
            up.add_metric(["postgres"], 0)
        try:
            yield from self._redis_series(campaigns)
            up.add_metric(["redis"], 1)
        except Exception as exc:  # noqa: BLE001
            log.warning("metrics: Redis unavailable: %s", exc)
            up.add_metric(["redis"], 0)
        yield up

    # PostgreSQL ------------------------------------------------------------------------------

    @staticmethod
    def _rollback() -> None:
        from app.extensions import db

        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001
            pass

    @staticmethod
    def _live_campaigns() -> list[int]:
        from sqlalchemy import select

        from app.campaigns.models import Campaign
        from app.extensions import db

        return list(db.session.scalars(
            select(Campaign.id).where(Campaign.status.in_(("active", "paused"))).order_by(Campaign.id)))

    @staticmethod
    def _agents():
        from sqlalchemy import func, select

        from app.agents.models import AgentProfile
        from app.extensions import db

        counts = dict.fromkeys(AGENT_STATES, 0)
        counts.update(db.session.execute(
            select(AgentProfile.state, func.count()).group_by(AgentProfile.state)).all())
        family = GaugeMetricFamily("omnivox_agents", "Agents by state (PostgreSQL mirror of the live state)",
                                   labels=["state"])
        for state, n in counts.items():
            family.add_metric([state], n)
        yield family

    def _abandon_rows(self, window: str, campaigns: list[int]) -> list:
        """(campaign, abandoned, person answers) over the window, counted exactly as the
        pacer's governor counts its 30-day account: calls we placed, a person answer being
        an outcome of 'human'."""
        from app.common.timeutil import utcnow

        key = f"{window}:{','.join(map(str, campaigns))}"
        ttl = SLOW_GAUGE_TTL if window == "30d" else 0.0
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and now - hit[0] < ttl:
                return hit[1]
        until = utcnow()
        counts = self._abandon_counts(campaigns, until - ABANDON_WINDOWS[window], until)
        rows = [(cid, *counts[cid]) for cid in campaigns if cid in counts]
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if not k.startswith(window + ":")}
            self._cache[key] = (now, rows)
        return rows

    def _abandonment(self, campaigns: list[int]):
        rate = GaugeMetricFamily(
            "omnivox_abandon_rate", "Abandoned / answered by a person, per campaign and window (law: <= 0.03 "
            "over 30 days)", labels=["campaign", "window"])
        human = GaugeMetricFamily("omnivox_calls_answered_human",
                                  "Calls answered by a person, per campaign and window", labels=["campaign", "window"])
        abandoned = GaugeMetricFamily("omnivox_calls_abandoned", "Abandoned calls, per campaign and window",
                                      labels=["campaign", "window"])
        for window in ABANDON_WINDOWS:
            figures = {cid: (0, 0) for cid in campaigns}
            if campaigns:
                figures.update({cid: (a, h) for cid, a, h in self._abandon_rows(window, campaigns)})
            for cid, (a, h) in figures.items():
                labels = [str(cid), window]
                rate.add_metric(labels, a / h if h else 0.0)
                human.add_metric(labels, h)
                abandoned.add_metric(labels, a)
        yield from (rate, human, abandoned)

    @staticmethod
    def _numbers():
        """Each number's health as the last assessment stored it (app.numbers.health)."""
        from sqlalchemy import select

        from app.common.timeutil import utcnow
        from app.extensions import db
        from app.numbers.models import PhoneNumber

        rate = GaugeMetricFamily("omnivox_number_answers_per_100",
                                 "Person answers per 100 dials from each number, per window (last assessment)",
                                 labels=["number", "window"])
        rested = GaugeMetricFamily("omnivox_number_rested",
                                   "1 while a number is rested for answering well below its pool", labels=["number"])
        now = utcnow()
        for number in db.session.scalars(select(PhoneNumber).where(PhoneNumber.in_account.is_(True))):
            for window, figures in sorted((number.health or {}).items()):
                if figures.get("per_100") is not None:
                    rate.add_metric([number.phone_e164, window], figures["per_100"])
            rested.add_metric([number.phone_e164], 1 if number.rested_at(now) else 0)
        yield from (rate, rested)

    # Redis -----------------------------------------------------------------------------------

    @staticmethod
    def _redis_series(campaigns: list[int]):
        r = current_app.extensions["redis"]
        pipe = r.pipeline(transaction=False)
        pipe.hgetall(COUNTERS_KEY)
        pipe.hgetall(PACING_LAST_KEY)
        pipe.llen(INBOX_KEY)
        for queue in CELERY_QUEUES:
            pipe.llen(queue)
        counters, pacing_last, inbox, *lengths = pipe.execute()
        yield from _counter_families(counters, pacing_last)

        waiting = GaugeMetricFamily("omnivox_callback_inbox_depth",
                                    "Stored carrier callbacks waiting for a telephony worker")
        waiting.add_metric([], inbox)
        yield waiting

        celery = GaugeMetricFamily("omnivox_celery_queue_length", "Tasks waiting in each Celery queue",
                                   labels=["queue"])
        for queue, n in zip(CELERY_QUEUES, lengths):
            celery.add_metric([queue], n)
        yield celery

        depth = GaugeMetricFamily("omnivox_queue_depth", "Contacts waiting in each campaign's dial queue",
                                  labels=["campaign"])
        reader = _queue_depth_reader
        for cid, n in sorted((reader(r, campaigns) if reader and campaigns else {}).items()):
            depth.add_metric([str(cid)], n)
        yield depth


def _counter_families(counters: dict, pacing_last: dict):
    placed = CounterMetricFamily("omnivox_calls_placed", "Calls the carrier accepted")
    placed.add_metric([], int(counters.get("calls_placed", 0)))
    processed = CounterMetricFamily("omnivox_callbacks_processed", "Carrier status callbacks processed")
    processed.add_metric([], int(counters.get("callbacks_processed", 0)))
    outcomes = CounterMetricFamily("omnivox_calls_by_outcome", "Calls by final outcome", labels=["outcome"])
    for outcome in (*OUTCOMES, "other"):
        outcomes.add_metric([outcome], int(counters.get("outcome:" + outcome, 0)))
    decisions = CounterMetricFamily("omnivox_pacing_decisions", "Pacing decisions taken, per campaign",
                                    labels=["campaign"])
    requested = CounterMetricFamily("omnivox_pacing_calls_requested",
                                    "Calls the pacer asked for, summed over its decisions, per campaign",
                                    labels=["campaign"])
    refused = CounterMetricFamily("omnivox_placements_refused",
                                  "Queued calls not sent because a calling rule refused them at the "
                                  "instant of placement, by the rule's reason", labels=["reason"])
    unknown = CounterMetricFamily("omnivox_carrier_unknown_calls",
                                  "Calls we hold live that the carrier answered 404 for (credentials "
                                  "that cannot see them): nothing is settled on it; alert on any")
    unknown.add_metric([], int(counters.get("carrier_unknown_calls", 0)))
    unknown_legs = CounterMetricFamily("omnivox_carrier_unknown_legs",
                                       "Agents' and supervisors' audio legs we hold live that the "
                                       "carrier answered 404 for: nothing is ended on it; alert on any")
    unknown_legs.add_metric([], int(counters.get("carrier_unknown_legs", 0)))
    for field, value in sorted(counters.items()):
        kind, _, cid = field.partition(":")
        if kind == "pacing_decisions":
            decisions.add_metric([cid], int(value))
        elif kind == "pacing_calls":
            requested.add_metric([cid], int(value))
        elif kind == "placement_refused":
            refused.add_metric([cid], int(value))
    last = GaugeMetricFamily("omnivox_pacing_last_calls_requested",
                             "Calls the pacer asked for at its latest decision, per campaign", labels=["campaign"])
    for cid, value in sorted(pacing_last.items()):
        last.add_metric([cid], int(value))
    yield from (placed, processed, outcomes, decisions, requested, last, refused, unknown, unknown_legs)


def build_registry(abandon_counts) -> CollectorRegistry:
    """The registry /metrics serves: web-process metrics plus the scrape-time collector
    (`abandon_counts`: see init_ops)."""
    from prometheus_client import PROCESS_COLLECTOR

    registry = CollectorRegistry(auto_describe=False)
    registry.register(WEBHOOK_LATENCY)
    registry.register(HTTP_REQUESTS)
    registry.register(OmnivoxCollector(abandon_counts))
    registry.register(PROCESS_COLLECTOR)
    return registry
