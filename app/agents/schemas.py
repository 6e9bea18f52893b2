from marshmallow import Schema, fields, validate

from app.agents.services import AGENT_TARGETS


class StateChangeSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(AGENT_TARGETS), metadata={
        "description": "ready | paused | offline | ready-after-wrap (ready, only from wrap-up)"})
    campaign_id = fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "Campaign to work; required when signing on from offline"})
    pause_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                               metadata={"description": "Required with state=paused"})


class ForcePauseSchema(Schema):
    pause_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class AgentStatusSchema(Schema):
    agent_id = fields.Integer()
    state = fields.String(metadata={"description": "offline, ready, reserved, on-call, wrap-up, paused "
                                                   "(floor view: 'elsewhere' = working another campaign)"})
    since = fields.DateTime(allow_none=True)
    seconds_in_state = fields.Float(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    pause_code = fields.String(allow_none=True)
    call_id = fields.Integer(allow_none=True)


class FloorAgentSchema(AgentStatusSchema):
    username = fields.String(allow_none=True)


class FloorArgsSchema(Schema):
    campaign_id = fields.Integer(required=True)


class FloorSchema(Schema):
    campaign_id = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    items = fields.List(fields.Nested(FloorAgentSchema))
