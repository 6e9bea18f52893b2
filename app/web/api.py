"""JSON the browser apps need beyond the feature APIs: the wallboard read, callback slots, voice token."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.auth.security import login_required, roles_required
from app.errors import ApiError

blp = Blueprint("console", __name__, url_prefix="/api", description="Browser apps: wallboard, console helpers")


class WallboardArgsSchema(Schema):
    campaign_id = fields.Integer(metadata={"description": "Only this campaign (default: every one you watch)"})


class WallboardSchema(Schema):
    at = fields.DateTime()
    campaigns = fields.List(fields.Dict(), metadata={
        "description": "Per campaign: status, dial_mode, abandon_cap, calls (live, with stage), stages "
                       "(dialling/ringing/connected/waiting), queue depth, dial_level, agents with time in "
                       "state, abandonment today and over 30 days, today's KPIs, per_minute and hourly series"})


class CallbackSlotsSchema(Schema):
    interaction_id = fields.Integer()
    timezone = fields.String(allow_none=True)
    window_start = fields.String()
    window_end = fields.String()
    slots = fields.List(fields.DateTime(), metadata={"description": "Offerable callback times (UTC)"})


class VoiceTokenSchema(Schema):
    token = fields.String()
    identity = fields.String()


@blp.route("/wallboard", methods=["GET"])
@blp.arguments(WallboardArgsSchema, location="query")
@blp.response(200, WallboardSchema)
@roles_required("supervisor", "admin")
def wallboard(args):
    """Everything the wallboard shows for the campaigns you watch; live events keep it current."""
    from app.web.wallboard import wallboard as read

    return read(current_user._get_current_object(), args.get("campaign_id"))


@blp.route("/console/interactions/<int:interaction_id>/callback-slots", methods=["GET"])
@blp.response(200, CallbackSlotsSchema)
@login_required
def callback_slots(interaction_id):
    """Callback times inside the contact's calling hours (next 7 days, every 30 minutes)."""
    from app.web.callback_slots import callback_slots as slots

    return slots(current_user._get_current_object(), interaction_id)


class HangUpSchema(Schema):
    call_id = fields.Integer()
    hung_up = fields.Boolean()


@blp.route("/console/calls/<int:call_id>/hangup", methods=["POST"])
@blp.response(200, HangUpSchema)
@roles_required("agent")
def hang_up(call_id):
    """End your connected call and go to wrap-up (another agent's call answers 404)."""
    from app.web.console import hang_up as do_hang_up

    return do_hang_up(current_user._get_current_object(), call_id)


@blp.route("/console/voice-token", methods=["GET"])
@blp.response(200, VoiceTokenSchema)
@blp.alt_response(404, description="Browser audio is not configured (the demo uses the simulator)")
@roles_required("agent")
def voice_token():
    """A short-lived Twilio Voice access token for the agent's browser audio."""
    from app.telephony.voice_token import agent_voice_token

    token = agent_voice_token(current_app.config, current_user.id)
    if token is None:
        raise ApiError(404, "Browser audio is not configured", "voice_not_configured")
    return token
