"""Webhooks out: registration, signatures, retries, refusing non-public addresses (at
registration and at delivery), switching off an endpoint after a day of failures, and the call
path never waiting on a CRM."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.outbound_hooks.receiver import Receiver

DELIVER = "workers.default.deliver_webhook"
PUBLIC_IP = "93.184.216.34"


class Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    from app.common.timeutil import utcnow
    from app.outbound_hooks import courier, services

    c = Clock(utcnow())
    monkeypatch.setattr(services, "utcnow", c)
    monkeypatch.setattr(courier, "utcnow", c)
    return c


@pytest.fixture
def insecure(app, monkeypatch):
    """Plain HTTP to the loopback receiver (the test/dev setting; off by default)."""
    monkeypatch.setitem(app.config, "WEBHOOKS_ALLOW_INSECURE_TARGETS", True)


@pytest.fixture
def dns(monkeypatch):
    """Plays DNS for host names: {host: [addresses]}; anything else resolves for real."""
    from app.outbound_hooks import transport

    table: dict[str, list[str]] = {}
    real = transport.resolve
    monkeypatch.setattr(transport, "resolve", lambda host, port: table[host] if host in table else real(host, port))
    return table


def pump(app, sent_tasks, clock, max_steps=200):
    with app.app_context():
        return _pump(sent_tasks, clock, max_steps)


def _pump(sent_tasks, clock, max_steps):
    """Be the `default` worker and the beat sweep: run each queued delivery (moving the clock
    over a countdown), and when none is queued move the clock to the next retry and sweep."""
    from app.extensions import db
    from app.outbound_hooks import services
    from app.outbound_hooks.models import WebhookDelivery

    outcomes = []
    for _ in range(max_steps):
        queued = [(i, t) for i, t in enumerate(sent_tasks) if t[0] == DELIVER]
        if queued:
            index, (_, args, options) = queued[0]
            del sent_tasks[index]
            if options.get("countdown"):
                clock.advance(options["countdown"])
            outcomes.append(services.deliver(args[0]))
            continue
        due = db.session.scalar(select(WebhookDelivery.next_attempt_at).where(
            WebhookDelivery.status == "pending").order_by(WebhookDelivery.next_attempt_at).limit(1))
        if due is None:
            return outcomes
        clock.now = max(clock.now, due)
        services.send_due()
    raise AssertionError("deliveries never settled")


def in_app(app, fn, *args):
    with app.app_context():
        return fn(*args)


def raise_and_commit(app, event_type, data):
    from app.extensions import db
    from app.outbound_hooks import services

    with app.app_context():
        event = services.raise_event(event_type, data)
        db.session.commit()
        return event


def create(api, url, events=("call.completed",)):
    response = api.post("/api/webhooks", json={"url": url, "events": list(events), "description": "CRM"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_every_delivery_is_signed_and_a_500_is_retried_with_backoff(app, login_as, sent_tasks,
                                                                    clock, insecure):
    from app.extensions import db
    from app.outbound_hooks import secrets, services
    from app.outbound_hooks.models import WebhookAttempt, WebhookDelivery

    admin = login_as("admin")
    with Receiver(codes=(500, 503, 200)) as crm:
        endpoint = create(admin, crm.url)
        secret = endpoint["secret"]
        assert secret.startswith("whsec_")
        assert "secret" not in admin.get(f"/api/webhooks/{endpoint['id']}").get_json()
        raise_and_commit(app, "call.completed", {"call": {"id": 7}})
        outcomes = pump(app, sent_tasks, clock)
        requests = crm.wait_for(3)

    assert outcomes == ["will-retry", "will-retry", "succeeded"]
    assert len(requests) == 3
    for request in requests:
        assert secrets.verify(secret, request["body"], request["headers"]["Omnivox-Signature"])
        assert not secrets.verify("whsec_wrong", request["body"], request["headers"]["Omnivox-Signature"])
    assert len({r["json"]["id"] for r in requests}) == 1  # one event id, for the CRM to deduplicate
    assert requests[0]["json"]["type"] == "call.completed" and requests[0]["json"]["data"]["call"]["id"] == 7
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery))
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
        codes = db.session.scalars(select(WebhookAttempt.status_code).order_by(WebhookAttempt.attempt_no)).all()
    assert codes == [500, 503, 200]
    listed = admin.get(f"/api/webhooks/{endpoint['id']}/deliveries").get_json()["items"]
    assert listed[0]["attempts"] == 3 and listed[0]["last_status_code"] == 200
    assert listed[0]["last_duration_ms"] is not None


def test_backoff_doubles_with_jitter_up_to_the_cap(app, ctx):
    from app.outbound_hooks.courier import backoff_seconds

    base, cap = app.config["WEBHOOKS_BACKOFF_BASE_SECONDS"], app.config["WEBHOOKS_BACKOFF_MAX_SECONDS"]
    for attempt in (1, 2, 3, 20):
        full = min(cap, base * 2 ** (attempt - 1))
        waits = {backoff_seconds(attempt) for _ in range(50)}
        assert all(full / 2 <= w <= full for w in waits)
        assert len(waits) > 1  # jittered


@pytest.mark.parametrize("url, words", [
    ("https://10.1.2.3/hook", "private"), ("https://127.0.0.1/hook", "loopback"),
    ("https://169.254.169.254/latest", "link-local"), ("https://[fd00::1]/hook", "unique-local"),
    ("https://100.64.0.9/hook", "carrier-grade NAT"), ("https://224.0.0.1/hook", "multicast"),
    ("https://240.0.0.1/hook", "reserved"), ("https://[::ffff:10.0.0.1]/hook", "private"),
    ("https://inside.example.test/hook", "private"), ("http://crm.example.test/hook", "https://"),
])
def test_registration_refuses_non_public_and_plain_http_addresses(app, login_as, dns, url, words):
    assert not app.config["WEBHOOKS_ALLOW_INSECURE_TARGETS"]
    dns["inside.example.test"] = [PUBLIC_IP, "10.9.8.7"]  # one bad address is enough to refuse
    dns["crm.example.test"] = [PUBLIC_IP]
    response = login_as("admin").post("/api/webhooks", json={"url": url, "events": ["call.completed"]})
    assert response.status_code == 422
    assert words in " ".join(response.get_json()["error"]["fields"]["url"])


@pytest.mark.parametrize("url, words", [("http://10.1.2.3/hook", "private"),
                                        ("http://169.254.169.254/latest", "link-local")])
def test_local_development_allows_loopback_receivers_only(app, login_as, insecure, url, words):
    admin = login_as("admin")
    assert admin.post("/api/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["call.completed"]}
                      ).status_code == 201
    response = admin.post("/api/webhooks", json={"url": url, "events": ["call.completed"]})
    assert response.status_code == 422
    assert words in " ".join(response.get_json()["error"]["fields"]["url"])


def test_a_public_https_address_is_accepted_and_bad_events_get_a_field_error(app, login_as, dns):
    dns["crm.example.test"] = [PUBLIC_IP]
    admin = login_as("admin")
    ok = admin.post("/api/webhooks", json={"url": "https://crm.example.test/omnivox",
                                           "events": ["call.completed", "consent.revoked"]})
    assert ok.status_code == 201 and ok.get_json()["state"] == "active"
    bad = admin.post("/api/webhooks", json={"url": "https://crm.example.test/x", "events": ["call.exploded"]})
    assert bad.status_code == 422 and "events" in bad.get_json()["error"]["fields"]


@pytest.mark.parametrize("later", ["127.0.0.1", "10.0.0.8"])
def test_a_host_that_resolves_to_a_private_address_at_delivery_time_gets_nothing(
        app, login_as, sent_tasks, clock, dns, later):
    from app.extensions import db
    from app.outbound_hooks import services
    from app.outbound_hooks.models import WebhookDelivery

    assert not app.config["WEBHOOKS_ALLOW_INSECURE_TARGETS"]
    with Receiver() as crm:
        dns["crm.example.test"] = [PUBLIC_IP]
        endpoint = create(login_as("admin"), f"https://crm.example.test:{crm.port}/hook")
        dns["crm.example.test"] = [later]  # DNS changed after registration (rebinding)
        raise_and_commit(app, "call.completed", {"call": {"id": 1}})
        delivery_id = sent_tasks[-1][1][0]
        assert in_app(app, services.deliver, delivery_id) == "will-retry"
        assert crm.connections == 0 and crm.requests == []
    with app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert delivery.last_status_code is None and later in delivery.last_error
        assert delivery.endpoint_id == endpoint["id"]


def test_the_checked_address_is_the_one_connected_to(app, ctx, insecure, dns, monkeypatch):
    """Resolution happens once per delivery: a second lookup cannot swap the address."""
    from app.outbound_hooks import transport

    with Receiver() as crm:
        answers = iter([["127.0.0.1"], ["10.66.0.1"]])
        monkeypatch.setattr(transport, "resolve", lambda host, port: next(answers))
        result = transport.post(f"http://crm.example.test:{crm.port}/hook", b"{}", {}, 5)
        assert result.status_code == 200
        assert crm.wait_for(1)[0]["headers"]["Host"] == f"crm.example.test:{crm.port}"


def test_redirects_are_not_followed(app, ctx, insecure):
    from app.outbound_hooks import transport

    with Receiver(codes=(302,)) as crm:
        result = transport.post(crm.url, b"{}", {}, 5)
    assert result.status_code == 302 and not result.ok and len(crm.requests) == 1


def test_an_endpoint_failing_for_a_day_is_switched_off_and_the_admin_told(app, login_as, sent_tasks,
                                                                         clock, insecure):
    from app.audit.models import AuditEntry
    from app.extensions import db
    from app.outbound_hooks import services
    from app.outbound_hooks.models import WebhookDelivery

    admin = login_as("admin")
    with Receiver(codes=(500,)) as crm:
        endpoint = create(admin, crm.url)
        start = clock.now
        raise_and_commit(app, "call.completed", {"call": {"id": 3}})
        outcomes = pump(app, sent_tasks, clock)
        attempts = len(crm.requests)

    assert outcomes[-1] == "failed" and attempts == len(outcomes) > 10
    assert clock.now - start >= timedelta(days=1)
    seen = admin.get(f"/api/webhooks/{endpoint['id']}").get_json()
    assert seen["active"] is False and seen["state"] == "switched_off_failing"
    assert seen["state_words"] == "Switched off after a day of failures"
    assert "HTTP 500" in seen["disabled_reason"]
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.endpoint_switched_off"))
        assert entry is not None and entry.target_id == str(endpoint["id"])
        assert db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.status == "pending")) is None
    # Nothing more is queued for it, until an admin switches it on again.
    assert raise_and_commit(app, "call.completed", {"call": {"id": 4}}) is None
    on = admin.patch(f"/api/webhooks/{endpoint['id']}", json={"active": True}).get_json()
    assert on["state"] == "active" and on["disabled_reason"] is None


def test_a_day_of_failures_is_needed_not_one_failure(app, login_as, sent_tasks, clock, insecure):
    from app.extensions import db
    from app.outbound_hooks import services

    admin = login_as("admin")
    with Receiver(codes=(500, 200)) as crm:
        endpoint = create(admin, crm.url)
        raise_and_commit(app, "call.completed", {"call": {"id": 5}})
        pump(app, sent_tasks, clock)
        crm.wait_for(2)
    seen = admin.get(f"/api/webhooks/{endpoint['id']}").get_json()
    assert seen["state"] == "active" and seen["failing_since"] is None


def test_test_and_redeliver_send_the_same_event_again_once(app, login_as, sent_tasks, clock, insecure):
    from app.extensions import db
    from app.outbound_hooks import secrets, services

    admin = login_as("admin")
    with Receiver(codes=(200,)) as crm:
        endpoint = create(admin, crm.url)
        test = admin.post(f"/api/webhooks/{endpoint['id']}/test")
        assert test.status_code == 202 and test.get_json()["event_type"] == "webhook.test"
        pump(app, sent_tasks, clock)
        raise_and_commit(app, "call.completed", {"call": {"id": 9}})
        pump(app, sent_tasks, clock)
        original = admin.get(f"/api/webhooks/{endpoint['id']}/deliveries").get_json()["items"][0]
        again = admin.post(f"/api/webhooks/{endpoint['id']}/deliveries/{original['id']}/redeliver")
        assert again.status_code == 202 and again.get_json()["redelivery_of_id"] == original["id"]
        pump(app, sent_tasks, clock)
        requests = crm.wait_for(3)
    assert [r["json"]["type"] for r in requests] == ["webhook.test", "call.completed", "call.completed"]
    assert requests[1]["body"] == requests[2]["body"]  # the same bytes, the same event id
    assert all(secrets.verify(endpoint["secret"], r["body"], r["headers"]["Omnivox-Signature"]) for r in requests)
    other = admin.post(f"/api/webhooks/{endpoint['id'] + 999}/test")
    assert other.status_code == 404


def test_only_admins_manage_endpoints(app, login_as):
    for role in ("agent", "supervisor"):
        client = login_as(role)
        assert client.get("/api/webhooks").status_code == 403
        assert client.post("/api/webhooks", json={"url": "https://x.example/", "events": ["call.completed"]}
                           ).status_code == 403


def test_a_status_callback_does_not_wait_on_a_slow_receiver(app, client, login_as, sent_tasks, insecure):
    """The call path only queues the event: the receiver, which never answers until released,
    has not even been asked when the call's completion has been processed."""
    from app.extensions import db
    from app.outbound_hooks.models import WebhookDelivery
    from tests.calls.factories import make_call, make_campaign
    from tests.calls.test_state import deliver as post_callbacks

    hold = threading.Event()
    with Receiver(hold=hold) as crm:
        create(login_as("admin"), crm.url)
        campaign_id = make_campaign(app)
        call_id = make_call(app, campaign_id)
        post_callbacks(app, client, call_id, "CA-slow", ("initiated", 0, {}), ("in-progress", 1, {}),
                       ("completed", 2, {"CallDuration": 30}))
        assert crm.connections == 0 and crm.requests == []
        with app.app_context():
            delivery = db.session.scalar(select(WebhookDelivery))
            assert delivery.status == "pending" and delivery.event.type == "call.completed"
            assert f'"id":{call_id}' in delivery.event.body
        assert [args for name, args, _ in sent_tasks if name == DELIVER] == [[delivery.id]]


def test_a_rolled_back_change_sends_nothing(app, login_as, sent_tasks, dns):
    from app.extensions import db
    from app.outbound_hooks import services

    dns["crm.example.test"] = [PUBLIC_IP]
    create(login_as("admin"), "https://crm.example.test/hook")
    with app.app_context():
        services.raise_event("call.completed", {"call": {"id": 1}})
        db.session.rollback()
        db.session.commit()
    assert [t for t in sent_tasks if t[0] == DELIVER] == []


def test_opt_outs_dispositions_and_callbacks_raise_their_events(app, login_as, sent_tasks, dns):
    from app.contacts import consents
    from app.extensions import db
    from app.outbound_hooks.models import WebhookEvent

    dns["crm.example.test"] = [PUBLIC_IP]
    create(login_as("admin"), "https://crm.example.test/hook",
           events=["contact.opted_out", "consent.revoked", "disposition.saved", "callback.scheduled"])
    with app.app_context():
        consents.revoke("+12025550111", "Acme", "opt_out_key", note="test")
        db.session.commit()
        consents.revoke("+12025550112", "Acme", "api", note="test")
        db.session.commit()
        types = db.session.scalars(select(WebhookEvent.type).order_by(WebhookEvent.id)).all()
    assert types == ["contact.opted_out", "consent.revoked"]


def test_insecure_targets_are_refused_outside_tests_and_local_runs():
    from config import Config, ConfigError

    environ = {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://h/db", "REDIS_URL": "redis://h",
               "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "https://dial.example.com",
               "WEBHOOKS_ALLOW_INSECURE_TARGETS": "1"}
    with pytest.raises(ConfigError, match="WEBHOOKS_ALLOW_INSECURE_TARGETS"):
        Config(environ)
    assert Config({**environ, "WEBHOOKS_ALLOW_INSECURE_TARGETS": ""}).WEBHOOKS_ALLOW_INSECURE_TARGETS is False
    assert Config({**environ, "PUBLIC_BASE_URL": "http://localhost:5000"}).WEBHOOKS_ALLOW_INSECURE_TARGETS


def test_secrets_are_sealed_at_rest(app, ctx):
    from app.outbound_hooks import secrets

    secret = secrets.new_secret()
    sealed = secrets.seal(secret)
    assert secret not in sealed and secrets.unseal(sealed) == secret
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(secrets.SealBroken):
        secrets.unseal(tampered)


def test_the_api_is_described_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/webhooks", "/api/webhooks/{endpoint_id}", "/api/webhooks/{endpoint_id}/deliveries",
                 "/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
                 "/api/webhooks/{endpoint_id}/test"):
        assert path in paths


def test_the_admin_page_is_for_admins(app, login_as):
    admin = login_as("admin")
    page = admin.client.get("/admin/webhooks") if hasattr(admin, "client") else admin.get("/admin/webhooks")
    assert page.status_code == 200 and b"admin-webhooks.js" in page.data and b"secret-dialog" in page.data
    agent = login_as("agent")
    other = agent.client.get("/admin/webhooks") if hasattr(agent, "client") else agent.get("/admin/webhooks")
    assert other.status_code in (302, 403, 404)


class CourierThread(threading.Thread):
    """One `default` worker's courier, running in a thread of its own while the test watches."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.courier = app, None

    def run(self):
        from app.outbound_hooks.courier import Courier

        with self.app.app_context():
            self.courier = Courier()
            self.courier.run()

    def outcomes(self) -> dict:
        return dict(self.courier.outcomes) if self.courier else {}


def wait_until(condition, what):
    """Wait on progress: poll `condition` (the bound only stops a broken run from hanging)."""
    for _ in range(3000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"no progress: {what}")


def delivery_ids(app, endpoint_id):
    from app.extensions import db
    from app.outbound_hooks.models import WebhookDelivery

    with app.app_context():
        return set(db.session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)))


def test_an_endpoint_that_hangs_does_not_hold_back_another(app, login_as, sent_tasks, insecure, monkeypatch):
    """Both endpoints' deliveries are in the same batches; the hanging one holds at most its
    share of the worker's threads, and the other's deliveries are all posted and recorded while
    it still hangs."""
    from app.extensions import db
    from app.outbound_hooks.courier import PER_ENDPOINT
    from app.outbound_hooks.models import WebhookDelivery

    monkeypatch.setitem(app.config, "WEBHOOKS_TIMEOUT_SECONDS", 120)  # it hangs until released
    admin = login_as("admin")
    hold = threading.Event()
    with Receiver(hold=hold) as stuck, Receiver() as crm:
        stuck_id, crm_id = create(admin, stuck.url)["id"], create(admin, crm.url)["id"]
        for n in range(2 * PER_ENDPOINT):
            raise_and_commit(app, "call.completed", {"call": {"id": n}})
        stuck_ids, crm_ids = delivery_ids(app, stuck_id), delivery_ids(app, crm_id)
        worker = CourierThread(app)
        worker.start()
        wait_until(lambda: crm_ids <= worker.outcomes().keys(), "the healthy endpoint's deliveries settled")

        assert {worker.outcomes()[i] for i in crm_ids} == {"succeeded"}
        assert len(crm.requests) == len(crm_ids)
        assert not stuck_ids & worker.outcomes().keys()  # still hanging: not one settled
        assert len(stuck.requests) == PER_ENDPOINT  # its share of the threads, no more
        hold.set()
        worker.join()
    assert len(stuck.requests) == len(stuck_ids)
    with app.app_context():
        statuses = db.session.scalars(select(WebhookDelivery.status)).all()
    assert statuses == ["succeeded"] * (len(stuck_ids) + len(crm_ids))


def test_a_worker_keeps_connections_and_resolves_a_host_once_per_run(app, login_as, sent_tasks, insecure,
                                                                       monkeypatch):
    from app.outbound_hooks import courier, secrets, transport

    lookups = []
    monkeypatch.setattr(transport, "resolve", lambda host, port: lookups.append(host) or ["127.0.0.1"])
    with Receiver() as crm:
        endpoint = create(login_as("admin"), f"http://crm.example.test:{crm.port}/hook")
        lookups.clear()  # the check at registration
        for n in range(5 * courier.PER_ENDPOINT):
            raise_and_commit(app, "call.completed", {"call": {"id": n}})
        outcomes = in_app(app, lambda: courier.Courier().run())
        requests = crm.wait_for(len(outcomes))

    assert set(outcomes.values()) == {"succeeded"} and len(outcomes) == 5 * courier.PER_ENDPOINT
    assert all(secrets.verify(endpoint["secret"], r["body"], r["headers"]["Omnivox-Signature"]) for r in requests)
    assert len({r["json"]["id"] for r in requests}) == len(requests)
    assert crm.connections <= courier.PER_ENDPOINT < len(requests)  # kept alive, never more than in flight
    assert lookups == ["crm.example.test"]  # once per run, not per delivery or batch


def test_a_run_whose_time_is_up_hands_what_is_due_to_the_next_task(app, login_as, sent_tasks, insecure,
                                                                      monkeypatch):
    from app.extensions import db
    from app.outbound_hooks import courier
    from app.outbound_hooks.models import WebhookDelivery

    create(login_as("admin"), "http://127.0.0.1:9/hook")
    raise_and_commit(app, "call.completed", {"call": {"id": 1}})
    sent_tasks.clear()
    monkeypatch.setattr(courier, "RUN_SECONDS", 0.0)  # its time is up before it claims anything
    with app.app_context():
        delivery_id = db.session.scalar(select(WebhookDelivery.id))
        assert courier.deliver(delivery_id) == "not-due"
        assert db.session.get(WebhookDelivery, delivery_id).status == "pending"
    assert [t[0] for t in sent_tasks] == [DELIVER]  # the next task, not the sweep in 15 s


def test_a_switched_off_endpoint_gets_nothing_and_a_test_still_goes(app, login_as, sent_tasks, clock, insecure):
    from app.extensions import db
    from app.outbound_hooks.models import WebhookDelivery

    admin = login_as("admin")
    with Receiver() as crm:
        endpoint = create(admin, crm.url)
        raise_and_commit(app, "call.completed", {"call": {"id": 1}})
        admin.patch(f"/api/webhooks/{endpoint['id']}", json={"active": False})
        assert admin.post(f"/api/webhooks/{endpoint['id']}/test").status_code == 202
        pump(app, sent_tasks, clock)
        requests = crm.wait_for(1)
    assert [r["json"]["type"] for r in requests] == ["webhook.test"]
    with app.app_context():
        test, off = (db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.manual.is_(manual)))
                     for manual in (True, False))
        assert (test.status, test.attempts, test.last_status_code) == ("succeeded", 1, 200)
        assert (off.status, off.attempts) == ("failed", 0) and "switched off" in off.last_error


def test_an_endpoint_that_is_failing_gets_one_delivery_at_a_time(app, login_as, sent_tasks, insecure):
    from collections import Counter

    from app.common.timeutil import utcnow
    from app.extensions import db
    from app.outbound_hooks import courier
    from app.outbound_hooks.models import WebhookEndpoint

    admin = login_as("admin")
    failing, healthy = (create(admin, f"http://127.0.0.1:{port}/hook")["id"] for port in (9, 10))
    for n in range(3):
        raise_and_commit(app, "call.completed", {"call": {"id": n}})
    with app.app_context():
        db.session.get(WebhookEndpoint, failing).failing_since = utcnow()
        db.session.commit()
        claimed = Counter(job.endpoint_id for job in courier.Courier()._claim(courier.THREADS, Counter()))
        db.session.rollback()
    assert claimed == {failing: 1, healthy: 3}


def test_a_burst_of_events_queues_one_task_until_it_starts(app, login_as, sent_tasks, clock, insecure):
    """A task delivers whatever is due, so commits made while one waits to start queue no more;
    one made after it started queues the next."""
    admin = login_as("admin")
    with Receiver() as crm:
        create(admin, crm.url)
        for n in range(3):
            raise_and_commit(app, "call.completed", {"call": {"id": n}})
        assert len([t for t in sent_tasks if t[0] == DELIVER]) == 1
        assert pump(app, sent_tasks, clock) == ["succeeded"]
        assert len(crm.wait_for(3)) == 3
        raise_and_commit(app, "call.completed", {"call": {"id": 4}})
        assert len([t for t in sent_tasks if t[0] == DELIVER]) == 1
        assert pump(app, sent_tasks, clock) == ["succeeded"]
        assert len(crm.wait_for(4)) == 4


def test_a_kept_connection_the_receiver_closed_is_replaced(app, ctx, insecure):
    """A receiver may drop an idle kept-alive connection without saying so: the next POST goes
    out again on a new connection rather than failing."""
    import socket

    from app.outbound_hooks import transport

    listener = socket.create_server(("127.0.0.1", 0))
    seen = []

    def answer_once_per_connection():
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                request = b""
                while not request.endswith(b"}"):  # the headers, then the body
                    request += connection.recv(65536)
                seen.append(request)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")  # then hangs up

    server = threading.Thread(target=answer_once_per_connection, daemon=True)
    server.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    connections = transport.Connections()
    try:
        first = transport.post(url, b'{"n":1}', {}, 5, connections=connections)
        second = transport.post(url, b'{"n":2}', {}, 5, connections=connections)
    finally:
        connections.close()
        server.join(10)
        listener.close()
    assert (first.status_code, second.status_code) == (200, 200)
    assert [request.endswith(body) for request, body in zip(seen, (b'{"n":1}', b'{"n":2}'))] == [True, True]


def test_an_endpoint_that_times_out_is_tried_again_later(app, login_as, sent_tasks, clock, insecure, monkeypatch):
    from app.extensions import db
    from app.outbound_hooks import services
    from app.outbound_hooks.models import WebhookDelivery

    monkeypatch.setitem(app.config, "WEBHOOKS_TIMEOUT_SECONDS", 1)
    hold = threading.Event()
    with Receiver(hold=hold) as crm:
        create(login_as("admin"), crm.url)
        raise_and_commit(app, "call.completed", {"call": {"id": 1}})
        first = in_app(app, services.deliver, sent_tasks.pop()[1][0])
        hold.set()
    assert first == "will-retry" and len(crm.requests) == 1
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery))
        assert (delivery.status, delivery.last_status_code) == ("pending", None)
        assert delivery.last_error == "No answer within 1 second." and delivery.next_attempt_at > clock.now
    assert [name for name, _, options in sent_tasks if options.get("countdown")] == [DELIVER]
