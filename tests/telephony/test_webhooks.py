"""The /twilio webhooks: signatures, storing each callback once, DNC opt-out, TwiML, database down."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select
from twilio.request_validator import RequestValidator

from tests.calls.factories import make_call, make_campaign, post_signed, sign, status_form


def _events(app, **where):
    from app.calls.models import CallEvent
    from app.extensions import db

    with app.app_context():
        query = select(CallEvent).filter_by(**where).order_by(CallEvent.id)
        return db.session.scalars(query).all()


@pytest.fixture
def call_id(app):
    return make_call(app, make_campaign(app))


def test_missing_signature_is_refused_and_nothing_is_stored(app, client, call_id):
    response = client.post(f"/twilio/status?attempt={call_id}",
                           data=status_form("CA1", "ringing", 1))
    assert response.status_code == 403
    assert _events(app) == []


def test_forged_and_tampered_signatures_are_refused(app, client, call_id):
    path = f"/twilio/status?attempt={call_id}"
    form = status_form("CA1", "ringing", 1)
    forged = RequestValidator("not-our-token").compute_signature("http://localhost" + path, form)
    assert client.post(path, data=form, headers={"X-Twilio-Signature": forged}).status_code == 403

    genuine = sign(app, path, form)
    tampered = dict(form, CallStatus="completed")
    assert client.post(path, data=tampered,
                       headers={"X-Twilio-Signature": genuine}).status_code == 403
    # The query string is signed too: the attempt id cannot be swapped.
    other = f"/twilio/status?attempt={call_id + 1}"
    assert client.post(other, data=form,
                       headers={"X-Twilio-Signature": genuine}).status_code == 403
    for kind in ("voice", "amd", "recording", "opt-out"):
        assert client.post(f"/twilio/{kind}", data=form).status_code == 403
    assert _events(app) == []


def test_a_callback_is_stored_once_and_enqueued_once(app, client, call_id, redis_client):
    path = f"/twilio/status?attempt={call_id}"
    form = status_form("CA-once", "ringing", 1)
    assert post_signed(client, app, path, form).status_code == 204
    assert post_signed(client, app, path, form).status_code == 204  # the carrier's retry

    events = _events(app, call_sid="CA-once")
    assert [(e.kind, e.sequence_number, e.status, e.call_id) for e in events] == [
        ("status", 1, "ringing", call_id)]
    assert events[0].payload["CallStatus"] == "ringing"
    # Queued once for the telephony workers, with one drainer woken for it.
    assert redis_client.lrange("telephony:inbox", 0, -1) == [str(events[0].id)]
    assert redis_client.llen("telephony") == 1


def test_signature_is_checked_against_the_public_url_behind_a_proxy(app, client, call_id):
    """The app may be reached on another host/scheme (TLS proxy); Twilio signed the public URL."""
    path = f"/twilio/status?attempt={call_id}"
    form = status_form("CA-proxy", "initiated", 0)
    response = client.post(path, data=form, base_url="https://10.0.0.5:8443",
                           headers={"X-Twilio-Signature": sign(app, path, form)})
    assert response.status_code == 204


def test_database_down_answers_5xx_and_the_retry_is_applied(app, client, call_id, ctx_free_port):
    """A refused PostgreSQL connection makes the webhook answer 503; the carrier's retry lands."""
    from app.calls import state
    from app.calls.models import Call
    from app.extensions import db
    from tests.conftest import _ConnectionBoundSession

    path = f"/twilio/status?attempt={call_id}"
    form = status_form("CA-dbdown", "ringing", 1)
    dead = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{ctx_free_port}/x",
                         connect_args={"connect_timeout": 2})
    working = db.session
    db.session = db._make_scoped_session({"bind": dead, "class_": _ConnectionBoundSession})
    try:
        response = post_signed(client, app, path, form)
    finally:
        with app.app_context():
            db.session.remove()
        db.session = working
        dead.dispose()
    assert response.status_code == 503
    assert _events(app) == []

    assert post_signed(client, app, path, form).status_code == 204
    [event] = _events(app, call_sid="CA-dbdown")
    with app.app_context():
        state.process_call_event(event.id)
        call = db.session.get(Call, call_id)
        assert (call.status, call.call_sid) == ("ringing", "CA-dbdown")


@pytest.fixture
def ctx_free_port():
    from devtools.services import free_port

    return free_port()


def test_voice_answers_a_person_with_twiml_and_stores_the_answer(app, client, call_id):
    """With no agent ready the person hears the safe-harbour message (routing: tests/dialer)."""
    form = {"CallSid": "CA-voice", "CallStatus": "in-progress", "To": "+12025550111"}
    response = post_signed(client, app, f"/twilio/voice?attempt={call_id}", form)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    assert "<Gather" in body and f"opt-out?attempt={call_id}" in body
    assert [e.kind for e in _events(app, call_sid="CA-voice")] == ["voice"]


def _with_written_consent(app, call_id: int) -> int:
    """The call's number becomes a contact who gave prior express written consent."""
    from app.calls.models import Call
    from app.contacts.models import Contact
    from app.extensions import db
    from tests.helpers import give_written_consent

    with app.app_context():
        call = db.session.get(Call, call_id)
        contact = Contact(campaign_id=call.campaign_id, phone_e164=call.to_number)
        db.session.add(contact)
        db.session.flush()
        call.contact_id = contact.id
        give_written_consent(contact.id)
    return call_id


def test_voice_gives_a_machine_the_campaigns_message(app, client):
    campaign = make_campaign(app, amd_enabled=True, machine_action="message",
                             machine_message="Acme here, please call 202 555 0199.")
    call_id = _with_written_consent(app, make_call(app, campaign))
    form = {"CallSid": "CA-m", "CallStatus": "in-progress", "AnsweredBy": "machine_end_beep"}
    body = post_signed(client, app, f"/twilio/voice?attempt={call_id}", form).get_data(as_text=True)
    assert "<Say>Acme here, please call 202 555 0199.</Say>" in body and "<Hangup" in body
    assert "Conference" not in body

    # No written consent on record: a recorded message may not be left (47 CFR 64.1200(a)(2)-(3)).
    unconsented = make_call(app, campaign, to_number="+12025550112")
    form["CallSid"] = "CA-m0"
    body = post_signed(client, app, f"/twilio/voice?attempt={unconsented}", form).get_data(as_text=True)
    assert "<Hangup" in body and "Say" not in body

    placeholders = make_campaign(app, amd_enabled=True, machine_action="message",
                                 machine_message="{seller_name} here, please call {seller_phone}.")
    call_id = _with_written_consent(app, make_call(app, placeholders))
    form["CallSid"] = "CA-m1"
    body = post_signed(client, app, f"/twilio/voice?attempt={call_id}", form).get_data(as_text=True)
    assert "<Say>Acme here, please call (202) 555-0199.</Say>" in body

    hangup_campaign = make_campaign(app, amd_enabled=True)
    call_id = make_call(app, hangup_campaign)
    form["CallSid"] = "CA-m2"
    body = post_signed(client, app, f"/twilio/voice?attempt={call_id}", form).get_data(as_text=True)
    assert "<Hangup" in body and "Say" not in body


def _dnc(app):
    from app.dnc.models import DncEntry
    from app.extensions import db

    with app.app_context():
        return [(d.phone_e164, d.campaign_id, d.source)
                for d in db.session.scalars(select(DncEntry)).all()]


def test_opt_out_key_adds_the_callee_to_the_internal_dnc_list_once(app, client):
    call_id = make_call(app, make_campaign(app), to_number="+12025550166")
    form = {"CallSid": "CA-opt", "Digits": "9", "To": "+12025550166"}
    response = post_signed(client, app, f"/twilio/opt-out?attempt={call_id}", form)
    assert response.status_code == 200
    assert "do-not-call" in response.get_data(as_text=True)
    assert "<Hangup" in response.get_data(as_text=True)
    assert post_signed(client, app, f"/twilio/opt-out?attempt={call_id}",
                       dict(form, CallSid="CA-opt2")).status_code == 200
    assert _dnc(app) == [("+12025550166", None, "opt-out")]


def test_another_key_does_not_opt_out(app, client, call_id):
    form = {"CallSid": "CA-opt3", "Digits": "1", "To": "+12025550111"}
    response = post_signed(client, app, f"/twilio/opt-out?attempt={call_id}", form)
    assert response.status_code == 200
    assert "<Hangup" in response.get_data(as_text=True)
    assert _dnc(app) == []


def test_amd_and_recording_callbacks_are_stored(app, client, call_id):
    amd = {"CallSid": "CA-r", "AnsweredBy": "machine_start", "MachineDetectionDuration": "1200"}
    rec = {"CallSid": "CA-r", "RecordingSid": "RE1", "RecordingStatus": "completed",
           "RecordingUrl": "https://carrier.example/Recordings/RE1"}
    assert post_signed(client, app, f"/twilio/amd?attempt={call_id}", amd).status_code == 204
    assert post_signed(client, app, f"/twilio/recording?attempt={call_id}", rec).status_code == 204
    assert [(e.kind, e.status) for e in _events(app, call_sid="CA-r")] == [
        ("amd", "machine_start"), ("recording", "completed")]


def test_webhooks_need_no_csrf_token_and_no_session(app, client, call_id):
    with app.app_context():
        from app.extensions import db
        from app.calls.models import CallEvent

        before = db.session.scalar(select(func.count()).select_from(CallEvent))
    form = status_form("CA-csrf", "initiated", 0)
    assert post_signed(client, app, f"/twilio/status?attempt={call_id}", form).status_code == 204
    assert len(_events(app)) == before + 1


def test_a_callback_after_postgresql_dropped_the_pooled_connection_is_stored(app, client):
    """No ping before each checkout (one round trip saved per callback): the connection a restart
    killed fails once, the pool is discarded, and the callback is stored on a fresh connection,
    answered 2xx, with nothing for the carrier to retry."""
    import secrets

    from sqlalchemy import text

    from app.extensions import db
    from tests.conftest import _ConnectionBoundSession

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    pooled = create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=False)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    sid = "CA-restart-" + secrets.token_hex(4)
    with pooled.connect() as conn:  # the pool now holds one live connection
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    with admin.connect() as conn:  # as a PostgreSQL restart would
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    working = db.session
    db.session = db._make_scoped_session({"bind": pooled, "class_": _ConnectionBoundSession})
    try:
        response = post_signed(client, app, "/twilio/status", status_form(sid, "ringing", 1))
    finally:
        with app.app_context():
            db.session.remove()
        db.session = working
    try:
        assert response.status_code == 204
        with admin.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM call_events WHERE call_sid = :sid"),
                                  {"sid": sid}).scalar()
        assert stored == 1
    finally:
        with admin.connect() as conn:  # it was committed outside the test's transaction
            conn.execute(text("DELETE FROM call_events WHERE call_sid = :sid"), {"sid": sid})
        pooled.dispose()
        admin.dispose()
