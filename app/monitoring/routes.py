"""The monitoring API (`/api/monitoring`) and a supervisor's own audio leg
(`/api/supervisors/me/...`), for supervisors (their campaigns) and admins (any)."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.agents import audio
from app.agents.schemas import AudioConnectSchema, AudioSchema
from app.auth.security import roles_required
from app.errors import ApiError
from app.monitoring import sessions
from app.web.api import VoiceTokenSchema

blp = Blueprint("monitoring", __name__, url_prefix="/api/monitoring",
                description="Supervisors listen, whisper and barge on agents' calls")
supervisors_blp = Blueprint("supervisor_audio", __name__, url_prefix="/api/supervisors",
                            description="A supervisor's own audio leg")

MODE_HELP = ("listen: you hear the agent and the person, nobody hears you; whisper: only the agent "
             "hears you (coaching); barge: both hear you")


class StartSchema(Schema):
    agent_id = fields.Integer(required=True)
    mode = fields.String(load_default="listen", validate=validate.OneOf(sessions.MODES),
                         metadata={"description": MODE_HELP})


class ModeSchema(Schema):
    mode = fields.String(required=True, validate=validate.OneOf(sessions.MODES),
                         metadata={"description": MODE_HELP})


class SessionSchema(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    supervisor_id = fields.Integer()
    supervisor = fields.String(allow_none=True)
    agent_id = fields.Integer()
    agent = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    mode = fields.String()
    call_id = fields.Integer(allow_none=True, metadata={"description": "The agent's call now (none between calls)"})
    first_call_id = fields.Integer(allow_none=True, metadata={"description": "The call the session began on"})
    agent_state = fields.String()
    leg_sid = fields.String(metadata={"description": "The supervisor's leg: the same in every mode"})
    started_at = fields.String()
    active = fields.Boolean()
    reason = fields.String(allow_none=True)


class SessionListSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema))


class SupervisorAudioSchema(AudioSchema):
    monitoring = fields.Nested(SessionSchema, allow_none=True,
                               metadata={"description": "Your monitoring session, if any"})


def _me():
    return current_user._get_current_object()


@blp.route("", methods=["GET"])
@blp.response(200, SessionListSchema)
@roles_required("supervisor", "admin")
def list_sessions():
    """Live monitoring sessions on the campaigns you supervise (admins: all)."""
    return {"items": sessions.live_sessions(_me())}


@blp.route("", methods=["POST"])
@blp.arguments(StartSchema)
@blp.response(201, SessionSchema)
@blp.alt_response(404, description="Not an agent of a campaign you supervise")
@blp.alt_response(409, description="The agent is not on a call, your audio is not connected, or you "
                                   "are already monitoring")
@roles_required("supervisor", "admin")
def start_session(data):
    """Join an agent's call through your own audio leg: listen, whisper or barge."""
    return sessions.start(_me(), data["agent_id"], data["mode"])


@blp.route("/<int:session_id>", methods=["GET"])
@blp.response(200, SessionSchema)
@blp.alt_response(404, description="No such session on the campaigns you supervise")
@roles_required("supervisor", "admin")
def get_session(session_id):
    """One live session."""
    return sessions.one(_me(), session_id)


@blp.route("/<int:session_id>", methods=["PATCH", "POST"])
@blp.arguments(ModeSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(404, description="No such session on the campaigns you supervise")
@blp.alt_response(409, description="The mode could not be changed, or the session has ended")
@roles_required("supervisor", "admin")
def change_mode(data, session_id):
    """Switch between listen, whisper and barge without reconnecting (your leg stays the same)."""
    return sessions.set_mode(_me(), session_id, data["mode"])


@blp.route("/<int:session_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, description="No such session on the campaigns you supervise")
@roles_required("supervisor", "admin")
def leave_session(session_id):
    """Leave: your leg goes back to your own room; the agent and the person go on talking."""
    sessions.leave(_me(), session_id)


@supervisors_blp.route("/me/audio", methods=["GET"])
@supervisors_blp.response(200, SupervisorAudioSchema)
@roles_required("supervisor", "admin")
def my_audio():
    """Whether your audio leg is connected, how it can be, and your monitoring session."""
    mine = sessions.of_supervisor(current_user.id)
    return {**audio.audio_status(current_user.id), "monitoring": sessions.payload(mine) if mine else None}


@supervisors_blp.route("/me/audio", methods=["POST"])
@supervisors_blp.arguments(AudioConnectSchema)
@supervisors_blp.response(202, SupervisorAudioSchema)
@supervisors_blp.alt_response(409, description="Already connected, or the carrier could not be asked")
@roles_required("supervisor", "admin")
def connect_my_audio(data):
    """Have Omnivox call your phone; once you press 1 your audio is connected (live event
    `agent.audio` to your own room) and you can listen in."""
    return {**audio.call_agent_phone(current_user.id, data["phone"]), "monitoring": None}


@supervisors_blp.route("/me/audio", methods=["DELETE"])
@supervisors_blp.response(204)
@roles_required("supervisor", "admin")
def disconnect_my_audio():
    """Hang up your audio leg (leaving any call you are monitoring first)."""
    mine = sessions.of_supervisor(current_user.id)
    if mine is not None:
        sessions.leave(_me(), mine["id"])
    audio.disconnect(current_user.id)


@supervisors_blp.route("/me/voice-token", methods=["GET"])
@supervisors_blp.response(200, VoiceTokenSchema)
@supervisors_blp.alt_response(404, description="Browser audio is not configured")
@roles_required("supervisor", "admin")
def voice_token():
    """A short-lived Twilio Voice access token for your browser audio (identity `agent-<id>`,
    joined to your own room by `/twilio/agent/voice` as an agent's is)."""
    from app.telephony.voice_token import agent_voice_token

    token = agent_voice_token(current_app.config, current_user.id)
    if token is None:
        raise ApiError(404, "Browser audio is not configured: have Omnivox call your phone instead.",
                       "voice_not_configured")
    return token
