"""A person calls one of our numbers back (POST /twilio/inbound): they hear the seller that
called them and can press the opt-out key to be put on the do-not-call list at once (the law:
the number a call shows must be one the person can call to ask not to be called)."""
from __future__ import annotations

from app.calls.models import Call
from app.dnc.services import is_dnc
from app.extensions import db
from app.numbers.models import PhoneNumber, PoolNumber
from tests.calls.factories import make_campaign, post_signed

POOL_NUMBER = "+12125550161"
CALLEE = "+12125550177"


def _form(to: str, caller: str, **extra) -> dict:
    form = {"AccountSid": "AC" + "a1" * 16, "CallSid": "CA" + "7" * 32, "To": to, "From": caller,
            "CallStatus": "ringing", "Direction": "inbound"}
    form.update(extra)
    return form


def _pooled(app, campaign_id: int) -> None:
    with app.app_context():
        number = PhoneNumber(phone_e164=POOL_NUMBER, carrier_sid="PN" + "1" * 32, friendly_name="NYC 1", state="NY")
        db.session.add(number)
        db.session.flush()
        db.session.add(PoolNumber(campaign_id=campaign_id, number_id=number.id))
        db.session.commit()


def test_a_person_calling_back_a_pool_number_hears_the_seller_that_called_and_can_opt_out(app, client):
    other = make_campaign(app, seller_name="Other Seller")
    campaign = make_campaign(app, seller_name="Acme Solar", seller_phone="+12025550199")
    _pooled(app, other)  # the number is in another campaign's pool too: who called decides
    with app.app_context():
        db.session.add(Call(campaign_id=campaign, to_number=CALLEE, from_number=POOL_NUMBER, outcome="no-answer"))
        db.session.commit()

    answer = post_signed(client, app, "/twilio/inbound", _form(POOL_NUMBER, CALLEE))
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    text = answer.get_data(as_text=True)
    assert "You have reached Acme Solar" in text and "press 9" in text and "(202) 555-0199" in text
    assert f"/twilio/inbound/opt-out?campaign={campaign}" in text and "<Gather" in text

    with app.app_context():
        assert not is_dnc(CALLEE, campaign)
    pressed = post_signed(client, app, f"/twilio/inbound/opt-out?campaign={campaign}",
                          _form(POOL_NUMBER, CALLEE, Digits="9"))
    assert "added to our do-not-call list" in pressed.get_data(as_text=True)
    with app.app_context():
        assert is_dnc(CALLEE, campaign)


def test_another_key_changes_nothing(app, client):
    campaign = make_campaign(app)
    pressed = post_signed(client, app, f"/twilio/inbound/opt-out?campaign={campaign}",
                          _form("+12025550100", CALLEE, Digits="1"))
    assert "Goodbye." in pressed.get_data(as_text=True)
    with app.app_context():
        assert not is_dnc(CALLEE, campaign)


def test_a_pool_number_nobody_was_called_from_answers_for_its_campaign(app, client):
    campaign = make_campaign(app, seller_name="Pool Owner")
    _pooled(app, campaign)
    text = post_signed(client, app, "/twilio/inbound", _form(POOL_NUMBER, "+13125550123")).get_data(as_text=True)
    assert "You have reached Pool Owner" in text


def test_a_withheld_caller_is_told_the_number_to_call(app, client):
    make_campaign(app, seller_name="Acme", caller_id="+12025550100", seller_phone="+12025550199")
    text = post_signed(client, app, "/twilio/inbound", _form("+12025550100", "anonymous")).get_data(as_text=True)
    assert "Your number is withheld" in text and "(202) 555-0199" in text and "<Gather" not in text


def test_a_number_no_campaign_uses_still_answers(app, client):
    text = post_signed(client, app, "/twilio/inbound", _form("+13035550100", CALLEE)).get_data(as_text=True)
    assert "This number takes no calls" in text


def test_a_forged_call_to_our_number_is_refused(app, client):
    answer = client.post("/twilio/inbound", data=_form(POOL_NUMBER, CALLEE), headers={"X-Twilio-Signature": "forged"})
    assert answer.status_code == 403
