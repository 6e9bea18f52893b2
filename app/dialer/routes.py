from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.auth.security import roles_required
from app.campaigns.access import get_campaign
from app.common.redis import get_redis
from app.dialer.dialing import held_at_dial_key
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
