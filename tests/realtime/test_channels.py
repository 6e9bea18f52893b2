"""Live events on a shared Redis server: Redis pub/sub ignores the db number, so each db's
deployment (or test worker) must publish on its own channel or it hears the others'."""
from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

import redis as redis_lib

from app.common.redis import db_number
from app.realtime.publish import QUEUE_CHANNEL, queue_channel, queue_emitter


def test_db_0_keeps_the_default_channel_and_every_other_db_has_its_own():
    assert queue_channel("redis://127.0.0.1:6379/0") == QUEUE_CHANNEL
    assert queue_channel("redis://127.0.0.1:6379") == QUEUE_CHANNEL
    assert queue_channel(None) == QUEUE_CHANNEL
    assert queue_channel("redis://127.0.0.1:6379/3") == f"{QUEUE_CHANNEL}-db3"
    assert queue_channel("redis://127.0.0.1:6379/03") == f"{QUEUE_CHANNEL}-db3"
    assert queue_channel("redis://127.0.0.1:6379?db=3") == f"{QUEUE_CHANNEL}-db3"


def _heard(client, channel: str):
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    return pubsub


def test_an_event_published_for_one_db_is_not_heard_on_another(service_urls):
    url = service_urls["redis"]
    mine = db_number(url)
    # Another db's channel: other workers of this run may publish there, so the test looks for
    # its own event only, told apart by a campaign id no test uses.
    other = urlsplit(url)._replace(path=f"/{(mine + 1) % 16}", query="").geturl()
    marker = secrets.randbits(40)
    client = redis_lib.Redis.from_url(url)
    own, neighbour = _heard(client, queue_channel(url)), _heard(client, queue_channel(other))
    try:
        queue_emitter(url).emit("campaign.figures", {"campaign_id": marker}, namespace="/live",
                                room="campaign:1")
        assert _ours(own, marker, wait=5) is True
        assert _ours(neighbour, marker, wait=0.5) is False
    finally:
        own.close()
        neighbour.close()
        client.close()


def _ours(pubsub, marker: int, wait: float) -> bool:
    """Whether the event carrying `marker` arrives within `wait` s (others are passed over)."""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        message = pubsub.get_message(timeout=left)
        if message and str(marker) in str(message["data"]):
            return True
    return False
