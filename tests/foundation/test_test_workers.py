"""The suite's own isolation when pytest-xdist runs it on several workers: each worker wipes
a schema and flushes a Redis db, so each must get its own, or one worker's reset would
delete another's rows mid-test."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from config import sqlalchemy_url
from tests.conftest import _database_beside, _worker_database, _worker_redis


def test_alone_the_named_database_and_redis_db_are_used(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert _worker_database("postgresql://u@h/test") == "postgresql://u@h/test"
    assert _worker_redis("redis://h:6379/4") == "redis://h:6379/4"


def test_a_worker_s_database_is_created_beside_the_named_one_once(service_urls):
    suffix = f"check{secrets.token_hex(3)}"
    url = _database_beside(service_urls["database"], suffix)
    assert urlsplit(url).path == urlsplit(service_urls["database"]).path + f"_{suffix}"
    assert _database_beside(service_urls["database"], suffix) == url  # there already: kept
    name = urlsplit(url).path.lstrip("/")
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == name
    finally:
        engine.dispose()
        admin = create_engine(sqlalchemy_url(service_urls["database"]), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_each_worker_flushes_its_own_redis_db_and_too_many_workers_are_refused(monkeypatch, service_urls):
    named = urlsplit(service_urls["redis"])
    base = named._replace(path="/0", query="").geturl()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert _worker_redis(base) == base
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw2")
    assert urlsplit(_worker_redis(base)).path == "/2"
    # The db named in the query, as redis-py also reads it, is the base too.
    assert urlsplit(_worker_redis(named._replace(path="", query="db=1").geturl())).path == "/3"
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw40")
    with pytest.raises(pytest.UsageError, match="run fewer workers"):
        _worker_redis(base)
