"""What the simulator posts to our app: signatures, AMD, keypresses, recordings, retries."""
from twilio.request_validator import RequestValidator

from app.telephony import twiml
from carrier_harness import (  # noqa: F401
    AUTH_TOKEN, HUMAN, MACHINE, PRESSES_9, app_stand_in, call_request, carrier, receiver,
    sim,
)


def test_every_webhook_is_signed_like_twilio_and_a_forgery_is_not(carrier, call_request,
                                                                  receiver):
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_final(placed.call_sid)
    received = receiver.of("status") + receiver.of("voice")
    assert len(received) == 5
    validator = RequestValidator(AUTH_TOKEN)

    for item in received:
        assert item.signature
        assert validator.validate(item.url, item.form, item.signature)
        assert carrier.validate_webhook(item.url, item.form, item.signature)

    genuine = receiver.of("status")[-1]
    assert "?campaign=7" in genuine.url  # the query string is part of what is signed
    tampered = genuine.form.copy()
    tampered["CallStatus"] = "busy"
    assert not carrier.validate_webhook(genuine.url, tampered, genuine.signature)
    assert not carrier.validate_webhook(genuine.url.replace("campaign=7", "campaign=8"),
                                        genuine.form, genuine.signature)
    forged = RequestValidator("not-our-token").compute_signature(genuine.url, genuine.form)
    assert not carrier.validate_webhook(genuine.url, genuine.form, forged)
    assert not carrier.validate_webhook(genuine.url, genuine.form, None)


def test_async_amd_reports_a_machine(carrier, call_request, receiver, sim):
    placed = carrier.place_call(call_request(MACHINE, machine_detection=True,
                                             amd_callback_url=receiver.url("amd")))

    amd = receiver.wait_for(lambda: receiver.of("amd", placed.call_sid))
    final = receiver.wait_final(placed.call_sid)

    assert amd[0].form["AnsweredBy"] == "machine_end_beep"
    assert int(amd[0].form["MachineDetectionDuration"]) > 0
    assert carrier.validate_webhook(amd[0].url, amd[0].form, amd[0].signature)
    assert final.form["AnsweredBy"] == "machine_end_beep"
    # Async detection: the answer URL is fetched at once, before the verdict.
    assert "AnsweredBy" not in receiver.of("voice", placed.call_sid)[0].form
    assert carrier.fetch(placed.call_sid).answered_by == "machine_end_beep"


def test_amd_recognises_a_person(carrier, call_request, receiver):
    placed = carrier.place_call(call_request(HUMAN, machine_detection=True, amd_mode="Enable",
                                             amd_callback_url=receiver.url("amd")))

    amd = receiver.wait_for(lambda: receiver.of("amd", placed.call_sid))
    assert amd[0].form["AnsweredBy"] == "human"
    assert receiver.wait_final(placed.call_sid).form["AnsweredBy"] == "human"


def test_synchronous_amd_waits_and_sends_answered_by_to_the_answer_url(carrier, call_request,
                                                                      receiver):
    placed = carrier.place_call(call_request(MACHINE, machine_detection=True, amd_mode="Enable"))

    receiver.wait_final(placed.call_sid)
    assert receiver.of("voice", placed.call_sid)[0].form["AnsweredBy"] == "machine_start"
    assert receiver.of("amd") == []


def test_opt_out_keypress_is_posted_to_the_gather_action(carrier, call_request, receiver,
                                                         sim):
    receiver.voice = lambda form: twiml.safe_harbour(
        "This is Acme Solar, call us back on 202 555 0100. Press 9 to stop our calls.",
        receiver.url("opt-out") + "?campaign=7")
    placed = carrier.place_call(call_request(PRESSES_9))

    final = receiver.wait_final(placed.call_sid)

    posts = receiver.of("opt-out", placed.call_sid)
    assert len(posts) == 1
    assert posts[0].form["Digits"] == "9" and posts[0].form["To"] == PRESSES_9
    assert carrier.validate_webhook(posts[0].url, posts[0].form, posts[0].signature)
    assert final.form["CallStatus"] == "completed"
    assert sim.call(placed.call_sid)["connected_to"] is None


def test_without_a_keypress_the_safe_harbour_message_ends_in_a_hangup(carrier, call_request,
                                                                     receiver):
    receiver.voice = lambda form: twiml.safe_harbour("Acme Solar, 202 555 0100. Press 9.",
                                                     receiver.url("opt-out"))
    placed = carrier.place_call(call_request(HUMAN))

    final = receiver.wait_final(placed.call_sid)

    assert receiver.of("opt-out") == []
    assert final.form["CallStatus"] == "completed"
    # The message (7 words at 0.4 s) and the 5 s wait for a key, then <Hangup/>;
    # never the 20-40 s of a conversation.
    assert 7 <= int(final.form["CallDuration"]) < 20


def test_keypress_probability_knob_drives_gather(carrier, call_request, receiver, sim):
    sim.configure(keypress_probability=1.0, keypress_digits="7")
    receiver.voice = lambda form: twiml.safe_harbour("Press 9.", receiver.url("opt-out"))
    placed = carrier.place_call(call_request(HUMAN))

    receiver.wait_final(placed.call_sid)
    assert receiver.of("opt-out", placed.call_sid)[0].form["Digits"] == "7"


def test_recording_callback_arrives_after_a_recorded_call(carrier, call_request, receiver, sim):
    placed = carrier.place_call(call_request(HUMAN, record=True,
                                             recording_callback_url=receiver.url("recording")))

    final = receiver.wait_final(placed.call_sid)
    recording = receiver.wait_for(lambda: receiver.of("recording", placed.call_sid))[0]

    assert recording.form["RecordingStatus"] == "completed"
    assert recording.form["RecordingSid"].startswith("RE")
    assert recording.form["RecordingDuration"] == final.form["CallDuration"]
    assert recording.form["RecordingUrl"].startswith(sim.api_base_url)
    assert carrier.validate_webhook(recording.url, recording.form, recording.signature)


def test_unrecorded_call_sends_no_recording_callback(carrier, call_request, receiver):
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_final(placed.call_sid)
    assert receiver.of("recording") == []


def test_status_callbacks_are_retried_on_5xx_but_not_on_4xx(carrier, call_request, receiver,
                                                           sim):
    receiver.forced_codes["status"] = [503, 500]
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_final(placed.call_sid)

    def status_deliveries():
        return [c for c in sim.call(placed.call_sid)["callbacks"] if c["kind"] == "status"]

    # Both refused callbacks came again and got through.
    receiver.wait_for(lambda: {c["sequence"] for c in status_deliveries()
                               if c["http_status"] == 204} == {0, 1, 2, 3})
    deliveries = status_deliveries()
    assert sorted(c["http_status"] for c in deliveries if c["http_status"] >= 500) == [500, 503]
    assert len(receiver.statuses(placed.call_sid)) == 6
    assert max(c["attempt"] for c in deliveries) >= 2

    receiver.reset()
    receiver.forced_codes["status"] = [403]
    placed = carrier.place_call(call_request(HUMAN))
    receiver.wait_final(placed.call_sid)
    assert sorted(seq for seq, _ in receiver.statuses(placed.call_sid)) == [0, 1, 2, 3]
    attempts = [c for c in sim.call(placed.call_sid)["callbacks"] if c["sequence"] == 0]
    assert [c["http_status"] for c in attempts] == [403]


def test_an_app_error_on_the_answer_url_ends_the_call(carrier, call_request, receiver, sim):
    receiver.forced_codes["voice"] = [500]
    placed = carrier.place_call(call_request(HUMAN))

    final = receiver.wait_final(placed.call_sid)

    assert final.form["CallStatus"] == "completed"
    assert "HTTP 500" in sim.call(placed.call_sid)["errors"][0]
