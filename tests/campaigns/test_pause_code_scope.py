"""Pause codes say where they apply, and the agents of a brand-new campaign can pause."""
import importlib.util
from pathlib import Path

from sqlalchemy import update

from app.agents import services as agent_services
from app.auth.models import User
from app.campaigns.models import PauseCode
from app.errors import ApiError
from app.extensions import db
from tests.helpers import connect_audio

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0017_pacing_overrides_and_pause_codes.py"


def _migration():
    spec = importlib.util.spec_from_file_location("m0017", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_code_says_where_agents_may_use_it(login_as, campaigns):
    admin = login_as("admin")
    cid = campaigns.create(name="Winter Boilers")
    assert admin.post("/api/pause-codes", json={"code": "coffee", "label": "Coffee"}).status_code == 201
    own = admin.post("/api/pause-codes", json={"code": "huddle", "label": "Team huddle", "campaign_id": cid})
    assert own.status_code == 201 and own.get_json()["scope"] == "Winter Boilers"
    items = {c["code"]: c for c in admin.get("/api/pause-codes", query_string={"per_page": 500}).get_json()["items"]}
    assert items["COFFEE"]["scope"] == "Every campaign" and items["COFFEE"]["campaign_name"] is None
    assert items["HUDDLE"]["scope"] == "Winter Boilers" and items["HUDDLE"]["campaign_name"] == "Winter Boilers"


def test_a_code_for_a_campaign_that_does_not_exist_is_a_field_error(login_as):
    admin = login_as("admin")
    response = admin.post("/api/pause-codes", json={"code": "x", "label": "X", "campaign_id": 987654})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["campaign_id"]


def test_the_standard_codes_let_an_agent_of_a_new_campaign_pause(app, ctx, users, campaigns):
    # Whatever other tests left, only the migration's codes are usable in a new campaign here.
    db.session.execute(update(PauseCode).values(active=False))
    db.session.flush()
    _migration().insert_standard_pause_codes(db.session.connection())
    db.session.execute(update(PauseCode).where(PauseCode.campaign_id.is_(None), PauseCode.code.in_(
        [c[0] for c in _migration().STANDARD_PAUSE_CODES])).values(active=True))
    db.session.commit()
    agent = users.create("agent")
    cid = campaigns.create(agents=[agent])
    codes = {c["code"]: c["label"] for c in _as(app, agent).get(f"/api/campaigns/{cid}").get_json()["pause_codes"]}
    assert codes == {"SHORT_BREAK": "Short break", "LUNCH": "Lunch", "TRAINING": "Training",
                     "MEETING": "Meeting or coaching"}
    connect_audio(agent.id)
    person = db.session.get(User, agent.id)
    agent_services.set_own_state(person, "ready", campaign_id=cid)
    status = agent_services.set_own_state(person, "paused", campaign_id=cid, pause_code="SHORT_BREAK")
    assert status["state"] == "paused" and status["pause_code"] == "SHORT_BREAK"


def test_a_reason_is_asked_for_where_codes_exist_and_not_where_none_is_usable(ctx, users, campaigns):
    agent = users.create("agent")
    cid = campaigns.create(agents=[agent])
    db.session.add(PauseCode(code="STRETCH", label="Stretch"))
    db.session.commit()
    connect_audio(agent.id)
    person = db.session.get(User, agent.id)
    agent_services.set_own_state(person, "ready", campaign_id=cid)
    try:
        agent_services.set_own_state(person, "paused", campaign_id=cid)
        raise AssertionError("a pause without a reason was taken")
    except ApiError as exc:
        assert exc.status == 422 and exc.fields == {"pause_code": ["Choose a pause reason."]}
    db.session.execute(update(PauseCode).values(active=False))  # every code retired
    db.session.commit()
    assert agent_services.set_own_state(person, "paused", campaign_id=cid)["state"] == "paused"


def _as(app, user):
    from tests.helpers import ApiClient

    client = ApiClient(app.test_client())
    client.login(user.username, user.password)
    return client
