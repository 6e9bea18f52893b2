"""Recording end to end through the carrier simulator: started at the bridge (not the answer),
two channels; paused and resumed from the console with each pause stored and reflected at the
carrier; resumed by itself when the call ends; played back through Omnivox with ranges, only to
those who may hear it, audited; deleted by retention (410 with the date) unless on legal hold."""
from __future__ import annotations

import io
import wave
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.calls import recordings, state
from app.calls.models import Call, Recording, RecordingPause
from app.calls.placement import build_request
from app.campaigns.models import Campaign
from app.common import tasks
from app.common.timeutil import utcnow
from app.extensions import db
from app.telephony import inbox
from tests.agents.factories import assign
from tests.dialer.on_air import wait_for
from tests.dialer.test_transfers import Floor, air  # noqa: F401 - the simulator fixture

pytestmark = pytest.mark.usefixtures("air")


class Tasks:
    """The Celery tasks the code sends, captured and run when the test says (no pools here)."""

    def __init__(self, app):
        self.app, self.sent = app, []

    def capture(self, name, args=None, **_options):
        self.sent.append((name, list(args or ())))

    def names(self) -> list[str]:
        return [name for name, _ in self.sent]

    def run(self) -> None:
        """What the telephony pool would do: start recordings, apply the stored callbacks."""
        with self.app.app_context():
            while self.sent:
                name, args = self.sent.pop(0)
                if name == tasks.START_RECORDING:
                    recordings.start_for_call(*args)
            inbox.drain(state.process_call_event)


@pytest.fixture
def worker(_app, monkeypatch):
    captured = Tasks(_app)
    monkeypatch.setattr(_app.extensions["celery"], "send_task", captured.capture)
    return captured


@pytest.fixture
def floor(_app, air):  # noqa: F811
    floor = Floor(_app, air)
    with _app.app_context():
        campaign = db.session.get(Campaign, floor.campaign_id)
        campaign.recording_enabled = True
        db.session.commit()
    return floor


def sim_recordings(air, call_sid: str) -> list[dict]:
    return requests.get(f"{air.sim_url}/_sim/recordings", params={"call_sid": call_sid}, timeout=5).json()["recordings"]


def rows(app, model, **where):
    with app.app_context():
        found = db.session.scalars(select(model).filter_by(**where).order_by(model.id)).all()
        db.session.expunge_all()
        return found


def finished_recording(floor, worker, call_id: int) -> Recording:
    def done():
        worker.run()
        found = rows(floor.app, Recording, call_id=call_id)
        return found[0] if found and found[0].status == "completed" else None
    return wait_for(done, "the recording's completed callback to be applied")


def recorded_call(floor, worker, agent=None):
    agent = agent or floor.agent()
    call_id, person = floor.person_with(agent)
    worker.run()
    recording = wait_for(lambda: rows(floor.app, Recording, call_id=call_id), "the recording row")[0]
    return agent, call_id, person, recording


def test_recording_starts_at_the_bridge_not_the_answer_with_two_channels(floor, air, worker):
    with floor.app.app_context():
        call = Call(campaign_id=floor.campaign_id, to_number="+12025550179", from_number="+12025550100")
        assert build_request(call, db.session.get(Campaign, floor.campaign_id)).record is False
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    # Answered and bridged: nothing recorded yet; the bridge asked a worker to start it.
    assert sim_recordings(air, person) == []
    assert (tasks.START_RECORDING, [call_id]) in worker.sent
    worker.run()
    [carrier] = sim_recordings(air, person)
    assert carrier["status"] == "in-progress" and carrier["channels"] == 2
    assert carrier["source"] == "StartCallRecordingAPI"
    answered = next(h["at"] for h in air.call(person)["history"] if h["status"] == "in-progress")
    assert carrier["history"][0]["at"] > answered  # from the bridge, after the answer
    [row] = rows(floor.app, Recording, call_id=call_id)
    assert (row.sid, row.status, row.channels) == (carrier["sid"], "in-progress", 2)
    worker.sent.append((tasks.START_RECORDING, [call_id]))  # a repeated task starts nothing new
    worker.run()
    assert len(sim_recordings(air, person)) == 1


def test_pause_and_resume_are_stored_reflected_at_the_carrier_and_closed_at_the_end(floor, air, worker):
    agent, call_id, person, recording = recorded_call(floor, worker)
    client = floor.client(agent)
    paused = client.post(f"/api/console/calls/{call_id}/recording", json={"paused": True})
    assert paused.status_code == 200, paused.get_json()
    assert paused.get_json()["paused"] is True and paused.get_json()["recording"] is True
    assert sim_recordings(air, person)[0]["status"] == "paused"
    # The carrier's clock moves on while paused; the recorded seconds do not.
    frozen = sim_recordings(air, person)[0]["recorded_seconds"]
    wait_for(lambda: sim_recordings(air, person)[0]["paused_seconds"] >= 20, "20 simulated seconds of pause")
    assert sim_recordings(air, person)[0]["recorded_seconds"] == frozen

    resumed = client.post(f"/api/console/calls/{call_id}/recording", json={"paused": False})
    assert resumed.status_code == 200 and resumed.get_json()["paused"] is False
    assert sim_recordings(air, person)[0]["status"] == "in-progress"
    [first] = rows(floor.app, RecordingPause, recording_id=recording.id)
    assert first.paused_by_id == agent.id and first.resumed_by_id == agent.id
    assert first.resumed_reason == "agent" and first.resumed_at > first.paused_at

    # Paused again and the call ends: the open pause is closed by the call's end.
    assert client.post(f"/api/console/calls/{call_id}/recording", json={"paused": True}).status_code == 200
    assert client.post(f"/api/console/calls/{call_id}/hangup", json={}).status_code == 200
    done = finished_recording(floor, worker, call_id)
    first, second = rows(floor.app, RecordingPause, recording_id=recording.id)
    assert second.resumed_reason == "call-ended" and second.resumed_at is not None
    assert second.resumed_by_id is None
    carrier = sim_recordings(air, person)[0]
    assert carrier["status"] == "completed"
    assert [h["status"] for h in carrier["history"]] == ["in-progress", "paused", "in-progress", "paused", "completed"]
    assert done.duration_seconds == carrier["duration"] and done.channels == 2
    # The paused stretch is left out: the recording is shorter than the call by at least it.
    assert air.call(person)["duration"] - done.duration_seconds >= 19
    # Nothing more to pause once the call is over.
    late = client.post(f"/api/console/calls/{call_id}/recording", json={"paused": False})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "call_not_connected"


def test_pause_needs_your_own_recorded_connected_call(floor, air, worker):
    agent = floor.agent()
    other = floor.agent(ready=False)
    call_id, _ = floor.person_with(agent)
    # Not started yet (the worker has not run): nothing to pause, said plainly.
    early = floor.client(agent).post(f"/api/console/calls/{call_id}/recording", json={"paused": True})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_recording"
    assert floor.client(other).post(f"/api/console/calls/{call_id}/recording",
                                    json={"paused": True}).status_code == 404
    assert floor.client(agent).post(f"/api/console/calls/{call_id}/recording", json={}).status_code == 422


def test_playback_streams_with_ranges_to_those_who_may_hear_it_and_is_audited(floor, air, worker):
    agent, call_id, person, _ = recorded_call(floor, worker)
    client = floor.client(agent)
    assert client.post(f"/api/console/calls/{call_id}/hangup", json={}).status_code == 200
    done = finished_recording(floor, worker, call_id)

    whole = client.get(f"/api/call-records/{call_id}/recording")
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.mimetype == "audio/wav"
    audio = wave.open(io.BytesIO(whole.data))
    assert audio.getnchannels() == 2 and audio.getnframes() / audio.getframerate() == done.duration_seconds
    size = len(whole.data)
    assert int(whole.headers["Content-Length"]) == size

    part = client.get(f"/api/call-records/{call_id}/recording", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert part.data == whole.data[100:200]
    tail = client.get(f"/api/call-records/{call_id}/recording", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.data == whole.data[-10:]
    past = client.get(f"/api/call-records/{call_id}/recording", headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{size}"
    # Several ranges, one of them past the end: the whole file (RFC 9110), never a refusal.
    several = client.get(f"/api/call-records/{call_id}/recording", headers={"Range": f"bytes={size}-,0-9"})
    assert several.status_code == 200 and several.data == whole.data
    # A HEAD says what a GET would, plays nothing and is not audited as a playback.
    head = client.client.head(f"/api/call-records/{call_id}/recording")
    assert head.status_code == 200 and head.data == b"" and int(head.headers["Content-Length"]) == size

    # The record names Omnivox's address only, never the carrier's.
    detail = client.get(f"/api/call-records/{call_id}").get_json()
    assert detail["call"]["recording_url"] == f"/api/call-records/{call_id}/recording"
    assert detail["recording"]["playable"] is True and detail["recording"]["channels"] == 2
    assert air.sim_url not in str(detail)

    other = floor.agent(ready=False)
    assert floor.client(other).get(f"/api/call-records/{call_id}/recording").status_code == 404
    sup, outsider = floor.users.create("supervisor"), floor.users.create("supervisor")
    with floor.app.app_context():
        assign(sup.id, floor.campaign_id, role="supervisor")
        db.session.commit()
    assert floor.client(sup).get(f"/api/call-records/{call_id}/recording").status_code == 200
    assert floor.client(outsider).get(f"/api/call-records/{call_id}/recording").status_code == 404
    assert floor.client(floor.users.create("admin")).get(
        f"/api/call-records/{call_id}/recording", headers={"Range": "bytes=0-0"}).status_code == 206

    plays = rows(floor.app, AuditEntry, action="recording.play", target_id=str(call_id))
    assert [(p.actor_id, p.details["status"]) for p in plays] == [
        (agent.id, 200), (agent.id, 206), (agent.id, 206), (agent.id, 200), (sup.id, 200),
        (plays[-1].actor_id, 206)]
    assert plays[1].details["range"] == "bytes=100-199"


def test_retention_deletes_an_expired_recording_at_the_carrier_and_keeps_one_on_legal_hold(floor, air, worker):
    first_agent, kept_id, kept_person, _ = recorded_call(floor, worker)
    second_agent, gone_id, gone_person, _ = recorded_call(floor, worker)
    for agent, call_id in ((first_agent, kept_id), (second_agent, gone_id)):
        assert floor.client(agent).post(f"/api/console/calls/{call_id}/hangup", json={}).status_code == 200
        finished_recording(floor, worker, call_id)

    sup = floor.users.create("supervisor")
    with floor.app.app_context():
        assign(sup.id, floor.campaign_id, role="supervisor")
        db.session.get(Campaign, floor.campaign_id).recording_retention_days = 30
        db.session.commit()
    boss = floor.client(sup)
    assert boss.post(f"/api/call-records/{kept_id}/legal-hold", json={}).status_code == 422
    held = boss.post(f"/api/call-records/{kept_id}/legal-hold", json={"reason": "Matter 2026-114"})
    assert held.status_code == 200 and held.get_json()["on_hold"] is True
    assert floor.client(first_agent).post(f"/api/call-records/{kept_id}/legal-hold",
                                          json={"reason": "x"}).status_code == 403

    with floor.app.app_context():
        assert recordings.sweep_retention(utcnow() + timedelta(days=29)) == 0  # not yet due
        assert recordings.sweep_retention(utcnow() + timedelta(days=31)) == 1
        assert recordings.sweep_retention(utcnow() + timedelta(days=31)) == 0  # safe to repeat
        calls_left = db.session.scalar(select(func.count()).select_from(Call).where(Call.id.in_([kept_id, gone_id])))
    assert calls_left == 2  # the call records themselves stay

    assert sim_recordings(air, gone_person)[0]["status"] == "deleted"
    assert sim_recordings(air, kept_person)[0]["status"] == "completed"
    [gone] = rows(floor.app, Recording, call_id=gone_id)
    assert gone.status == "deleted" and "30 days" in gone.deleted_reason
    answer = boss.get(f"/api/call-records/{gone_id}/recording")
    assert answer.status_code == 410
    error = answer.get_json()["error"]
    assert error["code"] == "recording_deleted" and gone.deleted_at.date().isoformat() in error["message"]
    assert boss.get(f"/api/call-records/{kept_id}/recording").status_code == 200

    holds = rows(floor.app, AuditEntry, action="call.legal_hold", target_id=str(kept_id))
    assert holds[0].details["reason"] == "Matter 2026-114" and holds[0].actor_id == sup.id
    assert rows(floor.app, AuditEntry, action="recording.delete", target_id=str(gone_id))

    # Released: the retention applies to it again.
    assert boss.delete(f"/api/call-records/{kept_id}/legal-hold").get_json()["on_hold"] is False
    with floor.app.app_context():
        assert recordings.sweep_retention(utcnow() + timedelta(days=31)) == 1
    assert sim_recordings(air, kept_person)[0]["status"] == "deleted"


def test_a_call_with_no_recording_answers_404(floor, air, worker):
    agent = floor.agent()
    call_id, _ = floor.person_with(agent)
    response = floor.client(agent).get(f"/api/call-records/{call_id}/recording")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "no_recording"


def test_a_pause_left_open_resumes_when_the_agent_hands_the_call_on(floor, air, worker):
    """The agent paused for a card number, then transferred the call cold: nobody would resume
    it, so the recording resumes at the hand-over and the pause is closed as the transfer's."""
    agent, call_id, person, _ = recorded_call(floor, worker)
    target = floor.agent()
    client = floor.client(agent)
    assert client.post(f"/api/console/calls/{call_id}/recording", json={"paused": True}).status_code == 200
    moved = client.post(f"/api/console/calls/{call_id}/transfers", json={"kind": "cold", "to_agent_id": target.id})
    assert moved.status_code == 201, moved.get_json()
    assert sim_recordings(air, person)[0]["status"] == "in-progress"
    [pause] = rows(floor.app, RecordingPause)
    assert pause.resumed_at is not None and pause.resumed_reason == "transfer" and pause.resumed_by_id == agent.id
