"""What an assigned agent reads of a campaign: script, usable disposition codes, pause codes."""


def test_agent_reads_script_active_codes_and_pause_codes(app, login_as, users, campaigns):
    admin = login_as("admin")
    agent = users.create("agent")
    cid = campaigns.create(agents=[agent], script="Hello, this is Acme.")
    other = campaigns.create()
    codes = admin.get(f"/api/campaigns/{cid}/disposition-codes").get_json()["items"]
    retired = next(c for c in codes if c["code"] == "WRONG_NUMBER")
    assert admin.delete(f"/api/campaigns/{cid}/disposition-codes/{retired['id']}").get_json()["active"] is False
    assert admin.post("/api/pause-codes", json={"code": "break", "label": "Break", "paid": True}).status_code == 201
    assert admin.post("/api/pause-codes", json={"code": "coach", "label": "Coaching", "campaign_id": cid}).status_code == 201
    assert admin.post("/api/pause-codes", json={"code": "other", "label": "Elsewhere", "campaign_id": other}).status_code == 201
    assert admin.post("/api/pause-codes", json={"code": "BREAK", "label": "Again"}).status_code == 409

    from tests.helpers import ApiClient

    client = ApiClient(app.test_client())
    client.login(agent.username, agent.password)
    body = client.get(f"/api/campaigns/{cid}").get_json()
    assert body["script"] == "Hello, this is Acme."
    assert "WRONG_NUMBER" not in {c["code"] for c in body["disposition_codes"]}
    assert {"SALE", "DNC"} <= {c["code"] for c in body["disposition_codes"]}
    codes = {p["code"] for p in body["pause_codes"]}
    assert {"BREAK", "COACH"} <= codes and "OTHER" not in codes  # global ones and its own, not another's
    assert client.get(f"/api/campaigns/{other}").status_code == 404
    assert client.get(f"/api/pause-codes?campaign_id={other}").status_code == 404


def test_assignments_accept_only_users_of_the_right_role(login_as, users, campaigns):
    admin = login_as("admin")
    agent, supervisor = users.create("agent"), users.create("supervisor")
    cid = campaigns.create()
    wrong = admin.put(f"/api/campaigns/{cid}/assignments", json={"agent_ids": [supervisor.id]})
    assert wrong.status_code == 422 and "agent_ids" in wrong.get_json()["error"]["fields"]
    ok = admin.put(f"/api/campaigns/{cid}/assignments", json={"agent_ids": [agent.id], "supervisor_ids": [supervisor.id]})
    assert ok.status_code == 200
    body = ok.get_json()
    assert [a["id"] for a in body["agents"]] == [agent.id] and [s["id"] for s in body["supervisors"]] == [supervisor.id]
    assert admin.get(f"/api/campaigns/{cid}").get_json()["agent_ids"] == [agent.id]


def test_campaign_list_filters_and_pages(login_as, campaigns):
    admin = login_as("admin")
    for _ in range(3):
        campaigns.create()
    predictive = campaigns.create(dial_mode="predictive")
    page = admin.get("/api/campaigns?per_page=2").get_json()
    assert len(page["items"]) == 2 and page["meta"]["total"] >= 4
    assert [c["id"] for c in admin.get("/api/campaigns?dial_mode=predictive").get_json()["items"]] == [predictive]
