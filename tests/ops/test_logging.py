"""Structured logs: one JSON object per line, with the request id the response echoes."""
from __future__ import annotations

import io
import json
import logging

import pytest
from celery import signals

from app.ops import logging as ops_logging


@pytest.fixture
def json_lines():
    """Root logs as JSON into a buffer (what create_app does with LOG_JSON on); yields a reader."""
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = ops_logging.configure_logging("INFO", stream=buffer)

    def read() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield read
    root.removeHandler(handler)
    root.setLevel(level)


def _access_lines(lines, path):
    return [line for line in lines if line["logger"] == "omnivox.request" and line.get("path") == path]


def test_a_request_logs_one_json_line_with_the_echoed_request_id(client, json_lines):
    response = client.get("/api/auth/csrf", headers={"X-Request-ID": "req-42.abc"})
    assert response.headers["X-Request-ID"] == "req-42.abc"
    [line] = _access_lines(json_lines(), "/api/auth/csrf")
    assert line["request_id"] == "req-42.abc"
    assert line["level"] == "INFO" and line["status"] == 200 and line["method"] == "GET"
    assert line["message"] == "GET /api/auth/csrf 200"
    assert line["ts"].endswith("+00:00") and "T" in line["ts"]
    assert isinstance(line["duration_ms"], float)


@pytest.mark.parametrize("offered", [None, "", "two words", "x" * 200, "evil\r\nSet-Cookie: a=b"])
def test_a_missing_or_unsafe_request_id_is_replaced(client, json_lines, offered):
    headers = {} if offered is None else {"X-Request-ID": offered}
    try:
        response = client.get("/api/auth/csrf", headers=headers)
    except ValueError:  # werkzeug refuses a header with a newline before it reaches us
        return
    request_id = response.headers["X-Request-ID"]
    assert request_id != offered and len(request_id) == 32 and int(request_id, 16) >= 0
    [line] = _access_lines(json_lines(), "/api/auth/csrf")
    assert line["request_id"] == request_id


def test_lines_name_the_signed_in_user(login_as, json_lines):
    admin = login_as("admin")
    admin.get("/api/auth/me", headers={"X-Request-ID": "me-1"})
    [line] = [x for x in _access_lines(json_lines(), "/api/auth/me") if x["request_id"] == "me-1"]
    assert line["user_id"] == admin.user.id


def test_errors_log_json_with_the_traceback(json_lines):
    log = logging.getLogger("omnivox.test")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("it failed", extra={"campaign_id": 5})
    [line] = [x for x in json_lines() if x["logger"] == "omnivox.test"]
    assert line["level"] == "ERROR" and line["message"] == "it failed"
    assert line["exc_type"] == "RuntimeError" and "boom" in line["exc"]
    assert line["campaign_id"] == 5


def test_bound_call_fields_appear_on_every_line_inside_the_block(json_lines):
    log = logging.getLogger("omnivox.test")
    with ops_logging.log_context(call_sid="CA" + "0" * 32, call_id=17):
        log.info("status applied")
    log.info("outside")
    inside, outside = [x for x in json_lines() if x["logger"] == "omnivox.test"]
    assert inside["call_sid"] == "CA" + "0" * 32 and inside["call_id"] == 17
    assert "call_sid" not in outside and "call_id" not in outside


def test_celery_task_lines_carry_task_id_and_name(json_lines):
    ops_logging.connect_celery_logging()
    task = type("Task", (), {"name": "workers.default.ping"})()
    log = logging.getLogger("omnivox.test")
    signals.task_prerun.send(sender=task, task_id="task-123", task=task, args=(), kwargs={})
    log.info("in the task")
    signals.task_postrun.send(sender=task, task_id="task-123", task=task, args=(), kwargs={},
                              retval=None, state="SUCCESS")
    log.info("after the task")
    during, after = [x for x in json_lines() if x["logger"] == "omnivox.test"]
    assert during["task_id"] == "task-123" and during["task_name"] == "workers.default.ping"
    assert "task_id" not in after


def test_celery_handlers_get_the_json_formatter():
    ops_logging.connect_celery_logging()
    logger = logging.getLogger("omnivox.fake-celery")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s"))  # what Celery installs
    logger.addHandler(handler)
    logger.propagate = False
    try:
        signals.after_setup_logger.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None,
                                        format="", colorize=False)
        logger.warning("worker ready")
    finally:
        logger.removeHandler(handler)
    line = json.loads(buffer.getvalue())
    assert line["message"] == "worker ready" and line["level"] == "WARNING"


def test_log_json_is_on_by_default_outside_tests(test_environ):
    from config import Config, TestConfig

    assert Config(test_environ).LOG_JSON is True
    assert Config({**test_environ, "LOG_JSON": "false"}).LOG_JSON is False
    assert TestConfig(test_environ).LOG_JSON is False
    assert TestConfig({**test_environ, "LOG_JSON": "1"}).LOG_JSON is True


def test_accepted_carrier_callbacks_are_quiet_and_refused_ones_are_logged(app, client, json_lines):
    """Five or so callbacks a call, each already stored with its payload: their 2xx access lines
    are DEBUG. A forged one (403) is still an INFO line an operator sees."""
    from tests.calls.factories import make_call, make_campaign, post_signed, status_form

    call_id = make_call(app, make_campaign(app))
    path = f"/twilio/status?attempt={call_id}"
    assert post_signed(client, app, path, status_form("CA-quiet", "ringing", 1)).status_code == 204
    assert client.post(path, data=status_form("CA-forged", "ringing", 2),
                       headers={"X-Twilio-Signature": "forged"}).status_code == 403
    lines = _access_lines(json_lines(), "/twilio/status")
    assert [line["status"] for line in lines] == [403]
