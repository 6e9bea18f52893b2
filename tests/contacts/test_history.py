"""A contact's history in words: calls with agent, disposition and notes, and callbacks."""
from datetime import timedelta

from app.calls.models import Call
from app.campaigns.models import DispositionCode
from app.common.timeutil import utcnow
from app.interactions.history import contact_history
from app.contacts.models import Contact
from app.extensions import db
from app.interactions.models import Callback, Interaction


def test_history_lists_calls_newest_first_with_agent_disposition_and_notes(ctx, users, campaigns):
    agent = users.create("agent")
    campaign_id = campaigns.create(agents=[agent])
    code = DispositionCode(campaign_id=campaign_id, code="QUOTE", label="Wants a quote")
    contact = Contact(campaign_id=campaign_id, phone_e164="+12025550142", first_name="Ada")
    db.session.add_all([code, contact])
    db.session.flush()
    now = utcnow()
    earlier = Call(campaign_id=campaign_id, contact_id=contact.id, to_number=contact.phone_e164,
                   from_number="+12025550100", outcome="no-answer", created_at=now - timedelta(minutes=30),
                   ended_at=now - timedelta(minutes=29))
    later = Call(campaign_id=campaign_id, contact_id=contact.id, agent_id=agent.id, to_number=contact.phone_e164,
                 from_number="+12025550100", outcome="human", attempt_no=2, created_at=now - timedelta(minutes=5),
                 connected_at=now - timedelta(minutes=5))
    db.session.add_all([earlier, later])
    db.session.flush()
    db.session.add(Interaction(call_id=later.id, campaign_id=campaign_id, contact_id=contact.id,
                               agent_id=agent.id, talk_seconds=61.4, disposition_code_id=code.id,
                               notes="Call on Friday"))
    db.session.add(Callback(campaign_id=campaign_id, contact_id=contact.id, agent_id=agent.id,
                            due_at=now + timedelta(days=1), notes="After 5 pm"))
    db.session.commit()

    history = contact_history(contact.id)

    assert [c["call_id"] for c in history["calls"]] == [later.id, earlier.id]
    newest, oldest = history["calls"]
    assert newest["agent_name"] == agent.username
    assert newest["disposition"] == "Wants a quote"
    assert newest["notes"] == "Call on Friday"
    assert newest["talk_seconds"] == 61
    assert newest["outcome_words"] == "Answered by a person"
    assert oldest["outcome_words"] == "No answer" and oldest["agent_name"] is None
    assert history["callbacks"][0]["notes"] == "After 5 pm"
    assert history["callbacks"][0]["status_words"] == "Scheduled"
