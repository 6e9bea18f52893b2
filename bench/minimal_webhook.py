"""The baseline for bench/webhooks.py: the least a signed status webhook can do.

Validate the signature, insert the raw event (ON CONFLICT DO NOTHING), upsert the
call's status, commit. Run as ``gunicorn bench.minimal_webhook:app`` with the same
env as the real app.
"""
from __future__ import annotations

import json
import os

from flask import Flask, Response, request
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from config import sqlalchemy_url

app = Flask("minimal_webhook")
engine = create_engine(sqlalchemy_url(os.environ["DATABASE_URL"]), pool_size=10, max_overflow=20)
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
BASE = os.environ["PUBLIC_BASE_URL"].rstrip("/")

INSERT = text("INSERT INTO call_events (call_id, call_sid, kind, sequence_number, status, payload) "
              "VALUES (:attempt, :sid, 'status', :seq, :status, CAST(:payload AS jsonb)) "
              "ON CONFLICT DO NOTHING")
UPSERT = text("UPDATE calls SET status = :status, last_sequence_number = :seq, call_sid = :sid "
              "WHERE id = :attempt AND last_sequence_number < :seq")


@app.post("/twilio/status")
def status():
    url = BASE + request.full_path.rstrip("?")
    if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
        return Response(status=403)
    form = request.form
    params = {"attempt": int(request.args["attempt"]), "sid": form["CallSid"],
              "seq": int(form["SequenceNumber"]), "status": form["CallStatus"],
              "payload": json.dumps(form.to_dict())}
    with engine.begin() as conn:
        conn.execute(INSERT, params)
        conn.execute(UPSERT, params)
    return Response(status=204)
