"""Agent state API: the agent's own state, supervisors' force-pause / logout, the floor view.

(The admin CRUD of agents lives at GET /api/agents and /api/agents/<id>, elsewhere.)
"""
from flask_login import current_user
from flask_smorest import Blueprint

from app.agents import audio, services
from app.agents.schemas import (
    AgentStatusSchema, AudioConnectSchema, AudioSchema, FloorArgsSchema, FloorSchema, ForcePauseSchema,
    StateChangeSchema,
)
from app.auth.security import roles_required

blp = Blueprint("agent_state", __name__, url_prefix="/api/agents", description="Agent states (live)")


@blp.route("/me", methods=["GET"])
@blp.response(200, AgentStatusSchema)
@roles_required("agent")
def my_status():
    """The signed-in agent's state, since when, and seconds in it."""
    return services.agent_status(current_user.id)


@blp.route("/me/state", methods=["POST"])
@blp.arguments(StateChangeSchema)
@blp.response(200, AgentStatusSchema)
@blp.alt_response(409, description="Transition not allowed from the current state")
@roles_required("agent")
def change_my_state(data):
    """Go ready (with a campaign when signing on), pause (with a pause code), or offline.

    In a progressive or predictive campaign, a pause or sign-off while calls placed for the
    agent still ring may be pending (200, `pending` set, state still ready): it applies once
    they settle (live event `agent.pending`). Asking for ready again cancels it."""
    return services.set_own_state(current_user._get_current_object(), data["state"],
                                  campaign_id=data["campaign_id"], pause_code=data["pause_code"])


@blp.route("/me/audio", methods=["GET"])
@blp.response(200, AudioSchema)
@roles_required("agent")
def my_audio():
    """Whether the agent's audio leg is connected, and how it can be."""
    return audio.audio_status(current_user.id)


@blp.route("/me/audio", methods=["POST"])
@blp.arguments(AudioConnectSchema)
@blp.response(202, AudioSchema)
@blp.alt_response(409, description="Already connected, or the carrier could not be asked")
@roles_required("agent")
def connect_my_audio(data):
    """Have Omnivox call the agent's phone; once they press 1 their audio is connected (live
    event `agent.audio`) and they may go ready."""
    return audio.call_agent_phone(current_user.id, data["phone"])


@blp.route("/me/audio", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(409, description="On a call or being connected to one")
@roles_required("agent")
def disconnect_my_audio():
    """Hang up the agent's audio leg (only while not ready and not on a call)."""
    services.require_not_routable(current_user.id)
    audio.disconnect(current_user.id)


@blp.route("/me/heartbeat", methods=["POST"])
@blp.response(204)
@roles_required("agent")
def my_heartbeat():
    """The console is alive (the Socket.IO `heartbeat` event does the same)."""
    services.heartbeat(current_user.id)


@blp.route("/<int:agent_id>/force-pause", methods=["POST"])
@blp.arguments(ForcePauseSchema)
@blp.response(200, AgentStatusSchema)
@roles_required("supervisor", "admin")
def force_pause(data, agent_id):
    """Pause an agent of a campaign you supervise (refused while reserved or on a call); like
    the agent's own, it may be pending while calls placed for them still ring."""
    return services.force_pause(current_user._get_current_object(), agent_id, data["pause_code"])


@blp.route("/<int:agent_id>/logout", methods=["POST"])
@blp.response(200, AgentStatusSchema)
@roles_required("supervisor", "admin")
def force_logout(agent_id):
    """Log out an agent of a campaign you supervise (refused while reserved or on a call); like
    the agent's own sign-off, it may be pending while calls placed for them still ring."""
    return services.force_logout(current_user._get_current_object(), agent_id)


@blp.route("/states", methods=["GET"])
@blp.arguments(FloorArgsSchema, location="query")
@blp.response(200, FloorSchema)
@roles_required("supervisor", "admin")
def campaign_states(args):
    """Agents of a campaign you supervise, by state, with time in state."""
    return services.campaign_floor(current_user._get_current_object(), args["campaign_id"])
