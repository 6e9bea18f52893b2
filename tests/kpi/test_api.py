"""/api/kpi: figures, windows, who sees what, and the documented definitions."""
from datetime import timedelta

import pytest

from app.extensions import db
from app.kpi import rollup, services
from tests.kpi import factories as f
from tests.kpi.conftest import NOW
from tests.kpi.factories import utc

WINDOW = "from=2026-03-02T14:00:00Z&to=2026-03-02T15:00:00Z"


def test_admin_reads_a_campaigns_window_summary_and_series(api_scenario, login_as):
    admin = login_as("admin")
    r = admin.get(f"/api/kpi/campaigns/{api_scenario.campaign_id}?{WINDOW}&granularity=minute")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["window"]["granularity"] == "minute"
    s = body["summary"]
    assert (s["calls_placed"], s["human_answered"], s["abandoned"], s["handled"]) == (4, 2, 1, 3)
    assert s["abandon_rate"] == pytest.approx(0.5)
    assert s["avg_handle_seconds"] == pytest.approx(90)
    assert s["occupancy"] == pytest.approx(780 / 2700)
    assert s["dispositions"] == {"SALE": 1, "NI": 1, "NOANS": 1}
    assert s["pause_by_code"] == {"BREAK": pytest.approx(900)}
    assert sum(p["calls_placed"] for p in body["series"]) == 4
    assert body["series"][0]["bucket_start"].startswith("2026-03-02T14:00")
    assert body["list"] == {"total": 5, "attempted": 3, "remaining": 3, "penetration": pytest.approx(0.6)}


def test_day_granularity_sums_local_days(api_scenario, login_as):
    admin = login_as("admin")
    body = admin.get(f"/api/kpi/campaigns/{api_scenario.campaign_id}"
                     "?from=2026-03-01T05:00:00Z&to=2026-03-03T05:00:00Z&granularity=day").get_json()
    assert [(p["bucket_start"][:16], p["calls_placed"]) for p in body["series"]] == \
        [("2026-03-01T05:00", 1), ("2026-03-02T05:00", 5)]


def test_supervisors_see_only_campaigns_they_supervise(api_scenario, login_as, app):
    mine, other = login_as("supervisor"), login_as("supervisor")
    with app.app_context():
        f.assign(api_scenario.campaign_id, mine.user.id, "supervisor")
        db.session.commit()
    assert mine.get(f"/api/kpi/campaigns/{api_scenario.campaign_id}?{WINDOW}").status_code == 200
    r = other.get(f"/api/kpi/campaigns/{api_scenario.campaign_id}?{WINDOW}")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert other.get("/api/kpi/campaigns/999999").status_code == 404
    assert [c["campaign_id"] for c in mine.get("/api/kpi/summary").get_json()["campaigns"]] == \
        [api_scenario.campaign_id]
    assert other.get("/api/kpi/summary").get_json()["campaigns"] == []
    # agents of a supervised campaign, counted only there; anyone else's id answers 404
    r = mine.get(f"/api/kpi/agents/{api_scenario.a1.id}?{WINDOW}")
    assert r.status_code == 200 and r.get_json()["summary"]["handled"] == 2
    assert other.get(f"/api/kpi/agents/{api_scenario.a1.id}?{WINDOW}").status_code == 404


def test_agents_see_only_their_own_kpis(api_scenario, login_as, app):
    a1 = login_as("agent")
    a1.login(api_scenario.a1.username, api_scenario.a1.password)
    me = a1.get(f"/api/kpi/agents/me?{WINDOW}")
    assert me.status_code == 200
    assert me.get_json()["agent_id"] == api_scenario.a1.id
    assert me.get_json()["summary"]["talk_seconds"] == pytest.approx(180)
    assert a1.get(f"/api/kpi/agents/{api_scenario.a1.id}?{WINDOW}").get_json() == me.get_json()
    r = a1.get(f"/api/kpi/agents/{api_scenario.a2.id}?{WINDOW}")
    assert r.status_code == 404
    assert a1.get(f"/api/kpi/campaigns/{api_scenario.campaign_id}").status_code == 403
    assert a1.get("/api/kpi/summary").status_code == 403


def test_kpi_reads_share_the_reporting_tier(app, login_as):
    agent = login_as("agent")
    limit = int(app.config["RATELIMIT_REPORTING"].split()[0])
    for i in range(limit):
        assert (agent.get("/api/kpi/agents/me") if i % 2 else agent.get("/api/kpi/summary")).status_code in (200, 403)
    r = agent.get("/api/kpi/agents/me")
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"


def test_anonymous_callers_are_refused(client, api_scenario):
    assert client.get(f"/api/kpi/campaigns/{api_scenario.campaign_id}").status_code == 401
    assert client.get("/api/kpi/agents/me").status_code == 401


def test_windows_are_validated(api_scenario, login_as):
    admin = login_as("admin")
    base = f"/api/kpi/campaigns/{api_scenario.campaign_id}"
    r = admin.get(f"{base}?from=2026-03-02T15:00:00Z&to=2026-03-02T14:00:00Z")
    assert r.status_code == 422 and "to" in r.get_json()["error"]["fields"]
    r = admin.get(f"{base}?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&granularity=minute")
    assert r.status_code == 422 and "granularity" in r.get_json()["error"]["fields"]
    assert admin.get(f"{base}?granularity=week").status_code == 422


def test_openapi_documents_the_definitions(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/kpi/campaigns/{campaign_id}" in spec["paths"]
    assert "/api/kpi/agents/me" in spec["paths"] and "/api/kpi/summary" in spec["paths"]
    figures = spec["components"]["schemas"]["KpiFigures"]["properties"]
    assert "time signed in and not paused" in figures["occupancy"]["description"].replace(
        "(signed in and not paused) time", "time signed in and not paused")
    assert "abandoned / human_answered" in figures["abandon_rate"]["description"]
    tag = next(t for t in spec["tags"] if t["name"] == "kpi")
    assert "local midnight" in tag["description"]


def test_each_rollup_publishes_the_campaign_figures(scenario, monkeypatch):
    sent = []
    monkeypatch.setattr(services, "publish", lambda event, payload, room: sent.append((event, payload, room)))
    touched = rollup.run_rollup(NOW)
    services.publish_figures(touched, NOW)
    assert [(e, r) for e, _, r in sent] == [("campaign.figures", f"campaign:{scenario.campaign.id}")]
    payload = sent[0][1]
    assert payload["today"]["calls_placed"] == 5 and payload["today"]["day_start"].startswith("2026-03-02T05:00")
    assert payload["abandonment_30d"]["human_answered"] == 4  # c1, c2, c6 and c5 (live)
    assert payload["list"]["remaining"] == 3


def test_the_beat_task_rolls_up_and_commits(scenario):
    from workers.kpi import roll_up_kpis

    assert roll_up_kpis.run() >= 1
    later = NOW + timedelta(minutes=5)
    f.call(scenario.campaign.id, utc(2026, 3, 2, 14, 50), outcome="human")
    rollup.run_rollup(later)
    # c5 is still live and older than the rollups' boundary: counted from the calls table
    assert services.abandon_rate_30d(scenario.campaign.id, later)[:2] == (1, 5)
