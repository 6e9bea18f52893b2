"""Live events on a shared Redis server: Redis pub/sub ignores the db number, so each db's
deployment (or test worker) must publish on its own channel or it hears the others'."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import redis as redis_lib

from app.realtime.publish import QUEUE_CHANNEL, queue_channel, queue_emitter


def test_db_0_keeps_the_default_channel_and_every_other_db_has_its_own():
    assert queue_channel("redis://127.0.0.1:6379/0") == QUEUE_CHANNEL
    assert queue_channel("redis://127.0.0.1:6379") == QUEUE_CHANNEL
    assert queue_channel(None) == QUEUE_CHANNEL
    assert queue_channel("redis://127.0.0.1:6379/3") == f"{QUEUE_CHANNEL}-db3"


def _heard(client, channel: str):
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    return pubsub


def test_an_event_published_for_one_db_is_not_heard_on_another(service_urls):
    url = service_urls["redis"]
    parts = urlsplit(url)
    mine = int(parts.path.lstrip("/") or 0)
    other = parts._replace(path=f"/{(mine + 1) % 16}").geturl()
    client = redis_lib.Redis.from_url(url)
    own, neighbour = _heard(client, queue_channel(url)), _heard(client, queue_channel(other))
    try:
        queue_emitter(url).emit("campaign.figures", {"campaign_id": 1}, namespace="/live",
                                room="campaign:1")
        message = own.get_message(timeout=5)
        assert message is not None and json.loads(message["data"])["event"] == "campaign.figures"
        assert neighbour.get_message(timeout=0.5) is None
    finally:
        own.close()
        neighbour.close()
        client.close()
