"""Calls to our numbers, as Twilio runs them: the number's voice URL set through the real SDK,
the inbound request's parameters and signature, <Reject>, a withheld caller, <Gather> with the
caller's keys, a queue (<Enqueue>, its wait URL, <Leave/>, patience, REST redirects), a
voicemail (<Record>), and an inbound caller talking to an agent in a conference."""
from __future__ import annotations

import io
import wave

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from app.telephony.twilio_carrier import RoutingHttpClient
from carrier_harness import (  # noqa: F401
    ACCOUNT_SID, AUTH_TOKEN, TERMINAL, app_stand_in, receiver, sim,
)
from carrier_sim.numbers import number_sid

OUR_NUMBER = "+13125550104"      # Chicago, one of the simulator's demo numbers
CALLER = "+14155550177"          # San Francisco
AGENT_ROOM = "agent-7"


def _client(sim) -> Client:
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=RoutingHttpClient(sim.api_base_url))


def _route(sim, receiver, path: str = "inbound", number: str = OUR_NUMBER):
    return _client(sim).incoming_phone_numbers(number_sid(number)).update(
        voice_url=receiver.url(path), voice_method="POST", status_callback=receiver.url("status"))


def _call_in(sim, **body) -> dict:
    body.setdefault("From", CALLER)
    body.setdefault("To", OUR_NUMBER)
    response = requests.post(f"{sim.api_base_url}/_sim/inbound", json=body, timeout=5)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _twiml(*verbs: str) -> str:
    return "<?xml version='1.0' encoding='UTF-8'?><Response>" + "".join(verbs) + "</Response>"


def sim_conferences(sim, name: str) -> list[dict]:
    url = f"{sim.api_base_url}/_sim/conferences?name={name}"
    return requests.get(url, timeout=5).json()["conferences"]


def sim_alone(sim) -> list[dict]:
    """Each person who sat in a conference with nobody to talk to."""
    return requests.get(f"{sim.api_base_url}/_sim/conferences", timeout=5).json()["alone"]


def _signed(item) -> bool:
    return bool(item.signature) and RequestValidator(AUTH_TOKEN).validate(item.url, item.form,
                                                                          item.signature)


def _final(receiver, call_sid: str):
    return receiver.wait_for(lambda: next(
        (r for r in receiver.of("status", call_sid) if r.form["CallStatus"] in TERMINAL), None))


# -- the number ---------------------------------------------------------------------------------
def test_the_sdk_sets_a_numbers_voice_url_and_the_number_shows_it(sim, receiver):
    updated = _route(sim, receiver)
    assert (updated.voice_url, updated.voice_method) == (receiver.url("inbound"), "POST")
    assert updated.status_callback == receiver.url("status")
    fetched = _client(sim).incoming_phone_numbers(number_sid(OUR_NUMBER)).fetch()
    assert fetched.voice_url == receiver.url("inbound") and fetched.phone_number == OUR_NUMBER
    listed = {n.phone_number: n.voice_url for n in _client(sim).incoming_phone_numbers.list()}
    assert listed[OUR_NUMBER] == receiver.url("inbound") and listed["+12025550101"] is None


def test_a_bad_voice_url_or_an_unknown_number_is_refused(sim):
    numbers = _client(sim).incoming_phone_numbers
    with pytest.raises(TwilioRestException) as bad_url:
        numbers(number_sid(OUR_NUMBER)).update(voice_url="not a url")
    assert bad_url.value.status == 400
    with pytest.raises(TwilioRestException) as unknown:
        numbers(number_sid("+19995550100")).update(voice_url="https://example.com/x")
    assert unknown.value.status == 404


# -- the inbound request -------------------------------------------------------------------------
def test_a_call_to_our_number_asks_its_voice_url_as_twilio_does(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml("<Say>Thanks for calling back.</Say>")

    placed = _call_in(sim)

    final = _final(receiver, placed["call_sid"])
    [asked] = receiver.of("inbound")
    form = asked.form
    assert _signed(asked)
    assert form["CallSid"] == placed["call_sid"] and form["AccountSid"] == ACCOUNT_SID
    assert (form["CallStatus"], form["Direction"], form["ApiVersion"]) == ("ringing", "inbound",
                                                                          "2010-04-01")
    assert (form["From"], form["Caller"], form["To"], form["Called"]) == (CALLER, CALLER,
                                                                          OUR_NUMBER, OUR_NUMBER)
    assert (form["FromCity"], form["FromState"], form["FromCountry"]) == (
        "SAN FRANCISCO", "CA", "US")
    assert (form["ToCity"], form["ToState"], form["CalledState"]) == ("CHICAGO", "IL", "IL")
    # The number's status callback hears of the end only, as a number's callback does.
    statuses = [r.form["CallStatus"] for r in receiver.of("status", placed["call_sid"])]
    assert statuses == ["completed"]
    assert _signed(final) and final.form["Direction"] == "inbound"
    assert int(final.form["CallDuration"]) >= 1
    fetched = _client(sim).calls(placed["call_sid"]).fetch()
    assert (fetched.direction, fetched._from, fetched.to, fetched.status) == (
        "inbound", CALLER, OUR_NUMBER, "completed")
    assert fetched.phone_number_sid == number_sid(OUR_NUMBER)
    assert sim.call(placed["call_sid"])["said"] == ["Thanks for calling back."]


def test_a_withheld_caller_arrives_as_twilio_sends_one(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml("<Hangup/>")

    placed = _call_in(sim, From="")

    _final(receiver, placed["call_sid"])
    form = receiver.of("inbound")[0].form
    assert form["From"] == form["Caller"] == "+266696687"  # ANONYMOUS on a keypad
    assert form["FromCity"] == form["FromState"] == form["FromCountry"] == ""


def test_a_number_without_a_voice_url_is_out_of_service_and_a_stranger_refused(sim, receiver):
    answer = _call_in(sim, To="+12025550101")
    assert answer["call_sid"] is None and answer["status"] == "out-of-service"
    assert _client(sim).calls.list() == [] and receiver.received == []

    stranger = requests.post(f"{sim.api_base_url}/_sim/inbound",
                             json={"From": CALLER, "To": "+19995550100"}, timeout=5)
    assert stranger.status_code == 404 and "not a phone number of this account" in stranger.text


@pytest.mark.parametrize("reason, status", [("busy", "busy"), ("rejected", "no-answer")])
def test_reject_ends_the_call_unanswered(sim, receiver, reason, status):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml(f'<Reject reason="{reason}"/>')

    placed = _call_in(sim)

    final = _final(receiver, placed["call_sid"])
    assert final.form["CallStatus"] == status and final.form["CallDuration"] == "0"
    assert sim.call(placed["call_sid"])["history"][-1]["status"] == status


def test_the_callers_keys_answer_each_gather_in_turn(sim, receiver):
    _route(sim, receiver)
    menu = '<Gather numDigits="1" action="{}"><Say>Press a key.</Say></Gather>'
    receiver.replies["inbound"] = lambda form: _twiml(menu.format(receiver.url("menu")))
    receiver.replies["menu"] = lambda form: (
        _twiml(menu.format(receiver.url("menu"))) if form["Digits"] == "2" else _twiml("<Hangup/>"))

    form = [("From", CALLER), ("To", OUR_NUMBER), ("digits", "2"), ("digits", "9")]
    placed = requests.post(f"{sim.api_base_url}/_sim/inbound", data=form, timeout=5).json()

    _final(receiver, placed["call_sid"])
    pressed = receiver.of("menu", placed["call_sid"])
    assert [p.form["Digits"] for p in pressed] == ["2", "9"]
    assert all(_signed(p) and p.form["CallStatus"] == "in-progress" for p in pressed)
    assert [d["digits"] for d in sim.call(placed["call_sid"])["digits_pressed"]] == ["2", "9"]


# -- queues ---------------------------------------------------------------------------------------
def _enqueue(receiver, name: str = "support") -> str:
    return (f'<Enqueue waitUrl="{receiver.url("wait")}" action="{receiver.url("queue-done")}" '
            f'waitUrlMethod="POST">{name}</Enqueue>')


def test_a_queued_caller_hears_the_wait_url_again_and_again_until_leave(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml(_enqueue(receiver))
    # The first two wait documents just end (Twilio asks the wait URL again); the third leaves.
    receiver.replies["wait"] = lambda form: _twiml(
        "<Say>You are caller number one.</Say>" if len(receiver.of("wait")) < 3 else "<Leave/>")
    receiver.replies["queue-done"] = lambda form: _twiml("<Say>Please leave a message.</Say>")

    placed = _call_in(sim, patience=600)

    _final(receiver, placed["call_sid"])
    waits = receiver.of("wait", placed["call_sid"])
    assert len(waits) == 3 and all(_signed(w) for w in waits)
    first = waits[0].form
    assert first["QueueSid"].startswith("QU") and first["QueuePosition"] == "1"
    assert (first["CurrentQueueSize"], first["MaxQueueSize"]) == ("1", "1000")
    assert first["QueueTime"] == "0" and "AvgQueueTime" in first
    assert int(waits[2].form["QueueTime"]) >= 2  # two sayings of 5 words (2 s each) later
    [done] = receiver.of("queue-done", placed["call_sid"])
    assert _signed(done) and done.at > waits[-1].at
    assert (done.form["QueueResult"], done.form["QueueSid"]) == ("leave", first["QueueSid"])
    assert int(done.form["QueueTime"]) >= 2
    seen = sim.call(placed["call_sid"])
    assert seen["said"][-1] == "Please leave a message."  # the action's TwiML played
    assert [(q["queue"], q["result"]) for q in seen["queue_history"]] == [("support", "leave")]


def test_a_failing_wait_url_takes_the_caller_out_with_queue_result_error(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml(_enqueue(receiver))
    receiver.forced_codes["wait"] = [500]
    receiver.replies["queue-done"] = lambda form: _twiml("<Say>Sorry, try again later.</Say>")

    placed = _call_in(sim, patience=600)

    _final(receiver, placed["call_sid"])
    [done] = receiver.of("queue-done", placed["call_sid"])
    assert done.form["QueueResult"] == "error"
    assert sim.call(placed["call_sid"])["said"] == ["Sorry, try again later."]


def test_callers_wait_in_order_and_see_their_place(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml(_enqueue(receiver))
    receiver.replies["wait"] = lambda form: _twiml("<Pause length='5'/>")

    first = _call_in(sim, patience=600)
    receiver.wait_for(lambda: receiver.of("wait", first["call_sid"]))
    second = _call_in(sim, From="+14155550188", patience=600)
    asked = receiver.wait_for(lambda: receiver.of("wait", second["call_sid"]))[0].form

    assert (asked["QueuePosition"], asked["CurrentQueueSize"]) == ("2", "2")
    [queue] = _client(sim).queues.list()
    assert (queue.friendly_name, queue.current_size) == ("support", 2)
    members = _client(sim).queues(queue.sid).members.list()
    assert [(m.call_sid, m.position) for m in members] == [(first["call_sid"], 1),
                                                           (second["call_sid"], 2)]
    for placed in (first, second):
        _client(sim).calls(placed["call_sid"]).update(status="completed")


def test_a_caller_hangs_up_when_their_patience_runs_out(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml(_enqueue(receiver))
    receiver.replies["wait"] = lambda form: _twiml(
        "<Say>Please hold.</Say><Play>https://example.com/hold.mp3</Play>")
    receiver.replies["queue-done"] = lambda form: _twiml("<Say>Never heard.</Say>")

    placed = _call_in(sim, patience=30)

    final = _final(receiver, placed["call_sid"])
    [done] = receiver.of("queue-done", placed["call_sid"])
    assert done.form["QueueResult"] == "hangup" and int(done.form["QueueTime"]) >= 30
    assert final.form["CallStatus"] == "completed" and done.at <= final.at
    seen = sim.call(placed["call_sid"])
    assert "Never heard." not in seen["said"] and "https://example.com/hold.mp3" in seen["played"]
    [stay] = seen["queue_history"]
    assert stay["result"] == "hangup" and stay["seconds"] >= 30


def _agent_in_room(sim, receiver) -> str:
    """An agent's browser leg sitting in their own conference room."""
    receiver.replies["agent"] = lambda form: _twiml(
        f'<Dial><Conference startConferenceOnEnter="true">{AGENT_ROOM}</Conference></Dial>')
    response = requests.post(f"{sim.api_base_url}/_sim/clients/agent7/connect",
                             data={"Url": receiver.url("agent")}, timeout=5)
    agent = response.json()["call_sid"]
    receiver.wait_for(lambda: any(p["call_sid"] == agent for c in sim_conferences(sim, AGENT_ROOM)
                                  for p in c["participants"]))
    return agent


def test_a_rest_redirect_takes_a_caller_out_of_the_queue_into_an_agents_room(sim, receiver):
    _route(sim, receiver)
    agent = _agent_in_room(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml(_enqueue(receiver))
    receiver.replies["wait"] = lambda form: _twiml("<Say>Please hold.</Say><Pause length='9'/>")

    placed = _call_in(sim, patience=600, talk_seconds=30)
    receiver.wait_for(lambda: receiver.of("wait", placed["call_sid"]))
    _client(sim).calls(placed["call_sid"]).update(
        twiml=f"<Response><Dial><Conference>{AGENT_ROOM}</Conference></Dial></Response>")

    final = _final(receiver, placed["call_sid"])
    [done] = receiver.of("queue-done", placed["call_sid"])
    assert done.form["QueueResult"] == "redirected" and _signed(done)
    # Out of the queue, the wait URL is asked no more (it was every 10 s while queued).
    assert [w for w in receiver.of("wait", placed["call_sid"]) if w.at > done.at + 0.05] == []
    joined = [h for c in sim_conferences(sim, AGENT_ROOM) for h in c["history"]
              if h["call_sid"] == placed["call_sid"]]
    assert [h["event"] for h in joined] == ["join", "leave"]  # talked, then hung up
    assert all(a["call_sid"] != placed["call_sid"] for a in sim_alone(sim))
    assert final.form["CallStatus"] == "completed" and int(final.form["CallDuration"]) >= 30
    assert sim.call(agent)["status"] == "in-progress"  # the agent's leg stays up


def test_a_caller_alone_in_a_room_is_counted_alone(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml(
        "<Dial><Conference>empty-room</Conference></Dial>")

    placed = _call_in(sim, talk_seconds=20)

    _final(receiver, placed["call_sid"])
    alone = sim_alone(sim)
    assert [a["call_sid"] for a in alone] == [placed["call_sid"]] and alone[0]["seconds"] >= 19


def test_a_member_dequeued_through_the_queue_api_follows_its_url(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _twiml(_enqueue(receiver))
    receiver.replies["wait"] = lambda form: _twiml("<Pause length='5'/>")
    receiver.replies["front"] = lambda form: _twiml("<Say>An agent is free.</Say>")

    placed = _call_in(sim, patience=600)
    asked = receiver.wait_for(lambda: receiver.of("wait", placed["call_sid"]))[0]
    queue_sid = asked.form["QueueSid"]
    _client(sim).queues(queue_sid).members("Front").update(url=receiver.url("front"), method="POST")

    _final(receiver, placed["call_sid"])
    [done] = receiver.of("queue-done", placed["call_sid"])
    assert done.form["QueueResult"] == "redirected"
    assert receiver.of("front", placed["call_sid"])
    assert "An agent is free." in sim.call(placed["call_sid"])["said"]
    assert _client(sim).queues(queue_sid).fetch().current_size == 0


# -- voicemail ------------------------------------------------------------------------------------
def _voicemail(receiver, **attributes: str) -> str:
    attrs = {"action": receiver.url("voicemail-done"), "maxLength": "60",
             "recordingStatusCallback": receiver.url("recording"), **attributes}
    options = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return _twiml("<Say>Leave a message after the tone.</Say>", f"<Record {options}/>",
                  "<Say>We got nothing.</Say>")


def test_a_voicemail_ended_with_a_key_is_posted_and_fetchable(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _voicemail(receiver, finishOnKey="#")
    receiver.replies["voicemail-done"] = lambda form: _twiml("<Say>Thank you.</Say><Hangup/>")

    placed = _call_in(sim, voicemail_seconds=14, voicemail_ends="#")

    _final(receiver, placed["call_sid"])
    [done] = receiver.of("voicemail-done", placed["call_sid"])
    form = done.form
    assert _signed(done) and form["RecordingSid"].startswith("RE")
    assert (form["RecordingDuration"], form["Digits"]) == ("14", "#")
    recordings = f"{sim.api_base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings"
    assert form["RecordingUrl"] == f"{recordings}/{form['RecordingSid']}"
    status = receiver.wait_for(lambda: receiver.of("recording", placed["call_sid"]))[0]
    assert _signed(status)
    assert (status.form["RecordingStatus"], status.form["RecordingSource"],
            status.form["RecordingDuration"], status.form["RecordingChannels"]) == (
        "completed", "RecordVerb", "14", "1")
    assert status.form["RecordingSid"] == form["RecordingSid"]
    media = requests.get(form["RecordingUrl"] + ".wav", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    with wave.open(io.BytesIO(media.content)) as audio:
        assert audio.getnframes() == 14 * audio.getframerate()
    seen = sim.call(placed["call_sid"])
    assert seen["said"][-1] == "Thank you." and "We got nothing." not in seen["said"]
    assert seen["direction"] == "inbound" and seen["recordings"] == [form["RecordingSid"]]
    assert [d["digits"] for d in seen["digits_pressed"]] == ["#"]


def test_a_caller_who_hangs_up_after_speaking_still_reaches_the_action(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _voicemail(receiver)
    receiver.replies["voicemail-done"] = lambda form: _twiml("<Say>Never heard.</Say>")

    placed = _call_in(sim, voicemail_seconds=9, voicemail_ends="hangup")

    final = _final(receiver, placed["call_sid"])
    [done] = receiver.of("voicemail-done", placed["call_sid"])
    assert (done.form["Digits"], done.form["RecordingDuration"]) == ("hangup", "9")
    assert done.at <= final.at and final.form["CallStatus"] == "completed"
    assert "Never heard." not in sim.call(placed["call_sid"])["said"]
    assert receiver.wait_for(lambda: receiver.of("recording", placed["call_sid"]))[0].form[
        "RecordingDuration"] == "9"


def test_silence_ends_a_voicemail_and_is_trimmed_from_it(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _voicemail(receiver, timeout="4")
    receiver.replies["voicemail-done"] = lambda form: _twiml("<Hangup/>")

    placed = _call_in(sim, voicemail_seconds=10, voicemail_ends="silence")

    final = _final(receiver, placed["call_sid"])
    [done] = receiver.of("voicemail-done", placed["call_sid"])
    assert done.form["RecordingDuration"] == "10" and "Digits" not in done.form
    assert int(final.form["CallDuration"]) >= 14  # the four silent seconds were still on the line


def test_max_length_cuts_a_long_voicemail(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _voicemail(receiver, maxLength="20")
    receiver.replies["voicemail-done"] = lambda form: _twiml("<Hangup/>")

    placed = _call_in(sim, voicemail_seconds=45)

    _final(receiver, placed["call_sid"])
    assert receiver.of("voicemail-done", placed["call_sid"])[0].form["RecordingDuration"] == "20"


def test_a_caller_who_leaves_no_voicemail_posts_nothing(sim, receiver):
    _route(sim, receiver)
    receiver.replies["inbound"] = lambda form: _voicemail(receiver)

    placed = _call_in(sim, voicemail=False)

    final = _final(receiver, placed["call_sid"])
    assert final.form["CallStatus"] == "completed"
    assert receiver.of("voicemail-done") == [] and receiver.of("recording") == []
    assert sim.call(placed["call_sid"])["recordings"] == []
