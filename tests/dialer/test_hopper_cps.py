"""The dial queue's claims and leases, and the shared CPS bucket, on a real Redis."""
import threading

import pytest

from app.dialer.cps import CpsBucket
from app.dialer.hopper import PRIORITY_CALLBACK, PRIORITY_NEW, PRIORITY_RETRY, Hopper, priority


def test_claims_follow_priority_callbacks_then_new_then_retries(redis_client):
    hopper = Hopper(redis_client)
    hopper.add(1, [(30, priority(PRIORITY_RETRY, 100)), (20, priority(PRIORITY_NEW, 20)),
                   (10, priority(PRIORITY_CALLBACK, 500)), (21, priority(PRIORITY_NEW, 21))])
    assert hopper.claim(1, 3, lease_seconds=30) == [10, 20, 21]
    assert hopper.claim(1, 5, lease_seconds=30) == [30]
    assert hopper.claim(1, 5, lease_seconds=30) == []


def test_concurrent_claims_never_hand_out_a_contact_twice(redis_client):
    hopper = Hopper(redis_client)
    hopper.add(7, [(i, priority(PRIORITY_NEW, i)) for i in range(1, 2001)])
    claimed: list[int] = []
    lock = threading.Lock()

    def worker():
        mine = []
        while batch := hopper.claim(7, 7, lease_seconds=30):
            mine += batch
        with lock:
            claimed.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == list(range(1, 2001))


def test_a_leased_contact_is_not_queued_again_until_its_lease_expires(redis_client):
    hopper = Hopper(redis_client)
    hopper.add(3, [(5, 1.0)])
    assert hopper.claim(3, 1, lease_seconds=10, now=1000.0) == [5]
    assert hopper.add(3, [(5, 1.0)]) == 0  # a refill while it is being dialled skips it
    assert hopper.requeue_expired(3, now=1005.0) == []
    assert hopper.requeue_expired(3, now=1011.0) == [5]  # the worker died: it goes back
    assert hopper.claim(3, 1, lease_seconds=10, now=1012.0) == [5]
    hopper.ack(3, 5)
    assert hopper.requeue_expired(3, now=5000.0) == []  # acked: never comes back by itself
    assert hopper.depth(3) == {"ready": 0, "leased": 0, "held_back": {}}


def test_depth_reports_held_back_reasons(redis_client):
    hopper = Hopper(redis_client)
    hopper.add(4, [(1, 1.0), (2, 2.0)])
    hopper.claim(4, 1, lease_seconds=10)
    hopper.set_held(4, {"do_not_call": 3, "outside_calling_window": 12})
    assert hopper.depth(4) == {"ready": 1, "leased": 1,
                               "held_back": {"do_not_call": 3, "outside_calling_window": 12}}


def test_cps_bucket_spaces_reservations_at_the_configured_rate(redis_client):
    bucket = CpsBucket(redis_client, "AC-test", rate=20)
    at = 1_700_000_000.0  # one instant: the test owns the clock, so a slow machine changes nothing
    waits = [bucket.reserve(now=at) for _ in range(41)]
    assert waits[0] == 0
    # each reservation waits one slot (1/20 s) longer than the one before, across callers
    assert waits == pytest.approx([k * 0.05 for k in range(41)])
    # half a second later, ten slots have passed: the next caller waits for the 31st
    assert bucket.reserve(now=at + 0.5) == pytest.approx(41 * 0.05 - 0.5)


def test_cps_bucket_is_shared_between_workers(redis_client):
    one = CpsBucket(redis_client, "AC-shared", rate=10)
    two = CpsBucket(redis_client, "AC-shared", rate=10)
    other_account = CpsBucket(redis_client, "AC-other", rate=10)
    at = 1_700_000_000.0
    assert one.reserve(now=at) == 0
    assert two.reserve(now=at) == pytest.approx(0.1)  # the second worker waits for the first's slot
    assert other_account.reserve(now=at) == 0


def test_unlimited_cps_never_waits(redis_client):
    bucket = CpsBucket(redis_client, "AC-free", rate=None)
    assert all(bucket.reserve() == 0 for _ in range(100))
