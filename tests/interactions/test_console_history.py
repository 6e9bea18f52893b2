"""What the console shows of a contact's past, in words: the callback pop-up's history (only a
contact of the agent's own calls or callbacks), the screen pop's earlier calls and last outcome,
and the agent's recent calls with their dispositions."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.calls.models import Call
from app.common.timeutil import utcnow
from app.extensions import db
from app.interactions.models import Callback, Interaction
from app.interactions.screen_pop import screen_pop_payload
from tests.agents.factories import assign, make_call, make_campaign


@pytest.fixture
def past(app, users, signed_in):
    """Agent A called Ada once (Call back later, with notes), and promised her a callback; a
    second call to her is connected now. Agent B works the same campaign."""
    a, b = users.create("agent"), users.create("agent")
    with app.app_context():
        campaign = make_campaign()
        assign(a.id, campaign.id)
        assign(b.id, campaign.id)
        from app.campaigns.models import DispositionCode
        callback_code = DispositionCode(campaign_id=campaign.id, code="CALLBACK", label="Call back later",
                                        is_callback=True)
        db.session.add(callback_code)
        first = make_call(campaign.id, first_name="Ada")
        then = utcnow() - timedelta(days=1)
        first.agent_id, first.outcome, first.status = a.id, "human", "completed"
        first.created_at = first.connected_at = then
        first.ended_at, first.duration_seconds = then + timedelta(minutes=3), 180
        db.session.flush()
        db.session.add(Interaction(call_id=first.id, campaign_id=campaign.id, contact_id=first.contact_id,
                                   agent_id=a.id, started_at=then, talk_seconds=170, notes="Wants a quote in March.",
                                   disposition_code_id=callback_code.id, dispositioned_at=then))
        db.session.add(Callback(campaign_id=campaign.id, contact_id=first.contact_id, agent_id=a.id,
                                due_at=utcnow(), status="queued", notes="Quote for the Premium plan"))
        second = Call(campaign_id=campaign.id, contact_id=first.contact_id, to_number=first.to_number,
                      from_number="+12025550100", status="in-progress", agent_id=a.id, outcome="human",
                      connected_at=utcnow(), attempt_no=2)
        db.session.add(second)
        db.session.flush()
        db.session.add(Interaction(call_id=second.id, campaign_id=campaign.id, contact_id=first.contact_id,
                                   agent_id=a.id, started_at=utcnow()))
        db.session.commit()
        ids = {"contact_id": first.contact_id, "first": first.id, "second": second.id}
    return signed_in(a), signed_in(b), ids


def test_the_agent_reads_the_history_of_their_callbacks_contact(past):
    mine, _, ids = past
    got = mine.get(f"/api/console/contacts/{ids['contact_id']}/history")
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert body["name"] == "Ada Lovelace"
    earlier = next(c for c in body["calls"] if c["call_id"] == ids["first"])
    assert (earlier["disposition"], earlier["notes"], earlier["outcome_words"]) == (
        "Call back later", "Wants a quote in March.", "Answered by a person")
    assert body["callbacks"][0]["notes"] == "Quote for the Premium plan"
    assert body["callbacks"][0]["status_words"] == "Due, being dialled"


def test_another_agents_contact_answers_404(past):
    _, other, ids = past
    refused = other.get(f"/api/console/contacts/{ids['contact_id']}/history")
    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "contact_not_found"
    assert other.get("/api/console/contacts/99999999/history").status_code == 404


def test_the_screen_pop_carries_the_earlier_calls_and_the_last_outcome_in_words(app, past):
    _, _, ids = past
    with app.app_context():
        from app.contacts.models import Contact

        db.session.get(Contact, ids["contact_id"]).last_outcome = "human"
        db.session.commit()
        pop = screen_pop_payload(ids["second"])
    assert [c["call_id"] for c in pop["history"]] == [ids["first"]]  # not the call on screen
    assert pop["history"][0]["notes"] == "Wants a quote in March."
    assert pop["contact"]["last_outcome_words"] == "Answered by a person"


def test_recent_calls_show_the_disposition_not_the_carriers_outcome(past):
    mine, _, ids = past
    items = mine.get("/api/console/recent-calls").get_json()["items"]
    by_id = {i["call_id"]: i for i in items}
    assert by_id[ids["first"]]["result"] == "Call back later"
    assert by_id[ids["second"]]["result"] == "Not dispositioned yet"
    assert "human" not in {i["result"] for i in items}
