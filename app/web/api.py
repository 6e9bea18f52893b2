"""JSON the browser apps need beyond the feature APIs: the wallboard read, callback slots, voice token."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.auth.security import login_required, roles_required
from app.contacts.schemas import HistoryCallbackSchema, HistoryCallSchema
from app.errors import ApiError

blp = Blueprint("console", __name__, url_prefix="/api", description="Browser apps: wallboard, console helpers")

NOT_YOUR_CALL = "Not one of your calls (another agent's call is not found)"


class WallboardArgsSchema(Schema):
    campaign_id = fields.Integer(metadata={"description": "Only this campaign (default: every one you watch)"})


class WallboardSchema(Schema):
    at = fields.DateTime()
    campaigns = fields.List(fields.Dict(), metadata={
        "description": "Per campaign: status, dial_mode, abandon_cap, calls (live, with stage), stages "
                       "(dialling/ringing/connected/waiting), queue depth, dial_level (calls dialling, ringing or "
                       "waiting per agent ready or reserved), notice (a sentence to show, or null), pacing (why an "
                       "active predictive campaign's last pacing tick held back: how, because, in_words; or "
                       "null), agents with "
                       "time in state, abandonment today and over 30 days (counted the same way), today's KPIs, "
                       "per_minute and hourly series"})


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
@blp.alt_response(404, description=NOT_YOUR_CALL)
@blp.alt_response(409, description="The call is no longer connected to you")
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


class ContactHistorySchema(Schema):  # calls and callbacks as the contact browser shows them
    contact_id = fields.Integer()
    name = fields.String(allow_none=True)
    phone = fields.String()
    calls = fields.List(fields.Nested(HistoryCallSchema), metadata={"description": "Newest first (at most 20)"})
    callbacks = fields.List(fields.Nested(HistoryCallbackSchema))


@blp.route("/console/contacts/<int:contact_id>/history", methods=["GET"])
@blp.response(200, ContactHistorySchema)
@blp.alt_response(404, description="Not a contact of one of your calls, interactions or callbacks")
@roles_required("agent")
def contact_history(contact_id):
    """A contact's earlier calls (who took them, how they ended, dispositions, notes) and
    callbacks, for the callback pop-up: only a contact of a call, interaction or callback of
    yours; another's answers 404."""
    from app.web.console import contact_history_for_agent

    return contact_history_for_agent(current_user._get_current_object(), contact_id)


class RecentCallSchema(Schema):
    call_id = fields.Integer()
    at = fields.DateTime()
    to_number = fields.String()
    person_number = fields.String(metadata={
        "description": "The person's number: the one called, or the caller's on a call to our numbers"})
    direction = fields.String(metadata={"description": "outbound | inbound"})
    direction_words = fields.String(metadata={"description": "Who called whom, in words"})
    contact_name = fields.String(allow_none=True)
    result = fields.String(metadata={"description": "The disposition's label, 'Not dispositioned yet' while the "
                                                    "wrap-up is open, else how the call ended"})
    disposition = fields.String(allow_none=True)
    outcome_words = fields.String()
    duration_seconds = fields.Integer(allow_none=True)


class RecentCallsSchema(Schema):
    items = fields.List(fields.Nested(RecentCallSchema))


@blp.route("/console/recent-calls", methods=["GET"])
@blp.response(200, RecentCallsSchema)
@roles_required("agent")
def recent_calls():
    """Your latest eight calls, newest first, each with its outcome in words."""
    from app.web.console import recent_calls as read

    return {"items": read(current_user._get_current_object())}


# --- call controls and transfers (app.dialer.controls, app.dialer.transfers) -------------------

class HoldArgsSchema(Schema):
    hold = fields.Boolean(required=True, metadata={"description": "true: the person on hold (hearing hold "
                                                                  "audio); false: back with you"})


class MuteArgsSchema(Schema):
    muted = fields.Boolean(required=True, metadata={"description": "true: the person cannot hear you"})


class CallControlsSchema(Schema):
    call_id = fields.Integer()
    hold = fields.Boolean()
    muted = fields.Boolean()


class TransferArgsSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("cold", "warm")), metadata={
        "description": "cold: handed over at once; warm: you consult the other party while the person "
                       "holds, then complete (hand over) or cancel (come back)"})
    to_agent_id = fields.Integer(metadata={"description": "An agent of your campaigns (ready, with audio)"})
    to_campaign_id = fields.Integer(metadata={"description": "Any ready agent of this campaign of yours"})
    to_number = fields.String(metadata={"description": "An outside number, E.164, starting with one of "
                                                      "TRANSFER_ALLOWED_PREFIXES (never premium-rate), not "
                                                      "on a do-not-call list"})


class TransferSchema(Schema):
    id = fields.Integer()
    call_id = fields.Integer()
    kind = fields.String()
    status = fields.String(metadata={"description": "consulting | completed | cancelled | failed"})
    to_agent_id = fields.Integer(allow_none=True, metadata={"description": "For a campaign: the agent it went to"})
    to_campaign_id = fields.Integer(allow_none=True)
    to_number = fields.String(allow_none=True)
    answered = fields.Boolean(metadata={"description": "The consulted party is on the line (an outside "
                                                      "number: once it answers)"})
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)


class TransferTargetAgentSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    state = fields.String()


class TransferTargetCampaignSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    ready_agents = fields.Integer()


class TransferTargetsSchema(Schema):
    agents = fields.List(fields.Nested(TransferTargetAgentSchema))
    campaigns = fields.List(fields.Nested(TransferTargetCampaignSchema))


def _me():
    return current_user._get_current_object()


@blp.route("/console/calls/<int:call_id>/hold", methods=["POST"])
@blp.arguments(HoldArgsSchema)
@blp.response(200, CallControlsSchema)
@blp.alt_response(404, description=NOT_YOUR_CALL)
@blp.alt_response(409, description="The call is no longer connected to you, or the carrier could not be asked")
@roles_required("agent")
def hold_call(args, call_id):
    """Put the person of your connected call on hold (they hear hold audio and cannot hear you),
    or take them off hold. Another agent's call answers 404."""
    from app.dialer.controls import set_hold

    return set_hold(_me(), call_id, args["hold"])


@blp.route("/console/calls/<int:call_id>/mute", methods=["POST"])
@blp.arguments(MuteArgsSchema)
@blp.response(200, CallControlsSchema)
@blp.alt_response(404, description=NOT_YOUR_CALL)
@blp.alt_response(409, description="The call is no longer connected to you, or the carrier could not be asked")
@roles_required("agent")
def mute_call(args, call_id):
    """Mute your own audio on your connected call (the person cannot hear you), or unmute it."""
    from app.dialer.controls import set_mute

    return set_mute(_me(), call_id, args["muted"])


class VoicemailDropSchema(Schema):
    call_id = fields.Integer()
    starts = fields.String(metadata={"description": "now (the greeting was already over) | after_beep (when "
                                                   "the carrier hears the greeting end) | after_quiet (no machine "
                                                   "detection: once the greeting goes quiet)"})
    message = fields.String(metadata={"description": "audio (the uploaded recording) | speech (the text, read out)"})
    suggested_disposition = fields.String(allow_none=True, metadata={
        "description": "The campaign's disposition code for a voicemail left, to pre-fill the wrap-up"})


@blp.route("/console/calls/<int:call_id>/voicemail-drop", methods=["POST"])
@blp.response(200, VoicemailDropSchema)
@blp.alt_response(404, description=NOT_YOUR_CALL)
@blp.alt_response(409, description="No voicemail message for the campaign, a person answered (not a machine), "
                                   "the call is no longer connected to you, or its voicemail is already being left")
@roles_required("agent")
def leave_voicemail(call_id):
    """Leave the campaign's voicemail message on the answering machine of your connected call:
    the call leaves your room, the message plays after the beep, and you go to wrap-up at once."""
    from app.dialer.voicemail_drop import leave_voicemail as drop

    return drop(_me(), call_id)


class RecordingPauseArgsSchema(Schema):
    paused = fields.Boolean(required=True, metadata={"description": "true: pause the recording (card details "
                                                                    "read out); false: resume it"})


class ConsolePauseSchema(Schema):
    paused_at = fields.DateTime()
    paused_by_id = fields.Integer(allow_none=True)
    resumed_at = fields.DateTime(allow_none=True)
    resumed_by_id = fields.Integer(allow_none=True)
    resumed_reason = fields.String(allow_none=True)


class ConsoleRecordingSchema(Schema):
    call_id = fields.Integer()
    recording = fields.Boolean(metadata={"description": "A recording is in progress (or paused)"})
    paused = fields.Boolean()
    pauses = fields.List(fields.Nested(ConsolePauseSchema))


@blp.route("/console/calls/<int:call_id>/recording", methods=["POST"])
@blp.arguments(RecordingPauseArgsSchema)
@blp.response(200, ConsoleRecordingSchema)
@blp.alt_response(404, description=NOT_YOUR_CALL)
@blp.alt_response(409, description="The call is no longer connected to you, is not being recorded, or the carrier could not be asked")
@roles_required("agent")
def pause_recording(args, call_id):
    """Pause or resume the recording of your connected call (the paused part is left out at
    the carrier); each pause is kept with its times. The recording resumes by itself when the call
    ends. 409 when the call is not connected to you or is not being recorded."""
    from app.calls.recordings import set_paused
    from app.dialer.controls import connected_call

    agent = _me()
    return set_paused(agent, connected_call(agent, call_id), args["paused"])


@blp.route("/console/calls/<int:call_id>/recording", methods=["GET"])
@blp.response(200, ConsoleRecordingSchema)
@blp.alt_response(404, description=NOT_YOUR_CALL)
@roles_required("agent")
def recording_status(call_id):
    """Whether your call is being recorded and whether the recording is paused."""
    from app.calls.recordings import recording_state
    from app.dialer.controls import own_call

    return recording_state(own_call(_me(), call_id).id)


@blp.route("/console/calls/<int:call_id>/transfers", methods=["POST"])
@blp.arguments(TransferArgsSchema)
@blp.response(201, TransferSchema)
@blp.alt_response(404, description="Not one of your calls, or the agent or campaign named is not one of yours")
@blp.alt_response(409, description="The call is not connected to you, the target cannot take it, or the carrier could not be asked")
@roles_required("agent")
def transfer_call(args, call_id):
    """Transfer your connected call to exactly one of: an agent, a campaign (any ready agent of it),
    an outside number. Cold hands it over at once (status completed) and you go to wrap-up; warm
    puts the person on hold and brings the other party into your room (status consulting)."""
    from app.dialer.transfers import payload, start

    return payload(start(_me(), call_id, args["kind"], to_agent_id=args.get("to_agent_id"),
                         to_campaign_id=args.get("to_campaign_id"), to_number=args.get("to_number")))


@blp.route("/console/calls/<int:call_id>/transfers/<int:transfer_id>/complete", methods=["POST"])
@blp.response(200, TransferSchema)
@blp.alt_response(404, description="No such transfer on one of your calls")
@blp.alt_response(409, description="The transfer can no longer be handed over")
@roles_required("agent")
def complete_transfer(call_id, transfer_id):
    """Hand a warm transfer over: the person talks to the party you consulted; you go to wrap-up."""
    from app.dialer.transfers import complete, payload

    return payload(complete(_me(), call_id, transfer_id))


@blp.route("/console/calls/<int:call_id>/transfers/<int:transfer_id>/cancel", methods=["POST"])
@blp.response(200, TransferSchema)
@blp.alt_response(404, description="No such transfer on a call you may act on")
@blp.alt_response(409, description="The consultation can no longer be ended")
@roles_required("agent", "supervisor", "admin")
def cancel_transfer(call_id, transfer_id):
    """End a warm transfer's consultation: the consulted party leaves and the person is off
    hold. The agent who transferred comes back to the person; the consulted agent leaves it;
    a supervisor or admin of the call's campaign ends it."""
    from app.dialer.transfers import cancel, payload

    return payload(cancel(_me(), call_id, transfer_id))


@blp.route("/console/transfer-targets", methods=["GET"])
@blp.response(200, TransferTargetsSchema)
@roles_required("agent")
def transfer_targets():
    """Whom you may transfer to: the agents and campaigns of your own campaigns, with their state
    and how many agents are ready."""
    from app.dialer.transfers import targets

    return targets(_me())
