"""The console's Leave voicemail button, against the real server and the carrier simulator: pressed
on a campaign without a message it says so in words and the agent stays on the call; once an admin
has given the campaign a recording, the press frees the agent at once (wrap-up, with the
campaign's voicemail outcome already chosen) while the call leaves the agent's room and the
recording is played to the machine."""
from __future__ import annotations

import io
import secrets
import wave

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import PERSON, sign_in
from tests.dialer.on_air import wait_for
from tests.helpers import give_written_consent

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def two_second_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 16000)
    return buffer.getvalue()


def give_recording(app, campaign_id: int) -> None:
    """What the admin's upload stores: a 2-second WAV."""
    from app.campaigns.voicemail import VoicemailMessage
    from app.common.timeutil import utcnow
    from app.extensions import db

    data = two_second_wav()
    with app.app_context():
        db.session.add(VoicemailMessage(campaign_id=campaign_id, audio=data, audio_type="audio/wav",
                                        audio_name="hello.wav", audio_bytes=len(data), audio_seconds=2.0,
                                        audio_key=secrets.token_urlsafe(32), audio_at=utcnow()))
        db.session.commit()


def add_voicemail_code(app, campaign_id: int) -> None:
    from app.campaigns.models import DispositionCode
    from app.extensions import db

    with app.app_context():
        db.session.add(DispositionCode(campaign_id=campaign_id, code="VOICEMAIL", label="Left a voicemail",
                                       sort_order=2))
        db.session.commit()


def participants(sim_url: str, name: str) -> set[str]:
    rooms = requests.get(f"{sim_url}/_sim/conferences", params={"name": name}, timeout=5).json()["conferences"]
    live = [c for c in rooms if c["status"] != "completed"]
    return {p["call_sid"] for p in live[-1]["participants"]} if live else set()


def test_leave_voicemail_from_the_console(browser, live_server, sim_url, _app):
    solo = seed.solo_floor(_app, "Vera Voicemail", record=False)
    add_voicemail_code(_app, solo["campaign_id"])
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    try:
        leg = seed.ready_on_air(page, _app, sim_url, live_server, solo["agent"])
        call_id, callee = seed.place_person(_app, solo, sim_url, live_server, PERSON)
        expect(page.get_by_test_id("screen-pop")).to_be_visible()
        room = f"agent-{solo['agent']['id']}"
        wait_for(lambda: participants(sim_url, room) == {leg, callee}, "the call to reach the agent")

        button = page.get_by_test_id("leave-voicemail")
        expect(button).to_be_enabled()
        button.click()  # no message yet: refused in words, still on the call
        expect(page.locator(".toast-error").last).to_contain_text("no voicemail message to leave")
        expect(page.get_by_test_id("agent-state")).to_have_text("On call")
        assert participants(sim_url, room) == {leg, callee}

        give_recording(_app, solo["campaign_id"])
        button.click()  # a recorded message needs the contact's written consent: none on record
        expect(page.locator(".toast-error").last).to_contain_text("written consent")
        expect(page.get_by_test_id("agent-state")).to_have_text("On call")

        with _app.app_context():
            give_written_consent(solo["contact_id"])
        button.click()
        # No machine detection on this campaign: no beep to wait for.
        expect(page.locator(".toast-ok").last).to_contain_text("it plays once the greeting goes quiet")
        expect(page.get_by_test_id("agent-state")).to_have_text("Wrap-up")
        wrap = page.get_by_test_id("wrap-up")
        expect(wrap).to_be_visible()
        expect(wrap.get_by_label("Left a voicemail")).to_be_checked()
        wait_for(lambda: participants(sim_url, room) == {leg}, "the call to leave the agent's room")

        def played():
            call = requests.get(f"{sim_url}/_sim/calls/{callee}", timeout=5).json()
            return call["status"] == "completed" and call["played"]
        [message] = wait_for(played, "the recording to be played to the machine")
        assert message["status"] == 200 and message["seconds"] == pytest.approx(2.0)
    finally:
        ctx.close()


def test_an_admin_uploads_listens_to_and_removes_the_message(browser, live_server, floor, tmp_path):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1400})
    page = ctx.new_page()
    try:
        sign_in(page, live_server, floor["admin"], f"/admin/campaigns/{floor['campaign_id']}")
        card = page.get_by_test_id("voicemail")
        expect(card).to_contain_text("agents cannot leave a voicemail")
        # Detection is off on this campaign: the page says what the message waits for instead.
        expect(page.get_by_test_id("voicemail-waits")).to_contain_text("cannot hear the beep")

        not_audio = tmp_path / "contacts.csv"
        not_audio.write_text("name,phone\nAda,+12025550123\n")
        card.get_by_label("Recording (WAV or MP3").set_input_files(str(not_audio))
        card.get_by_role("button", name="Upload").click()
        expect(card.locator("#voicemail-upload-error")).to_contain_text("This is not a WAV or MP3 audio file.")

        recording = tmp_path / "hello.wav"
        recording.write_bytes(two_second_wav())
        card.get_by_label("Recording (WAV or MP3").set_input_files(str(recording))
        card.get_by_role("button", name="Upload").click()
        audio = page.get_by_test_id("voicemail-audio")
        expect(audio).to_contain_text("hello.wav: 2.0 seconds")
        expect(card.locator("#voicemail-upload-error")).to_be_hidden()
        src = audio.locator("audio").get_attribute("src")
        heard = page.request.get(f"{live_server}{src}")  # what the player plays, with the admin's session
        assert heard.status == 200 and heard.body() == two_second_wav()

        audio.get_by_role("button", name="Remove recording").click()
        expect(audio).to_contain_text("No recording uploaded.")
        expect(card).to_contain_text("agents cannot leave a voicemail")
    finally:
        ctx.close()
