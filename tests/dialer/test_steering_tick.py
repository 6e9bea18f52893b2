"""A person steering a predictive campaign changes what the next pacing tick places, within the
law: the 30-day abandonment governor holds whatever is set, and clearing the override returns the
campaign to automatic pacing. Real Redis and PostgreSQL; the 30-day figures are given."""
import pytest

from app.campaigns.models import Campaign, PacingOverride
from app.common.redis import get_redis
from app.dialer.tick import pacing_tick
from app.extensions import db
from tests.dialer.floor import make_ready, staffed_campaign

# 400 person-answered calls and none abandoned in 30 days: 12 abandonments of room at 3%.
ROOMY = (0, 400, 0.0)
# 12 abandoned of 400: the 3% budget is spent.
SPENT = (12, 400, 0.03)


@pytest.fixture
def predictive(app, users):
    return staffed_campaign(app, users, "predictive", contacts=40, queued_for=30)


def _ready(agent_ids, campaign_id):
    make_ready(agent_ids, campaign_id)


def _thirty_days(monkeypatch, figures):
    monkeypatch.setattr("app.dialer.tick.abandon_rate_30d", lambda campaign_id, now: figures)


def _override(campaign_id, **values):
    db.session.add(PacingOverride(campaign_id=campaign_id, **values))
    db.session.commit()


def test_a_fixed_dial_level_sets_what_the_tick_places(ctx, predictive, sent_tasks, monkeypatch):
    campaign_id, agents = predictive
    _thirty_days(monkeypatch, ROOMY)
    _ready(agents, campaign_id)
    _override(campaign_id, fixed_dial_level=2)
    assert pacing_tick(campaign_id) == 6  # 2 calls dialling for each of 3 ready agents
    assert pacing_tick(campaign_id) == 0  # six are dialling already: the level holds


def test_the_30_day_governor_holds_a_fixed_level_once_the_budget_is_spent(ctx, predictive, sent_tasks,
                                                                          monkeypatch):
    campaign_id, agents = predictive
    _thirty_days(monkeypatch, SPENT)
    _ready(agents, campaign_id)
    _override(campaign_id, fixed_dial_level=3)
    assert pacing_tick(campaign_id) == 3  # one per ready agent, as progressive dials


def test_clearing_the_override_returns_the_next_tick_to_automatic(ctx, predictive, sent_tasks,
                                                                   monkeypatch):
    from app.campaigns import steering
    from app.common.timeutil import utcnow

    campaign_id, agents = predictive
    _thirty_days(monkeypatch, ROOMY)
    _ready(agents, campaign_id)
    _override(campaign_id, fixed_dial_level=2)
    db.session.delete(db.session.get(PacingOverride, campaign_id))
    db.session.commit()
    assert pacing_tick(campaign_id) == 3  # the fresh pacer's own choice, not the 6 of level 2
    live = steering.live(get_redis(), campaign_id, utcnow().timestamp())
    assert live["how"] == "automatic" and live["ready_agents"] == 3 and live["placed"] == 3
    assert live["dial_level"] == 1.0 and live["placed_last_minute"] == 3


def test_a_ceiling_bounds_the_pacers_answer_but_never_below_progressive():
    from app.campaigns.steering import steer

    ceiling = PacingOverride(max_dial_level=2)
    assert steer(10, ceiling, "predictive", ready=3, dialing=1, target=0.03,
                 abandoned_30d=0, humans_30d=400) == (5, "ceiling")
    assert steer(4, ceiling, "predictive", ready=3, dialing=1, target=0.03,
                 abandoned_30d=0, humans_30d=400) == (4, "automatic")
    # 7 dialling for 3 ready is over a ceiling of 2 already: still one call per ready agent
    # not covered, as progressive dials (here none)
    assert steer(6, ceiling, "predictive", ready=3, dialing=7, target=0.03,
                 abandoned_30d=0, humans_30d=400) == (0, "ceiling")


def test_an_abandonment_target_override_reaches_the_pacer(ctx, predictive, sent_tasks, monkeypatch):
    from app.dialer.pacer_feed import registry

    campaign_id, agents = predictive
    _thirty_days(monkeypatch, ROOMY)
    _ready(agents, campaign_id)
    pacing_tick(campaign_id)
    assert registry._entries[campaign_id].target == 0.03
    _override(campaign_id, abandon_target=0.01)
    pacing_tick(campaign_id)
    assert registry._entries[campaign_id].target == 0.01
    assert registry._entries[campaign_id].pacer.abandon_target == 0.01


def test_a_progressive_campaign_ignores_dial_levels(ctx, predictive, sent_tasks, monkeypatch):
    campaign_id, agents = predictive
    _thirty_days(monkeypatch, ROOMY)
    db.session.get(Campaign, campaign_id).dial_mode = "progressive"
    db.session.commit()
    _ready(agents, campaign_id)
    _override(campaign_id, fixed_dial_level=3)
    assert pacing_tick(campaign_id) == 3


def test_a_fixed_level_never_places_more_lines_than_the_budget_can_abandon():
    """Every line beyond the ready agents could become an abandonment: with 2 to spare (3% of
    100 answered, 0 abandoned, less the reserve of 1), a fixed level of 10 for 4 agents places
    at most 4 + 2 lines working, not 40."""
    from app.campaigns import steering

    override = PacingOverride(fixed_dial_level=10)
    assert steering.steer(0, override, "predictive", ready=4, dialing=0, target=0.03,
                          abandoned_30d=0, humans_30d=100) == (6, "budget")
    # Lines already working count against the same spare abandonments.
    assert steering.steer(0, override, "predictive", ready=4, dialing=5, target=0.03,
                          abandoned_30d=0, humans_30d=100) == (1, "budget")
    # With room for all of them, the person's level holds.
    assert steering.steer(0, override, "predictive", ready=4, dialing=0, target=0.03,
                          abandoned_30d=0, humans_30d=2000) == (40, "fixed")


def test_automatic_pacing_is_told_the_campaigns_30_day_account(ctx, predictive, sent_tasks, monkeypatch):
    """The governor's budget and the short window's goal come from the rolling 30-day account:
    the tick must hand the pacer those counts, not leave it to its own count since it started."""
    from app.dialer.pacing.policy import Predictive

    campaign_id, agents = predictive
    _thirty_days(monkeypatch, (5, 400, 5 / 400))
    told = []
    original = Predictive.calls_to_place

    def recording(self, *args, **kwargs):
        told.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Predictive, "calls_to_place", recording)
    _ready(agents, campaign_id)
    pacing_tick(campaign_id)
    assert told and told[-1]["abandoned_30d"] == 5 and told[-1]["human_answers_30d"] == 400
    assert told[-1]["abandon_rate_30d"] == pytest.approx(5 / 400)


def test_the_page_and_the_wallboard_say_why_automatic_pacing_held(app, predictive, sent_tasks,
                                                                 monkeypatch, login_as):
    """A supervisor sees the pacer's own governor holding the campaign at one call per ready
    agent, and why; once the budget has room again, the sentence goes."""
    from datetime import timedelta

    from app.campaigns import steering
    from app.common.timeutil import utcnow

    campaign_id, agents = predictive
    client = login_as("admin")

    def board():
        return client.get(f"/api/wallboard?campaign_id={campaign_id}").get_json()["campaigns"][0]

    with app.app_context():
        _thirty_days(monkeypatch, SPENT)
        _ready(agents, campaign_id)
        assert pacing_tick(campaign_id) == 3
        live = steering.live(get_redis(), campaign_id, utcnow().timestamp())
    assert live["how"] == "automatic" and live["held_because"] == "spent"
    assert live["held_in_words"] == ("Held to one call per ready agent: the 30-day abandonment "
                                     "budget is spent")
    pacing = board()["pacing"]
    assert pacing["in_words"] == live["held_in_words"] and pacing["because"] == "spent"
    page = client.get(f"/api/campaigns/{campaign_id}/pacing").get_json()["live"]
    assert page["held_in_words"] == live["held_in_words"]
    # Switched to progressive, its last predictive record is no longer what the board says.
    with app.app_context():
        db.session.get(Campaign, campaign_id).dial_mode = "progressive"
        db.session.commit()
    assert board()["pacing"] is None
    with app.app_context():
        db.session.get(Campaign, campaign_id).dial_mode = "predictive"
        db.session.commit()
    assert board()["pacing"]["because"] == "spent"

    with app.app_context():
        _thirty_days(monkeypatch, ROOMY)
        get_redis().delete(f"tick-lock:{campaign_id}")
        later = utcnow() + timedelta(seconds=steering.SHOWN_MIN_SECONDS)
        pacing_tick(campaign_id, now=later)
        live = steering.live(get_redis(), campaign_id, later.timestamp())
    # The campaign's page reads each tick; the board's line, shown 5 s, follows at once.
    assert live["held_because"] is None and live["held_in_words"] is None
    assert board()["pacing"] is None


def test_a_persons_override_is_what_the_wallboard_says_holds_the_pace(app, predictive, sent_tasks,
                                                                     monkeypatch, login_as):
    campaign_id, agents = predictive
    with app.app_context():
        _thirty_days(monkeypatch, ROOMY)
        _ready(agents, campaign_id)
        _override(campaign_id, fixed_dial_level=2)
        pacing_tick(campaign_id)
    board = login_as("admin").get(f"/api/wallboard?campaign_id={campaign_id}").get_json()
    assert board["campaigns"][0]["pacing"]["in_words"] == "At the fixed dial level set for this campaign"


def test_a_stale_pacing_record_is_not_shown(app, predictive, sent_tasks, monkeypatch, login_as):
    """A campaign whose ticks stopped (its dial workers down, say) shows no reason from the
    last one it had: the record is kept for the campaign's page, not the live board."""
    import time

    from app.campaigns import steering

    campaign_id, _ = predictive
    with app.app_context():
        steering.record_decision(get_redis(), campaign_id, time.time() - steering.SHOWN_FRESH_SECONDS - 5,
                                 mode="predictive", ready=3, dialing=3, wanted=0, decided=0,
                                 placed=0, how="automatic", target=0.03, rate_30d=0.03, why="spent")
    board = login_as("admin").get(f"/api/wallboard?campaign_id={campaign_id}").get_json()
    assert board["campaigns"][0]["pacing"] is None


def test_the_tick_publishes_what_the_board_shows_when_it_changes_and_not_faster(
        app, predictive, sent_tasks, monkeypatch, login_as):
    """The wallboard's line moves live, and says what the board's read says: a tick whose line
    differs from the one shown publishes it to the campaign's room, unless the line changed
    under 5 s ago (a pace near a ceiling or the budget's cushion crosses it every second)."""
    from datetime import timedelta

    from app.common.timeutil import utcnow

    campaign_id, agents = predictive
    sent = []
    monkeypatch.setattr("app.dialer.tick.publish",
                        lambda event, payload, room: sent.append((event, payload, room)))
    client = login_as("admin")
    start = utcnow()

    def tick(seconds, figures):
        with app.app_context():
            _thirty_days(monkeypatch, figures)
            get_redis().delete(f"tick-lock:{campaign_id}")
            pacing_tick(campaign_id, now=start + timedelta(seconds=seconds))
        board = client.get(f"/api/wallboard?campaign_id={campaign_id}").get_json()
        return board["campaigns"][0]["pacing"]

    with app.app_context():
        _ready(agents, campaign_id)
    spent = {"how": "automatic", "because": "spent",
             "in_words": "Held to one call per ready agent: the 30-day abandonment budget is spent"}
    assert tick(0, SPENT) == spent
    assert sent == [("campaign.figures", {"campaign_id": campaign_id, "pacing": spent},
                     f"campaign:{campaign_id}")]
    assert tick(1, SPENT) == spent and len(sent) == 1  # the same line: nothing to say
    assert tick(2, ROOMY) == spent and len(sent) == 1  # shown 2 s: it stays a while
    assert tick(5, ROOMY) is None  # shown 5 s: the change goes out, as the board reads it
    assert sent[-1][1] == {"campaign_id": campaign_id, "pacing": None} and len(sent) == 2
    # A person's setting is what holds the pace back now.
    with app.app_context():
        _override(campaign_id, fixed_dial_level=2)
    fixed = tick(11, ROOMY)
    assert fixed == {"how": "fixed", "because": None,
                     "in_words": "At the fixed dial level set for this campaign"}
    assert sent[-1][1]["pacing"] == fixed and len(sent) == 3


@pytest.mark.parametrize("change", ["pause", "stop", "progressive"])
def test_a_campaign_paused_stopped_or_no_longer_predictive_loses_its_line_at_once(
        app, predictive, sent_tasks, monkeypatch, login_as, change):
    """The board's line on why the dialer holds back is gone as the campaign stops being paced,
    not at the board's next read, 20 s later: a supervisor who paused it sees it hold no
    reason still."""
    campaign_id, agents = predictive
    sent = []
    monkeypatch.setattr("app.realtime.publish.publish",
                        lambda event, payload, room: sent.append((event, payload, room)))
    client = login_as("admin")
    with app.app_context():
        _ready(agents, campaign_id)
        _thirty_days(monkeypatch, SPENT)
        pacing_tick(campaign_id)
    assert client.get(f"/api/wallboard?campaign_id={campaign_id}").get_json()["campaigns"][0]["pacing"]
    if change == "progressive":
        answer = client.patch(f"/api/campaigns/{campaign_id}", json={
            "dial_mode": "progressive", "safe_harbour_message": "This was Acme Solar, 202 555 0101."})
    else:
        answer = client.post(f"/api/campaigns/{campaign_id}/{change}")
    assert answer.status_code == 200, answer.get_json()
    assert ("campaign.figures", {"campaign_id": campaign_id, "pacing": None},
            f"campaign:{campaign_id}") in sent


def test_a_campaign_paused_and_started_again_at_once_shows_its_line_at_the_next_tick(
        app, predictive, sent_tasks, monkeypatch, login_as):
    """Started again within seconds of the pause, the campaign's next tick puts back the line
    the pause cleared, rather than take it for the one still shown."""
    from datetime import timedelta

    from app.common.timeutil import utcnow

    campaign_id, agents = predictive
    sent = []
    monkeypatch.setattr("app.realtime.publish.publish",
                        lambda event, payload, room: sent.append((event, payload, room)))
    monkeypatch.setattr("app.dialer.tick.publish",
                        lambda event, payload, room: sent.append((event, payload, room)))
    from app.campaigns.models import DispositionCode
    from app.campaigns.services import STANDARD_DISPOSITIONS

    client = login_as("admin")
    start = utcnow()
    with app.app_context():
        db.session.add_all(DispositionCode(campaign_id=campaign_id, **c) for c in STANDARD_DISPOSITIONS)
        db.session.commit()  # a campaign starts only with codes to end its calls with
        _ready(agents, campaign_id)
        _thirty_days(monkeypatch, SPENT)
        pacing_tick(campaign_id, now=start)
    line = sent[-1][1]["pacing"]
    assert line is not None
    assert client.post(f"/api/campaigns/{campaign_id}/pause").status_code == 200
    assert client.post(f"/api/campaigns/{campaign_id}/start").status_code == 200
    assert sent[-1][1]["pacing"] is None
    with app.app_context():
        get_redis().delete(f"tick-lock:{campaign_id}")
        pacing_tick(campaign_id, now=start + timedelta(seconds=2))
    assert sent[-1] == ("campaign.figures", {"campaign_id": campaign_id, "pacing": line}, f"campaign:{campaign_id}")


def test_a_tick_under_way_as_the_campaign_is_paused_does_not_put_the_line_back(
        app, predictive, sent_tasks, monkeypatch):
    from datetime import timedelta

    from sqlalchemy import update

    from app.campaigns import steering
    from app.common.timeutil import utcnow

    campaign_id, agents = predictive
    sent = []
    monkeypatch.setattr("app.dialer.tick.publish",
                        lambda event, payload, room: sent.append((event, payload, room)))
    record = steering.record_decision

    def paused_meanwhile(*args, **kwargs):  # a supervisor's pause commits as the tick decides
        db.session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status="paused"))
        db.session.commit()
        return record(*args, **kwargs)

    monkeypatch.setattr(steering, "record_decision", paused_meanwhile)
    start = utcnow()
    with app.app_context():
        _ready(agents, campaign_id)
        _thirty_days(monkeypatch, SPENT)
        pacing_tick(campaign_id, now=start)
    assert sent == []
    # Started again at once: the next tick shows the line, which the paused tick never did.
    monkeypatch.setattr(steering, "record_decision", record)
    with app.app_context():
        db.session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status="active"))
        db.session.commit()
        get_redis().delete(f"tick-lock:{campaign_id}")
        pacing_tick(campaign_id, now=start + timedelta(seconds=1))
    assert [payload["pacing"] is not None for _, payload, _ in sent] == [True]
