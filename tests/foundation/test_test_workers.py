"""The suite's own isolation when pytest-xdist runs it on several workers: each worker wipes
a schema and flushes a Redis db, so each must get its own, or one worker's reset would
delete another's rows mid-test."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from config import sqlalchemy_url
from tests.conftest import _worker_database, _worker_redis


def test_alone_the_named_database_and_redis_db_are_used(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert _worker_database("postgresql://u@h/test") == "postgresql://u@h/test"
    assert _worker_redis("redis://h:6379/4") == "redis://h:6379/4"


def test_each_worker_gets_its_own_database_created_beside_the_named_one(monkeypatch, service_urls):
    named = urlsplit(service_urls["database"])
    base = named._replace(path="/" + named.path.lstrip("/").rsplit("_gw", 1)[0]).geturl()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    url = _worker_database(base)
    assert urlsplit(url).path == urlsplit(base).path + "_gw1"
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:  # it exists: created on first use
            assert conn.execute(text("SELECT current_database()")).scalar().endswith("_gw1")
    finally:
        engine.dispose()


def test_each_worker_flushes_its_own_redis_db_and_too_many_workers_are_refused(monkeypatch, service_urls):
    named = urlsplit(service_urls["redis"])
    base = named._replace(path="/0").geturl()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert _worker_redis(base) == base
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw2")
    assert urlsplit(_worker_redis(base)).path == "/2"
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw40")
    with pytest.raises(pytest.UsageError, match="run fewer workers"):
        _worker_redis(base)
