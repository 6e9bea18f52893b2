"""A campaign's lists: switched off, their contacts are not dialled; a recycle gives the chosen
outcomes another pass and never a do-not-call, opted-out, closed or called-back contact."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.campaigns.models import Campaign, DispositionCode
from app.common.redis import get_redis
from app.contacts.models import Consent, Contact
from app.dialer.attempts import held_at_dial_key, start_attempt
from app.dialer.hopper import LIST_SWITCHED_OFF, Hopper
from app.dialer.refill import refill
from app.dnc.models import DncEntry
from app.extensions import db
from app.imports.models import ImportJob
from app.interactions.models import Callback

NOON_NY = datetime(2026, 7, 15, 16, 0, tzinfo=timezone.utc)


@pytest.fixture
def floor(app, users, campaigns, login_as):
    """A supervisor signed in, an active campaign they supervise, and another they do not."""
    supervisor = login_as("supervisor")
    with app.app_context():
        campaign_id = campaigns.create(supervisors=[supervisor.user], max_attempts=2)
        other_id = campaigns.create()
        for cid in (campaign_id, other_id):
            campaign = db.session.get(Campaign, cid)
            campaign.status, campaign.scrub_national_registry = "active", False
        db.session.commit()
    return supervisor, campaign_id, other_id


def make_list(campaign_id: int, filename: str = "spring.csv") -> ImportJob:
    job = ImportJob(kind="contacts", campaign_id=campaign_id, filename=filename, status="done")
    db.session.add(job)
    db.session.flush()
    return job


def add(campaign_id: int, job: ImportJob | None, phone: str, **fields) -> Contact:
    contact = Contact(campaign_id=campaign_id, phone_e164=phone, timezone="America/New_York",
                      zones_agree=True, import_job_id=job.id if job else None, **fields)
    db.session.add(contact)
    db.session.flush()
    return contact


def finished(campaign_id, job, phone, outcome, **fields):
    """A contact whose pass is over: two calls, the last one ending `outcome`."""
    values = dict(status="done", attempts=2, last_outcome=outcome, last_attempt_at=NOON_NY - timedelta(days=1))
    values.update(fields)
    return add(campaign_id, job, phone, **values)


# --- switched off: not dialled ---------------------------------------------------------------

def test_a_switched_off_list_leaves_the_queue_and_is_not_queued_again(app, floor):
    supervisor, campaign_id, _ = floor
    with app.app_context():
        spring, summer = make_list(campaign_id, "spring.csv"), make_list(campaign_id, "summer.csv")
        off = [add(campaign_id, spring, f"+1212555010{i}").id for i in range(3)]
        on = [add(campaign_id, summer, f"+1212555020{i}").id for i in range(2)]
        by_hand = add(campaign_id, None, "+12125550300").id
        db.session.commit()
        assert refill(campaign_id, now=NOON_NY)["added"] == 6
        spring_id = spring.id

    response = supervisor.patch(f"/api/campaigns/{campaign_id}/lists/{spring_id}", json={"active": False})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["active"] is False

    with app.app_context():
        hopper = Hopper(get_redis())
        result = refill(campaign_id, now=NOON_NY)  # the next refill takes them out of the queue
        assert result["ready"] == 3 and result["added"] == 0
        assert result["held_back"] == {"list_switched_off": 3}
        assert set(hopper.claim(campaign_id, 10, lease_seconds=30)) == {*on, by_hand}
        hopper.clear(campaign_id)
        assert refill(campaign_id, now=NOON_NY)["added"] == 3  # nor puts them back
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact_list.update"))
        assert entry.actor_id == supervisor.user.id and entry.target_id == str(spring_id)
        assert entry.details["active"] is False and entry.details["list_name"] == "spring.csv"


def test_a_contact_claimed_before_its_list_was_switched_off_is_not_placed(app, floor):
    supervisor, campaign_id, _ = floor
    with app.app_context():
        job = make_list(campaign_id)
        contact_id = add(campaign_id, job, "+12125550401").id
        db.session.commit()
        refill(campaign_id, now=NOON_NY)
        assert Hopper(get_redis()).claim(campaign_id, 1, lease_seconds=30) == [contact_id]
        job_id = job.id
    assert supervisor.patch(f"/api/campaigns/{campaign_id}/lists/{job_id}",
                            json={"active": False}).status_code == 200
    with app.app_context():
        assert start_attempt(campaign_id, contact_id, now=NOON_NY) is None
        assert db.session.get(Contact, contact_id).attempts == 0
        assert get_redis().hgetall(held_at_dial_key(campaign_id)) == {LIST_SWITCHED_OFF: "1"}
        assert Hopper(get_redis()).depth(campaign_id)["leased"] == 0
    # switched on again, it is dialled
    assert supervisor.patch(f"/api/campaigns/{campaign_id}/lists/{job_id}",
                            json={"active": True}).status_code == 200
    with app.app_context():
        assert start_attempt(campaign_id, contact_id, now=NOON_NY) is not None


# --- recycle -------------------------------------------------------------------------------

def test_recycle_resets_only_the_chosen_outcomes_and_never_a_contact_who_must_not_be_called(app, floor):
    supervisor, campaign_id, _ = floor
    with app.app_context():
        assert db.session.scalar(select(DispositionCode.is_sale).where(  # a default code
            DispositionCode.campaign_id == campaign_id, DispositionCode.code == "SALE"))
        job = make_list(campaign_id)
        no_answer = [finished(campaign_id, job, f"+1212555050{i}", "no-answer").id for i in range(3)]
        mid_pass = add(campaign_id, job, "+12125550510", status="retry", attempts=1, last_outcome="no-answer",
                       next_due_at=NOON_NY + timedelta(hours=2)).id
        busy = finished(campaign_id, job, "+12125550520", "busy").id
        sale = finished(campaign_id, job, "+12125550530", "SALE").id
        on_dnc = finished(campaign_id, job, "+12125550540", "no-answer").id
        db.session.add(DncEntry(phone_e164="+12125550540", campaign_id=None, source="manual"))
        opted_out = finished(campaign_id, job, "+12125550550", "no-answer").id
        db.session.add(Consent(contact_id=opted_out, phone_e164="+12125550550", kind="prior_express",
                               given_at=NOON_NY - timedelta(days=30), source="web form",
                               revoked_at=NOON_NY - timedelta(days=2), revoked_via="opt_out_key"))
        called_back = finished(campaign_id, job, "+12125550560", "no-answer", status="retry").id
        db.session.add(Callback(campaign_id=campaign_id, contact_id=called_back, due_at=NOON_NY + timedelta(days=1)))
        dnc_status = finished(campaign_id, job, "+12125550570", "no-answer", status="dnc").id
        invalid = finished(campaign_id, job, "+12125550580", "no-answer", status="invalid").id
        other_list = finished(campaign_id, make_list(campaign_id, "other.csv"), "+12125550590", "no-answer").id
        db.session.commit()
        job_id = job.id

    lists = supervisor.get(f"/api/campaigns/{campaign_id}/lists").get_json()
    spring = next(item for item in lists["items"] if item["id"] == job_id)
    assert {r["outcome"]: r["count"] for r in spring["recyclable"]} == {"no-answer": 4, "busy": 1}
    assert {r["outcome"] for r in lists["recyclable_outcomes"]} >= {"no-answer", "busy", "machine"}
    assert "SALE" not in {r["outcome"] for r in lists["recyclable_outcomes"]}

    response = supervisor.post(f"/api/campaigns/{campaign_id}/lists/{job_id}/recycle",
                               json={"outcomes": ["no-answer"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["reset"] == 4
    with app.app_context():
        contacts = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.campaign_id == campaign_id))}
        for cid in [*no_answer, mid_pass]:
            assert (contacts[cid].status, contacts[cid].next_due_at) == ("retry", None)
            # the calls made stay counted (and numbered); the new pass starts at them
            assert contacts[cid].attempts_before_pass == contacts[cid].attempts
        untouched = {busy: "done", sale: "done", on_dnc: "done", opted_out: "done", called_back: "retry",
                     dnc_status: "dnc", invalid: "invalid", other_list: "done"}
        for cid, status in untouched.items():
            assert (contacts[cid].status, contacts[cid].attempts_before_pass) == (status, 0), cid
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact_list.recycle"))
        assert entry.actor_id == supervisor.user.id and entry.target_id == str(job_id)
        assert entry.details["outcomes"] == ["no-answer"] and entry.details["reset"] == 4
        # another pass: the finished no-answers (2 calls of at most 2) are dialled again
        added = refill(campaign_id, now=NOON_NY)["added"]
        queued = {int(i) for i in get_redis().zrange(f"dq:{campaign_id}:ready", 0, -1)}
        assert queued == {*no_answer, mid_pass} and added == 4
        call_id = start_attempt(campaign_id, no_answer[0], now=NOON_NY)
        assert call_id is not None
        assert db.session.get(Contact, no_answer[0]).attempts == 3  # numbered after the first two

    refused = supervisor.post(f"/api/campaigns/{campaign_id}/lists/{job_id}/recycle", json={"outcomes": ["SALE"]})
    assert refused.status_code == 422 and "outcomes" in refused.get_json()["error"]["fields"]


def test_lists_of_another_supervisors_campaign_answer_404(app, floor):
    supervisor, campaign_id, other_id = floor
    with app.app_context():
        other_job = make_list(other_id)
        mine = make_list(campaign_id)
        contact_id = add(other_id, other_job, "+12125550601").id
        db.session.commit()
        other_job_id, mine_id = other_job.id, mine.id
    assert supervisor.get(f"/api/campaigns/{other_id}/lists").status_code == 404
    assert supervisor.patch(f"/api/campaigns/{other_id}/lists/{other_job_id}", json={"active": False}).status_code == 404
    # a list of another campaign, asked for under one's own: 404 too
    assert supervisor.patch(f"/api/campaigns/{campaign_id}/lists/{other_job_id}",
                            json={"active": False}).status_code == 404
    assert supervisor.post(f"/api/campaigns/{other_id}/lists/{other_job_id}/recycle",
                           json={"outcomes": ["no-answer"]}).status_code == 404
    assert supervisor.get(f"/api/campaigns/{other_id}/contacts", query_string={"q": "555"}).status_code == 404
    assert supervisor.get(f"/api/campaigns/{other_id}/contacts/{contact_id}").status_code == 404
    assert supervisor.get(f"/api/campaigns/{campaign_id}/contacts/{contact_id}").status_code == 404
    assert supervisor.patch(f"/api/campaigns/{other_id}/contacts/{contact_id}",
                            json={"first_name": "X"}).status_code == 404
    with app.app_context():
        assert db.session.get(ImportJob, other_job_id).active is True
        assert db.session.get(ImportJob, mine_id).active is True


def test_rename_a_list(app, floor):
    supervisor, campaign_id, _ = floor
    with app.app_context():
        job_id = make_list(campaign_id, "export (3).csv").id
        db.session.commit()
    assert supervisor.patch(f"/api/campaigns/{campaign_id}/lists/{job_id}", json={"name": "  "}).status_code == 422
    response = supervisor.patch(f"/api/campaigns/{campaign_id}/lists/{job_id}", json={"name": "Solar leads, May"})
    assert response.get_json()["name"] == "Solar leads, May"
    names = [item["name"] for item in supervisor.get(f"/api/campaigns/{campaign_id}/lists").get_json()["items"]]
    assert names == ["Solar leads, May"]


def test_a_recycled_contact_is_not_offered_again_until_called_in_its_new_pass(app, floor):
    supervisor, campaign_id, _ = floor
    with app.app_context():
        job = make_list(campaign_id)
        finished(campaign_id, job, "+12125550701", "busy")
        db.session.commit()
        job_id = job.id
    url = f"/api/campaigns/{campaign_id}/lists/{job_id}/recycle"
    assert supervisor.post(url, json={"outcomes": ["busy"]}).get_json()["reset"] == 1
    (item,) = supervisor.get(f"/api/campaigns/{campaign_id}/lists").get_json()["items"]
    assert item["recyclable"] == []
    assert supervisor.post(url, json={"outcomes": ["busy"]}).get_json()["reset"] == 0


def test_an_agent_refused_for_a_switched_off_list_is_told_so_in_words():
    from app.dialer.hopper import LIST_SWITCHED_OFF
    from app.dialer.preview import _refusal

    error = _refusal(LIST_SWITCHED_OFF)
    assert error.message == "This contact's list is switched off: ask your supervisor to switch it on."
