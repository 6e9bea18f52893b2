from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import login_required, roles_required
from app.interactions import callbacks, services, voicemails
from app.interactions.schemas import (
    DispositionSchema, InteractionListArgsSchema, InteractionPageSchema, InteractionSchema,
    PromisedCallbacksSchema,
)

blp = Blueprint("interactions", __name__, url_prefix="/api/interactions",
                description="Agents' handling of connected calls, and their dispositions")


@blp.route("", methods=["GET"])
@blp.arguments(InteractionListArgsSchema, location="query")
@blp.response(200, InteractionPageSchema)
@login_required
def list_interactions(args):
    """Interactions the caller may see: an agent's own, a supervisor's campaigns', or all."""
    return services.list_interactions(current_user, **args)


@blp.route("/<int:interaction_id>", methods=["GET"])
@blp.response(200, InteractionSchema)
@login_required
def get_interaction(interaction_id):
    """One interaction; another agent's id answers 404."""
    return services.get_interaction(current_user, interaction_id)


@blp.route("/<int:interaction_id>/disposition", methods=["POST"])
@blp.arguments(DispositionSchema)
@blp.response(200, InteractionSchema)
@login_required
def record_disposition(data, interaction_id):
    """Record the outcome; its flags add to do-not-call, schedule a callback or close the contact."""
    then, pause_code = data.pop("then"), data.pop("pause_code")
    interaction = services.record_disposition(current_user, interaction_id, **data)
    services.after_disposition(current_user, then, pause_code)
    return interaction


callbacks_blp = Blueprint("agent_callbacks", __name__, url_prefix="/api/agents",
                          description="The callbacks agents have promised")


@callbacks_blp.route("/me/callbacks", methods=["GET"])
@callbacks_blp.response(200, PromisedCallbacksSchema)
@roles_required("agent")
def my_callbacks():
    """The signed-in agent's callbacks not yet made, soonest first: those they promised, and
    those a caller's voicemail asked for in a campaign they work (for whichever agent is free)."""
    return {"items": callbacks.promised(current_user.id)}


voicemails_blp = Blueprint("voicemails", __name__, url_prefix="/api/voicemails",
                           description="Messages callers left on our numbers when nobody could take the call")


@voicemails_blp.route("/<int:voicemail_id>/recording", methods=["GET"])
@voicemails_blp.response(200, content_type="audio/wav", description="The whole voicemail (WAV)")
@voicemails_blp.alt_response(206, description="The byte range asked for (Range: bytes=...), with Content-Range")
@voicemails_blp.alt_response(404, description="No such voicemail, or not one you may hear")
@voicemails_blp.alt_response(409, description="The recording is not complete yet")
@voicemails_blp.alt_response(503, description="The carrier cannot be reached just now")
@login_required
def play_voicemail(voicemail_id):
    """A voicemail's audio, streamed by Omnivox from the carrier. Agents: one whose callback is
    theirs, or for whoever is free in a campaign they work; supervisors: their campaigns'; admins:
    all. Audited."""
    return voicemails.play(current_user._get_current_object(), voicemail_id, request.headers.get("Range"),
                           head=request.method == "HEAD")
