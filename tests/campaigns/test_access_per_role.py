"""Every route of this feature, per role: allowed, refused (403) and another's id (404).

The world: campaign A (supervisor A, agent A) and campaign B (supervisor B, agent B), each with
a contact, a disposition code, a pause code, a do-not-call entry and an import job. Supervisors
and agents act on A's ids ("own") and on B's ids ("other"); admins also on ids that do not exist.
"""
import io
from types import SimpleNamespace

import pytest

from app.campaigns.models import PauseCode
from app.auth.models import User
from app.auth.services import issue_api_token
from app.campaigns.models import DispositionCode
from app.contacts.models import Contact
from app.imports.models import ImportJob
from app.dnc.models import DncEntry
from app.extensions import db
from tests.campaign_factory import campaign_payload

MISSING = 987654


def _side(app, users, campaigns, tag):
    supervisor, agent = users.create("supervisor"), users.create("agent")
    cid = campaigns.create(agents=[agent], supervisors=[supervisor])
    with app.app_context():
        contact = Contact(campaign_id=cid, phone_e164=f"+1212555{tag}01")
        pause = PauseCode(campaign_id=cid, code=f"P{tag}", label="Break")
        dnc = DncEntry(phone_e164=f"+1212555{tag}02", campaign_id=cid)
        job = ImportJob(kind="contacts", campaign_id=cid, filename="x.csv", status="done",
                        column_map={"columns": {"phone": "phone"}, "header": ["phone"]})
        db.session.add_all([contact, pause, dnc, job])
        db.session.flush()
        code = db.session.scalar(db.select(DispositionCode.id).where(DispositionCode.campaign_id == cid).limit(1))
        token, _ = issue_api_token(db.session.get(User, agent.id), "kiosk")
        ids = SimpleNamespace(camp=cid, contact=contact.id, pause=pause.id, dnc=dnc.id, job=job.id, code=code,
                              agent=agent.id, token=token.id, sup=supervisor.id)
        db.session.commit()
    return ids, supervisor, agent


@pytest.fixture
def world(app, users, campaigns, upload_dir):
    a, sup_a, agent_a = _side(app, users, campaigns, "10")
    b, _, _ = _side(app, users, campaigns, "20")
    missing = SimpleNamespace(**{k: MISSING for k in vars(a)})
    return SimpleNamespace(own=a, other=b, missing=missing, supervisor=sup_a, agent=agent_a)


def _csv():
    return {"file": (io.BytesIO(b"phone\n2125559999\n"), "x.csv")}


A, S, G = "admin", "supervisor", "agent"
# name, method, path(ids), body(ids) or None, {role: status on own ids}
ROUTES = [
    ("campaign list", "GET", lambda i: "/api/campaigns", None, {A: 200, S: 200, G: 200}),
    ("campaign create", "POST", lambda i: "/api/campaigns", lambda i: {"json": campaign_payload()}, {A: 201, S: 403, G: 403}),
    ("campaign get", "GET", lambda i: f"/api/campaigns/{i.camp}", None, {A: 200, S: 200, G: 200}),
    ("campaign patch", "PATCH", lambda i: f"/api/campaigns/{i.camp}", lambda i: {"json": {"script": "Hi"}}, {A: 200, S: 403, G: 403}),
    ("campaign delete", "DELETE", lambda i: f"/api/campaigns/{i.camp}", None, {A: 204, S: 403, G: 403}),
    ("campaign start", "POST", lambda i: f"/api/campaigns/{i.camp}/start", None, {A: 200, S: 200, G: 403}),
    ("campaign stop", "POST", lambda i: f"/api/campaigns/{i.camp}/stop", None, {A: 200, S: 200, G: 403}),
    ("campaign pause", "POST", lambda i: f"/api/campaigns/{i.camp}/pause", None, {A: 409, S: 409, G: 403}),
    ("assignments get", "GET", lambda i: f"/api/campaigns/{i.camp}/assignments", None, {A: 200, S: 200, G: 403}),
    ("assignments put", "PUT", lambda i: f"/api/campaigns/{i.camp}/assignments", lambda i: {"json": {"agent_ids": []}}, {A: 200, S: 403, G: 403}),
    ("dispositions list", "GET", lambda i: f"/api/campaigns/{i.camp}/disposition-codes", None, {A: 200, S: 200, G: 200}),
    ("disposition create", "POST", lambda i: f"/api/campaigns/{i.camp}/disposition-codes", lambda i: {"json": {"code": "NEW", "label": "New"}}, {A: 201, S: 403, G: 403}),
    ("disposition patch", "PATCH", lambda i: f"/api/campaigns/{i.camp}/disposition-codes/{i.code}", lambda i: {"json": {"label": "X"}}, {A: 200, S: 403, G: 403}),
    ("disposition delete", "DELETE", lambda i: f"/api/campaigns/{i.camp}/disposition-codes/{i.code}", None, {A: 200, S: 403, G: 403}),
    ("pause codes list", "GET", lambda i: f"/api/pause-codes?campaign_id={i.camp}", None, {A: 200, S: 200, G: 200}),
    ("pause code create", "POST", lambda i: "/api/pause-codes", lambda i: {"json": {"code": "LUNCH", "label": "Lunch", "campaign_id": i.camp}}, {A: 201, S: 403, G: 403}),
    ("pause code patch", "PATCH", lambda i: f"/api/pause-codes/{i.pause}", lambda i: {"json": {"label": "X"}}, {A: 200, S: 403, G: 403}),
    ("pause code delete", "DELETE", lambda i: f"/api/pause-codes/{i.pause}", None, {A: 200, S: 403, G: 403}),
    ("contacts list", "GET", lambda i: f"/api/campaigns/{i.camp}/contacts", None, {A: 200, S: 200, G: 403}),
    ("contact create", "POST", lambda i: f"/api/campaigns/{i.camp}/contacts", lambda i: {"json": {"phone": "2125558888"}}, {A: 201, S: 201, G: 403}),
    ("contact get", "GET", lambda i: f"/api/campaigns/{i.camp}/contacts/{i.contact}", None, {A: 200, S: 200, G: 403}),
    ("contact import", "POST", lambda i: f"/api/campaigns/{i.camp}/contacts/import", lambda i: {"data": _csv()}, {A: 202, S: 202, G: 403}),
    ("import get", "GET", lambda i: f"/api/imports/{i.job}", None, {A: 200, S: 200, G: 403}),
    ("import rejections", "GET", lambda i: f"/api/imports/{i.job}/rejections", None, {A: 200, S: 200, G: 403}),
    ("import rejections csv", "GET", lambda i: f"/api/imports/{i.job}/rejections.csv", None, {A: 200, S: 200, G: 403}),
    ("dnc list", "GET", lambda i: f"/api/dnc?campaign_id={i.camp}", None, {A: 200, S: 200, G: 403}),
    ("dnc add", "POST", lambda i: "/api/dnc", lambda i: {"json": {"phone": "2125557777", "campaign_id": i.camp}}, {A: 201, S: 201, G: 403}),
    ("dnc check", "GET", lambda i: f"/api/dnc/check?phone=2125557777&campaign_id={i.camp}", None, {A: 200, S: 200, G: 403}),
    ("dnc get", "GET", lambda i: f"/api/dnc/{i.dnc}", None, {A: 200, S: 200, G: 403}),
    ("dnc remove", "DELETE", lambda i: f"/api/dnc/{i.dnc}", None, {A: 204, S: 403, G: 403}),
    ("dnc import", "POST", lambda i: "/api/dnc/import", lambda i: {"data": {**_csv(), "campaign_id": str(i.camp)}}, {A: 202, S: 202, G: 403}),
    ("users list", "GET", lambda i: "/api/users", None, {A: 200, S: 403, G: 403}),
    ("user get", "GET", lambda i: f"/api/users/{i.agent}", None, {A: 200, S: 403, G: 403}),
    ("user patch", "PATCH", lambda i: f"/api/users/{i.agent}", lambda i: {"json": {"full_name": "A. Gent"}}, {A: 200, S: 403, G: 403}),
    ("user deactivate", "POST", lambda i: f"/api/users/{i.agent}/deactivate", None, {A: 200, S: 403, G: 403}),
    ("user activate", "POST", lambda i: f"/api/users/{i.agent}/activate", None, {A: 200, S: 403, G: 403}),
    ("tokens list", "GET", lambda i: f"/api/users/{i.agent}/tokens", None, {A: 200, S: 403, G: 403}),
    ("token issue", "POST", lambda i: f"/api/users/{i.agent}/tokens", lambda i: {"json": {"name": "crm"}}, {A: 201, S: 403, G: 403}),
    ("token revoke", "DELETE", lambda i: f"/api/users/{i.agent}/tokens/{i.token}", None, {A: 200, S: 403, G: 403}),
    ("agents list", "GET", lambda i: "/api/agents", None, {A: 200, S: 200, G: 200}),
    ("agent get", "GET", lambda i: f"/api/agents/{i.agent}", None, {A: 200, S: 200, G: 200}),
]
WITHOUT_IDS = {"campaign list", "campaign create", "users list", "agents list"}


def _call(client, method, path, body):
    kwargs = body or {}
    if "data" in kwargs:
        kwargs = {**kwargs, "content_type": "multipart/form-data"}
    return getattr(client, method.lower())(path, **kwargs)


def _client_for(role, world, app, login_as):
    if role == A:
        return login_as(A)
    from tests.helpers import ApiClient

    person = world.supervisor if role == S else world.agent
    client = ApiClient(app.test_client())
    assert client.login(person.username, person.password).status_code == 200
    return client


@pytest.mark.parametrize("role", [A, S, G])
@pytest.mark.parametrize("name, method, path, body, expected", ROUTES, ids=[r[0] for r in ROUTES])
def test_own_records(app, login_as, world, role, name, method, path, body, expected):
    client = _client_for(role, world, app, login_as)
    response = _call(client, method, path(world.own), body(world.own) if body else None)
    assert response.status_code == expected[role], response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("role", [S, G])
@pytest.mark.parametrize("name, method, path, body, expected",
                         [r for r in ROUTES if r[0] not in WITHOUT_IDS], ids=[r[0] for r in ROUTES if r[0] not in WITHOUT_IDS])
def test_anothers_ids_answer_404(app, login_as, world, role, name, method, path, body, expected):
    client = _client_for(role, world, app, login_as)
    response = _call(client, method, path(world.other), body(world.other) if body else None)
    assert response.status_code == (403 if expected[role] == 403 else 404), response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("name, method, path, body, expected",
                         [r for r in ROUTES if r[0] not in WITHOUT_IDS and not r[0].startswith("user ")
                          and r[0] not in ("tokens list", "token issue", "pause code create")],
                         ids=[r[0] for r in ROUTES if r[0] not in WITHOUT_IDS and not r[0].startswith("user ")
                              and r[0] not in ("tokens list", "token issue", "pause code create")])
def test_missing_ids_answer_404_to_admins(app, login_as, world, name, method, path, body, expected):
    client = login_as(A)
    response = _call(client, method, path(world.missing), body(world.missing) if body else None)
    assert response.status_code == 404, response.get_data(as_text=True)[:300]


def test_cross_campaign_ids_do_not_leak_through_a_campaign_one_may_see(app, login_as, world):
    admin = login_as(A)
    own, other = world.own, world.other
    assert admin.get(f"/api/campaigns/{own.camp}/contacts/{other.contact}").status_code == 404
    assert admin.patch(f"/api/campaigns/{own.camp}/disposition-codes/{other.code}", json={"label": "x"}).status_code == 404


def test_lists_hold_only_what_the_role_may_see(app, login_as, world):
    sup = _client_for(S, world, app, login_as)
    agent = _client_for(G, world, app, login_as)
    assert [c["id"] for c in sup.get("/api/campaigns").get_json()["items"]] == [world.own.camp]
    assert [c["id"] for c in agent.get("/api/campaigns").get_json()["items"]] == [world.own.camp]
    assert [a["id"] for a in sup.get("/api/agents").get_json()["items"]] == [world.own.agent]
    assert [a["id"] for a in agent.get("/api/agents").get_json()["items"]] == [world.own.agent]
    dnc = sup.get("/api/dnc").get_json()["items"]
    assert {d["campaign_id"] for d in dnc} == {world.own.camp}
    pauses = agent.get("/api/pause-codes").get_json()["items"]
    assert {p["campaign_id"] for p in pauses} - {None} == {world.own.camp}  # None: every campaign's
    admin = login_as(A)
    assert {c["id"] for c in admin.get("/api/campaigns").get_json()["items"]} >= {world.own.camp, world.other.camp}
