from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates

from app.auth.security import roles_required
from app.dialer import preview
from app.campaigns.access import get_campaign
from app.common import tasks
from app.common.redis import get_redis
from app.dialer.attempts import held_at_dial_key
from app.dialer.hopper import Hopper
from app.dialer.tick import calls_dialing

blp = Blueprint("dial_queue", __name__, url_prefix="/api/campaigns", description="Dial queues")


class QueueStatusSchema(Schema):
    campaign_id = fields.Integer()
    status = fields.String(metadata={"description": "The campaign's run state"})
    dial_mode = fields.String()
    ready = fields.Integer(metadata={"description": "Contacts queued, waiting for the pacer"})
    leased = fields.Integer(metadata={"description": "Contacts claimed by a dial worker right now"})
    dialing = fields.Integer(metadata={"description": "Attempts placed and not yet answered or finished"})
    held_back = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Contacts not queued at the last refill, by reason"})
    held_at_dial = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Contacts claimed but refused at the moment of dialling, by reason (since start)"})


@blp.route("/<int:campaign_id>/queue", methods=["GET"])
@blp.response(200, QueueStatusSchema)
@roles_required("supervisor", "admin")
def queue_status(campaign_id):
    """The campaign's dial queue: its depth and why contacts are held back."""
    campaign = get_campaign(current_user, campaign_id)
    depth = Hopper(get_redis()).depth(campaign.id)
    held_at_dial = {k: int(v) for k, v in get_redis().hgetall(held_at_dial_key(campaign.id)).items()}
    return {"campaign_id": campaign.id, "status": campaign.status, "dial_mode": campaign.dial_mode,
            "dialing": calls_dialing(campaign.id), "held_at_dial": held_at_dial, **depth}


class PreviewContactSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    phone_e164 = fields.String()
    alt_phones = fields.List(fields.String())
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String(allow_none=True)
    custom_fields = fields.Dict()
    timezone = fields.String(allow_none=True)
    attempts = fields.Integer()
    last_outcome = fields.String(allow_none=True)


class PreviewNextSchema(Schema):
    contact = fields.Nested(PreviewContactSchema, allow_none=True,
                            metadata={"description": "null when no contact may be called now"})
    next_due_at = fields.DateTime(allow_none=True, metadata={
        "description": "With no contact: when the list's next contact falls due (now: one is due and "
                       "is being queued); null when the list has none left to call"})


class DialedSchema(Schema):
    call_id = fields.Integer()


@blp.route("/<int:campaign_id>/preview/next", methods=["POST"])
@blp.response(200, PreviewNextSchema)
@roles_required("agent")
def preview_next(campaign_id):
    """Preview mode: hold the next contact for this agent to look at before dialling."""
    return preview.next_preview(current_user, campaign_id)


@blp.route("/<int:campaign_id>/preview/<int:contact_id>/dial", methods=["POST"])
@blp.response(202, DialedSchema)
@blp.alt_response(404, description="Not a contact of this campaign of yours (removed meanwhile)")
@blp.alt_response(409, description="Not ready here, or a calling rule refuses the contact now (the "
                                   "message says why and, for calling hours, when it may be called)")
@roles_required("agent")
def preview_dial(campaign_id, contact_id):
    """Dial the previewed contact (every calling rule is checked again now)."""
    call_id = preview.dial_preview(current_user, campaign_id, contact_id)
    tasks.send(tasks.PLACE_CALL, call_id)
    return {"call_id": call_id}


@blp.route("/<int:campaign_id>/preview/<int:contact_id>/skip", methods=["POST"])
@blp.response(204)
@blp.alt_response(404, description="Not a contact of this campaign of yours (removed meanwhile)")
@roles_required("agent")
def preview_skip(campaign_id, contact_id):
    """Pass on the previewed contact; it comes round again in an hour."""
    preview.skip_preview(current_user, campaign_id, contact_id)


class ManualDialSchema(Schema):
    phone = fields.String(
        required=True, validate=validate.Length(max=32, error="A phone number has at most 32 characters."),
        error_messages={"required": "Enter a phone number.", "null": "Enter a phone number.",
                        "invalid": "Enter a phone number."},
        metadata={"description": "The number, E.164 or national in the campaign's region"})

    @pre_load
    def _trimmed(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("phone"), str):
            data = {**data, "phone": data["phone"].strip()}
        return data

    @validates("phone")
    def _not_blank(self, value, **kwargs):
        if not value:
            raise ValidationError("Enter a phone number.")


@blp.route("/<int:campaign_id>/manual-dial", methods=["POST"])
@blp.arguments(ManualDialSchema)
@blp.response(202, DialedSchema)
@blp.alt_response(409, description="You may not dial by hand now (the message says what to do: e.g. pause "
                                   "first in a progressive or predictive campaign), or a calling rule "
                                   "refuses the number (nothing is stored for a number refused)")
@blp.alt_response(422, description="Not a phone number")
@roles_required("agent")
def manual_dial(data, campaign_id):
    """Dial a number by hand: while paused (any campaign; the dialer neither counts nor routes
    calls to you, and after the call and its wrap-up you go back to your pause unless you choose
    ready), or while ready in a preview campaign. Calling hours, do-not-call and attempts are
    checked as for any call, and again at placement."""
    call_id = preview.manual_dial(current_user, campaign_id, data["phone"])
    tasks.send(tasks.PLACE_CALL, call_id)
    return {"call_id": call_id}
