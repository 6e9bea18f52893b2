"""An agent probing other people's ids learns nothing: for every GET route in the OpenAPI document
with an id path parameter, another's id answers exactly like an id that does not exist (404, or
the same 403 the role gets everywhere), never 2xx.

Data-driven: routes come from /api/openapi.json, so each new route is probed once it merges.
Ids come from `WORLD` below, by the path segment before the parameter (`/api/interactions/{id}`
-> "interactions"). A route whose segment is not mapped fails with a message saying what to add,
so no id route goes unprobed.
"""
from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest

from tests.security.conftest import operations

MISSING_ID = 2_147_483_000  # inside every integer column's range, never allocated in a test
PARAM = re.compile(r"\{([^}]+)\}")


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id") or name.endswith("Id")


def _campaign(db, name: str):
    from app.campaigns.models import Campaign

    campaign = Campaign(name=name, status="active", caller_id="+15550100000", seller_name="Acme",
                        seller_phone="+15550100001", safe_harbour_message="Acme calling; press 9 to opt out.")
    db.session.add(campaign)
    db.session.flush()
    return campaign


@pytest.fixture
def world(app, users):
    """A prober agent, and records that belong to others: their campaign, contacts, calls, ..."""
    from app.calls.models import Call, Recording
    from app.campaigns.models import CampaignAssignment
    from app.common.timeutil import utcnow
    from app.contacts.models import Contact
    from app.imports.models import ImportJob
    from app.dnc.models import DncEntry
    from app.extensions import db
    from app.interactions.models import Callback, Interaction, Voicemail

    prober, other_agent = users.create("agent"), users.create("agent")
    admin, supervisor = users.create("admin"), users.create("supervisor")
    tag = f"{prober.id}"
    with app.app_context():
        mine, theirs = _campaign(db, f"mine-{tag}"), _campaign(db, f"theirs-{tag}")
        db.session.add_all([
            CampaignAssignment(campaign_id=mine.id, user_id=prober.id, role="agent"),
            CampaignAssignment(campaign_id=mine.id, user_id=other_agent.id, role="agent"),
            CampaignAssignment(campaign_id=theirs.id, user_id=other_agent.id, role="agent"),
            CampaignAssignment(campaign_id=theirs.id, user_id=supervisor.id, role="supervisor"),
        ])
        contact = Contact(campaign_id=theirs.id, phone_e164="+15550102000")
        db.session.add(contact)
        db.session.flush()
        # Another agent's calls and interactions, in their campaign and in the prober's own.
        calls = [Call(campaign_id=c.id, contact_id=None, agent_id=other_agent.id, to_number="+15550102000",
                      from_number="+15550100000", outcome="human") for c in (theirs, mine)]
        db.session.add_all(calls)
        db.session.flush()
        interactions = [Interaction(call_id=call.id, campaign_id=call.campaign_id, agent_id=other_agent.id)
                        for call in calls]
        db.session.add_all(interactions)
        # Their calls were recorded: the recording route must not play another agent's call.
        db.session.add_all([Recording(call_id=call.id, sid=f"RE{call.id:032d}", status="completed",
                                      source="StartCallRecordingAPI", channels=2, duration_seconds=30,
                                      started_at=utcnow(), completed_at=utcnow()) for call in calls])
        db.session.flush()
        callback = Callback(campaign_id=theirs.id, contact_id=contact.id, agent_id=other_agent.id,
                            interaction_id=interactions[0].id, due_at=utcnow() + timedelta(days=1))
        dnc = DncEntry(phone_e164="+15550103000", campaign_id=theirs.id, source="manual")
        job = ImportJob(kind="contacts", campaign_id=theirs.id, filename="theirs.csv", created_by_id=admin.id)
        db.session.add_all([callback, dnc, job])
        db.session.flush()
        # Voicemails: one that became another agent's callback in the prober's own campaign, one
        # for whoever is free in a campaign the prober does not work.
        mine_contact = Contact(campaign_id=mine.id, phone_e164="+15550102001")
        db.session.add(mine_contact)
        db.session.flush()
        theirs_callback = Callback(campaign_id=mine.id, contact_id=mine_contact.id, agent_id=other_agent.id,
                                   due_at=utcnow() + timedelta(days=1))
        anyones_callback = Callback(campaign_id=theirs.id, contact_id=contact.id, due_at=utcnow())
        db.session.add_all([theirs_callback, anyones_callback])
        db.session.flush()
        voicemails = [Voicemail(recording_sid=f"RE{n:032d}", call_id=call.id, campaign_id=call.campaign_id,
                                callback_id=cb.id, duration_seconds=9)
                      for n, (call, cb) in enumerate(zip((calls[1], calls[0]), (theirs_callback, anyones_callback)))]
        db.session.add_all(voicemails)
        db.session.commit()
        others = {
            "users": [other_agent.id, admin.id, supervisor.id],
            "agents": [other_agent.id],
            "campaigns": [theirs.id],
            "contacts": [contact.id],
            "calls": [c.id for c in calls],
            "call-records": [c.id for c in calls],
            "interactions": [i.id for i in interactions],
            "callbacks": [callback.id],
            "dnc": [dnc.id],
            "imports": [job.id],
            "import-jobs": [job.id],
            "monitoring": [1],  # sessions live in Redis; an agent is refused the route itself
            "webhooks": [1],  # admins' only: an agent is refused the route itself
            "numbers": [1],
            "lists": [job.id],
            "voicemails": [v.id for v in voicemails],
        }
    return prober, others


def _id_routes(spec: dict):
    for method, path, _ in operations(spec, ("get",)):
        if any(_is_id(name) for name in PARAM.findall(path)):
            yield path


def _segment_before(path: str, param: str) -> str:
    before = path.split("{" + param + "}")[0].rstrip("/")
    return before.rsplit("/", 1)[-1]


def _probes(path: str, others: dict[str, list[int]]):
    """Every filling of the path's id parameters with others' ids, and the all-missing filling."""
    params = [p for p in PARAM.findall(path) if _is_id(p)]
    choices = []
    for param in params:
        segment = _segment_before(path, param)
        if segment not in others:
            raise AssertionError(f"{path}: no ids for segment {segment!r}; add it to the world fixture "
                                 "in tests/security/test_id_probing.py")
        choices.append(others[segment])
    for combo in itertools.product(*choices):
        filled = path
        for param, value in zip(params, combo):
            filled = filled.replace("{" + param + "}", str(value))
        yield filled
    missing = path
    for param in params:
        missing = missing.replace("{" + param + "}", str(MISSING_ID))
    yield missing


def test_agent_probing_others_ids_learns_nothing(app, spec, world, roomy_limits, client):
    from app.auth import services
    from app.auth.models import User
    from app.extensions import db

    routes = list(_id_routes(spec))
    if not routes:
        pytest.skip("no GET route with an id path parameter in /api/openapi.json yet: nothing to probe "
                    "(users/{id}, call-records/{id}, interactions/{id}, campaigns/{id} are probed once they merge)")
    prober, others = world
    with app.app_context():
        _, raw = services.issue_api_token(db.session.get(User, prober.id), "prober")
        db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    leaks = []
    for path in routes:
        *probes, missing = list(_probes(path, others))
        baseline = client.get(missing, headers=headers)
        expected = (baseline.status_code, (baseline.get_json() or {}).get("error", {}).get("code"))
        if baseline.status_code not in (403, 404):
            leaks.append(f"{missing}: a missing id answers {baseline.status_code}, expected 404")
        for probe in probes:
            response = client.get(probe, headers=headers)
            got = (response.status_code, (response.get_json() or {}).get("error", {}).get("code"))
            if got != expected:
                leaks.append(f"{probe}: another's id answers {got}, a missing one {expected}")
    assert not leaks, "an agent can tell others' records exist:\n" + "\n".join(leaks)


def test_the_harness_fills_nested_paths():
    others = {"campaigns": [7], "contacts": [70, 71]}
    assert list(_probes("/api/campaigns/{campaign_id}/contacts/{contact_id}", others)) == [
        "/api/campaigns/7/contacts/70", "/api/campaigns/7/contacts/71",
        f"/api/campaigns/{MISSING_ID}/contacts/{MISSING_ID}",
    ]
    assert _segment_before("/api/call-records/{id}", "id") == "call-records"
    with pytest.raises(AssertionError, match="segment 'widgets'"):
        list(_probes("/api/widgets/{id}", others))

