"""/api/reports: each report's figures on the hand-countable KPI scenario (tests/kpi/conftest.py),
ranges, who may see which campaign, and the CSVs."""
import csv
import io
from datetime import date

import pytest

from app.kpi import reports
from tests.kpi import factories as f
from tests.kpi.conftest import NOW

DAY = "range=custom&from=2026-03-02&to=2026-03-02"  # the scenario's local day in New York


def _supervisor_of(app, users, campaign_id):
    from app.extensions import db
    from tests.helpers import ApiClient

    sup = users.create("supervisor")
    with app.app_context():
        f.assign(campaign_id, sup.id, "supervisor")
        db.session.commit()
    client = ApiClient(app.test_client())
    assert client.login(sup.username, sup.password).status_code == 200
    return client


def _csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))


def test_agent_performance_figures(api_scenario, login_as):
    body = login_as("admin").get(f"/api/reports/agent-performance?campaign_id={api_scenario.campaign_id}&{DAY}")
    assert body.status_code == 200, body.get_json()
    report = body.get_json()
    agents = {a["agent_id"]: a for a in report["agents"]}
    a1, a2 = agents[api_scenario.a1.id], agents[api_scenario.a2.id]
    # a1: two handled calls (talk 120 + 60, wrap 30 + 20), one sale of two contacts; signed in
    # 13:30-15:00 (5400 s), paused 15 min on BREAK, on a call or in wrap-up 2 + 1 + 10 min.
    assert (a1["handled"], a1["talk_seconds"], a1["wrap_seconds"], a1["paused_seconds"]) == (2, 180, 50, 900)
    assert a1["pause_by_code"] == [{"code": "BREAK", "label": "BREAK", "seconds": 900}]
    assert (a1["sales"], a1["contacts_reached"], a1["signed_in_seconds"]) == (1, 2, 5400)
    assert a1["conversion"] == pytest.approx(0.5)
    assert a1["occupancy"] == pytest.approx(780 / 4500)
    # a2: one finished call (talk 30, wrap 10) with a non-contact code; the other is still in wrap-up
    assert (a2["handled"], a2["talk_seconds"], a2["sales"], a2["conversion"], a2["occupancy"]) == (1, 30, 0, None, None)
    assert report["total"]["handled"] == 3 and report["total"]["sales"] == 1
    occupancy = next(d for d in report["definitions"] if d["name"] == "occupancy")
    assert "excluding pause" in occupancy["definition"]


def test_dispositions_count_and_share(api_scenario, login_as):
    report = login_as("admin").get(f"/api/reports/dispositions?campaign_id={api_scenario.campaign_id}&{DAY}").get_json()
    assert report["handled"] == 3
    assert [(d["label"], d["count"]) for d in report["dispositions"]] == [("NI", 1), ("NOANS", 1), ("SALE", 1)]
    assert [d["share"] for d in report["dispositions"]] == [pytest.approx(1 / 3)] * 3


def test_hourly_figures(api_scenario, login_as):
    report = login_as("admin").get(f"/api/reports/hourly?campaign_id={api_scenario.campaign_id}&{DAY}").get_json()
    points = report["points"]
    assert len(points) == 24  # every hour of the local day, zeros where nothing happened
    assert points[0]["label"] == "Mon 02 Mar 00:00"  # New York time
    busy = points[9]  # 09:00 in New York = 14:00Z
    assert (busy["label"], busy["calls_placed"], busy["human_answered"], busy["handled"], busy["abandoned"]) == (
        "Mon 02 Mar 09:00", 4, 2, 3, 1)
    assert busy["abandon_rate"] == pytest.approx(0.5)
    assert busy["talk_minutes_per_agent_hour"] == pytest.approx(3.5)  # 210 s of talk over one signed-in hour
    assert points[8]["talk_minutes_per_agent_hour"] == 0  # signed in half an hour, no talk
    assert points[0]["calls_placed"] == 1 and points[0]["abandon_rate"] is None  # the busy call at 00:30
    t = report["total"]
    assert (t["calls_placed"], t["human_answered"], t["abandoned"]) == (5, 2, 1)
    assert t["talk_minutes_per_agent_hour"] == pytest.approx(3.5 / 1.5)  # pause included in the hours


def test_an_hour_in_a_half_hour_zone_is_labelled_when_it_starts_there():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    figures = reports.derive({c: 0 for c in reports.SUM_COLUMNS})
    point = reports._activity_point(datetime(2026, 3, 2, 9, tzinfo=timezone.utc), figures,
                                    ZoneInfo("Asia/Kolkata"), reports.HOUR_LABEL)
    assert point["label"] == "Mon 02 Mar 14:30"


def test_daily_figures_over_local_days(api_scenario, login_as):
    report = login_as("admin").get(f"/api/reports/daily?campaign_id={api_scenario.campaign_id}"
                                   "&range=custom&from=2026-02-28&to=2026-03-02").get_json()
    assert [(p["label"], p["calls_placed"], p["human_answered"]) for p in report["points"]] == [
        ("Sat 28 Feb 2026", 0, 0), ("Sun 01 Mar 2026", 1, 1), ("Mon 02 Mar 2026", 5, 2)]
    assert report["points"][2]["abandon_rate"] == pytest.approx(0.5)


def test_ranges_are_the_campaigns_local_days(scenario):
    today = reports.resolve_range(scenario.campaign, {"range": "today"}, NOW)
    assert (today["first_day"], today["start"].isoformat(), today["end"].isoformat()) == (
        date(2026, 3, 2), "2026-03-02T00:00:00-05:00", "2026-03-03T00:00:00-05:00")
    yesterday = reports.resolve_range(scenario.campaign, {"range": "yesterday"}, NOW)
    assert yesterday["first_day"] == yesterday["last_day"] == date(2026, 3, 1)
    week = reports.resolve_range(scenario.campaign, {"range": "last_7_days"}, NOW)
    assert (week["first_day"], week["last_day"]) == (date(2026, 2, 24), date(2026, 3, 2))


def test_a_custom_range_needs_days_in_order(api_scenario, login_as):
    admin = login_as("admin")
    base = f"/api/reports/dispositions?campaign_id={api_scenario.campaign_id}&range=custom"
    missing = admin.get(base + "&from=2026-03-02")
    assert missing.status_code == 422 and "to" in missing.get_json()["error"]["fields"]
    backwards = admin.get(base + "&from=2026-03-02&to=2026-03-01")
    assert backwards.status_code == 422 and backwards.get_json()["error"]["fields"]["to"]
    assert admin.get(base.replace("custom", "fortnight")).status_code == 422


def test_supervisors_see_only_their_campaigns(app, api_scenario, users, login_as):
    cid = api_scenario.campaign_id
    mine = _supervisor_of(app, users, cid)
    assert mine.get(f"/api/reports/dispositions?campaign_id={cid}&{DAY}").status_code == 200
    assert [c["id"] for c in mine.get("/api/reports/campaigns").get_json()["campaigns"]] == [cid]
    stranger = login_as("supervisor")
    for path in ("agent-performance", "dispositions", "hourly", "daily", "agent-performance/export",
                 "dispositions/export", "hourly/export", "daily/export"):
        r = stranger.get(f"/api/reports/{path}?campaign_id={cid}&{DAY}")
        assert r.status_code == 404, path
    assert stranger.get("/api/reports/campaigns").get_json()["campaigns"] == []
    assert login_as("agent").get(f"/api/reports/dispositions?campaign_id={cid}&{DAY}").status_code == 403


def test_the_report_csvs(api_scenario, login_as):
    admin, cid = login_as("admin"), api_scenario.campaign_id
    agents = _csv(admin.get(f"/api/reports/agent-performance/export?campaign_id={cid}&{DAY}"))
    assert agents[0][:6] == ["Agent", "Calls handled", "Talk time (seconds)", "Wrap-up time (seconds)",
                             "Pause time (seconds)", "Pause: BREAK (seconds)"]
    assert agents[0][-1].startswith("Occupancy")
    total = agents[-1]
    assert total[:6] == ["All agents", "3", "210", "60", "900", "900"] and total[-2:] == ["50.0%", "17.3%"]  # 1 sale of 2 contacts; 780 ÷ 4500
    dispositions = _csv(admin.get(f"/api/reports/dispositions/export?campaign_id={cid}&{DAY}"))
    assert dispositions[1] == ["NI", "1", "33.3%"] and dispositions[-1] == ["All handled calls", "3", "100.0%"]
    hourly = _csv(admin.get(f"/api/reports/hourly/export?campaign_id={cid}&{DAY}"))
    assert hourly[0][0] == "Hour (America/New_York)"
    assert hourly[10] == ["Mon 02 Mar 09:00", "4", "2", "3", "1", "50.0%", "210", "3600", "3.5"]
    assert hourly[-1][:6] == ["Whole range", "5", "2", "3", "1", "50.0%"]


def test_a_formula_in_a_name_is_defused_in_the_csv(app, api_scenario, login_as):
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        db.session.get(User, api_scenario.a1.id).full_name = '=HYPERLINK("x")'
        db.session.commit()
    rows = _csv(login_as("admin").get(f"/api/reports/agent-performance/export?campaign_id={api_scenario.campaign_id}&{DAY}"))
    assert ["'=HYPERLINK(\"x\")"] == [r[0] for r in rows if "HYPERLINK" in r[0]]


def test_the_openapi_document_lists_the_reports(client):
    paths = set(client.get("/api/openapi.json").get_json()["paths"])
    assert {"/api/reports/campaigns", "/api/reports/agent-performance", "/api/reports/dispositions",
            "/api/reports/hourly", "/api/reports/daily", "/api/reports/daily/export"} <= paths
