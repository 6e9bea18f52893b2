"""The web app and a Celery worker as bench.live_latency runs them, with a stand-in status webhook.

`POST /bench/twilio/status` does what the real `/twilio/status` does up to the live event:
validate the X-Twilio-Signature of the form against the request URL, store the callback once
(`call_events`), and then either publish `call.state` from the web process (`via=web`) or hand
the stored event to a Celery worker on the `bench` queue that publishes it (`via=worker`, the
production shape: status callbacks are processed by `telephony` workers). Once the real
webhook's worker publishes call.state, point the benchmark at /twilio/status instead.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator

from app import create_app
from app.auth import security
from app.extensions import db

BLUEPRINT = "bench_twilio"
TASK = "bench.live_latency.publish_call_state"

bench_bp = Blueprint(BLUEPRINT, __name__, url_prefix="/bench/twilio")


def _call_state(event) -> dict:
    return {"call_sid": event.call_sid, "status": event.status, "sequence_number": event.sequence_number,
            "campaign_id": int(event.payload.get("CampaignId", 0))}


@bench_bp.post("/status")
def status():
    from app.calls.models import CallEvent
    from app.realtime.publish import campaign_room, publish

    validator = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"])
    if not validator.validate(request.url, request.form, request.headers.get("X-Twilio-Signature", "")):
        return Response("invalid signature", status=403)
    form = request.form.to_dict()
    event = CallEvent(call_sid=form["CallSid"], kind="status", sequence_number=int(form["SequenceNumber"]),
                      status=form["CallStatus"], payload=form)
    db.session.add(event)
    db.session.commit()
    if request.args.get("via") == "worker":
        celery.send_task(TASK, args=[event.id], queue="bench")
    else:
        payload = _call_state(event)
        publish("call.state", payload, room=campaign_room(payload["campaign_id"]))
    return Response(status=204)


app = create_app()
# Twilio signs these requests; like the real "twilio" blueprint, they carry no CSRF token.
security.CSRF_EXEMPT_BLUEPRINTS = security.CSRF_EXEMPT_BLUEPRINTS | {BLUEPRINT}
app.register_blueprint(bench_bp)
celery = app.extensions["celery"]


@celery.task(name=TASK)
def publish_call_state(event_id: int) -> None:
    from app.calls.models import CallEvent
    from app.realtime.publish import campaign_room, publish

    event = db.session.get(CallEvent, event_id)
    payload = _call_state(event)
    publish("call.state", payload, room=campaign_room(payload["campaign_id"]))
