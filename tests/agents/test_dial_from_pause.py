"""A paused agent dials by hand (VICIdial's manual dial): the new paused -> reserved transition,
the pause remembered through the call, and the way back to it. The dialer neither counts nor
routes calls to that agent meanwhile."""
from __future__ import annotations

from app.agents import reservations, services
from app.agents import state as rstate
from app.agents.transitions import TransitionRefused, apply
from app.dialer.preview import hold_agent_for
from app.extensions import db
from app.interactions.services import after_disposition
from tests.agents.conftest import at


def _dial_by_hand(floor, agent, t: float = 1.0) -> int:
    """The paused agent dials a call of the floor's campaign by hand: held for it."""
    call_id = floor.new_call()
    hold_agent_for(agent.id, call_id, floor.campaign_id, at(t), ("paused",))
    return call_id


def test_paused_to_reserved_remembers_the_pause_and_is_invisible_to_the_dialer(app, floor):
    floor.drive(0, "paused")
    floor.drive(1, "ready")
    with app.app_context():
        agent = floor.agent(0)
        call_id = _dial_by_hand(floor, agent)
        snap = rstate.snapshot(agent.id)
        assert (snap["state"], snap["call_id"], snap["dialled_from_pause"]) == ("reserved", call_id, "break")
        # Not among the ready the pacer counts, nor reservable for a dialer call: only agent 1 is.
        assert reservations.ready_agents(floor.campaign_id) == 1
        other_call = floor.new_call()
        assert reservations.reserve_agent(floor.campaign_id, other_call, now=at(2), prefer=agent.id) \
            == floor.agent_ids[1]
        # No expiry: the person may ring for the whole ring timeout.
        assert reservations.expire_stale_reservations(now=at(3600)) == [floor.agent_ids[1]]
        assert rstate.snapshot(agent.id)["state"] == "reserved"


def test_a_ready_agent_held_for_their_own_dial_is_not_marked_as_from_pause(app, floor):
    floor.drive(0, "ready")
    with app.app_context():
        agent = floor.agent(0)
        call_id = floor.new_call()
        hold_agent_for(agent.id, call_id, floor.campaign_id, at(1))
        assert rstate.snapshot(agent.id)["dialled_from_pause"] is None
        assert reservations.release_reservation(agent.id, call_id, at(2))
        assert rstate.snapshot(agent.id)["state"] == "ready"


def test_a_hand_dialled_call_not_answered_returns_the_agent_to_their_pause(app, floor):
    floor.drive(0, "paused")
    with app.app_context():
        agent = floor.agent(0)
        call_id = _dial_by_hand(floor, agent)
        assert reservations.release_reservation(agent.id, call_id, at(30))
        snap = rstate.snapshot(agent.id)
        assert (snap["state"], snap["pause_code"], snap["dialled_from_pause"]) == ("paused", "break", None)
        assert reservations.ready_agents(floor.campaign_id) == 0


def test_the_pause_is_kept_through_the_call_and_wrap_up_then_resumed(app, floor):
    floor.drive(0, "paused")
    with app.app_context():
        agent = floor.agent(0)
        call_id = _dial_by_hand(floor, agent)
        assert reservations.confirm_reservation(agent.id, call_id, at(5))
        assert rstate.snapshot(agent.id)["dialled_from_pause"] == "break"
        # The pacer does not expect this agent back after the call: they return to pause.
        assert reservations.agents_busy_elapsed(floor.campaign_id, at(10)) == []
        assert reservations.end_call(agent.id, call_id, at(20))
        assert rstate.snapshot(agent.id)["dialled_from_pause"] == "break"
        assert reservations.agents_busy_elapsed(floor.campaign_id, at(25)) == []
        assert services.agent_status(agent.id)["dialled_from_pause"] == "break"
        after_disposition(agent, "paused")  # "Save & pause" with no reason chosen: the one they had
        snap = rstate.snapshot(agent.id)
        assert (snap["state"], snap["pause_code"], snap["dialled_from_pause"]) == ("paused", "break", None)


def test_the_agent_may_choose_ready_after_the_wrap_up_instead(app, floor):
    floor.drive(0, "paused")
    with app.app_context():
        agent = floor.agent(0)
        call_id = _dial_by_hand(floor, agent)
        assert reservations.confirm_reservation(agent.id, call_id, at(5))
        assert reservations.end_call(agent.id, call_id, at(20))
        after_disposition(agent, "ready")
        snap = rstate.snapshot(agent.id)
        assert (snap["state"], snap["dialled_from_pause"]) == ("ready", None)
        assert reservations.ready_agents(floor.campaign_id) == 1


def test_no_dial_from_pause_without_audio(app, floor):
    from app.agents import audio

    floor.drive(0, "paused")
    with app.app_context():
        agent = floor.agent(0)
        audio.leg_ended(agent.id, audio.leg_of(agent.id), "completed")
        call_id = floor.new_call()
        try:
            apply(agent.id, ("paused",), "reserved", now=at(1), call_id=call_id, reason="agent_dialled")
        except TransitionRefused as refused:
            assert refused.because == "audio"
        else:
            raise AssertionError("a paused agent without audio was reserved for a call")
        assert rstate.snapshot(agent.id)["state"] == "paused"
        db.session.rollback()


def test_signing_off_while_the_hand_dial_rings_forgets_the_pause(app, floor):
    floor.drive(0, "paused")
    with app.app_context():
        agent = floor.agent(0)
        _dial_by_hand(floor, agent)
        assert services.sign_off(agent.id, "signed_out", now=at(3)) == "offline"
        assert rstate.snapshot(agent.id)["dialled_from_pause"] is None
