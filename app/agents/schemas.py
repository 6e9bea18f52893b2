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


class PendingSchema(Schema):
    target = fields.String(metadata={"description": "paused | offline: what applies once the calls settle"})
    pause_code = fields.String(allow_none=True)
    calls_ringing = fields.Integer(allow_none=True, metadata={
        "description": "Calls placed for the campaign's agents still ringing when last checked"})
    by = fields.String(metadata={"description": "agent | supervisor: who asked"})
    since = fields.DateTime(allow_none=True)


class AgentStatusSchema(Schema):
    agent_id = fields.Integer()
    state = fields.String(metadata={"description": "offline, ready, reserved, on-call, wrap-up, paused "
                                                   "(floor view: 'elsewhere' = working another campaign)"})
    since = fields.DateTime(allow_none=True)
    seconds_in_state = fields.Float(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    pause_code = fields.String(allow_none=True)
    call_id = fields.Integer(allow_none=True)
    audio = fields.String(allow_none=True, metadata={
        "description": "How the agent's audio is connected: browser, phone, or null (not connected: "
                       "the agent cannot go ready)"})
    pending = fields.Nested(PendingSchema, allow_none=True, metadata={
        "description": "A pause or sign-off asked while calls placed for the agent still ring "
                       "(progressive, predictive): it applies once they settle, or after the wrap-up "
                       "of a call that reaches the agent meanwhile; the agent is still ready until "
                       "then. Asking for ready again cancels it. Null when none is waiting."})
    dialled_from_pause = fields.String(allow_none=True, metadata={
        "description": "On a call the agent dialled by hand while paused: the pause code they go back to "
                       "after it (\"\" for a pause without one); null otherwise"})


class AudioSchema(Schema):
    connected = fields.Boolean()
    via = fields.String(allow_none=True, metadata={"description": "browser | phone"})
    since = fields.DateTime(allow_none=True)
    browser_available = fields.Boolean(metadata={
        "description": "Browser audio is set up on this platform (Voice credentials)"})
    phone = fields.String(allow_none=True, metadata={"description": "The phone Omnivox calls for this agent"})
    calling = fields.String(allow_none=True, metadata={"description": "The phone being called now"})


class AudioConnectSchema(Schema):
    via = fields.String(required=True, validate=validate.OneOf(("phone",)), metadata={
        "description": "phone: Omnivox calls the agent's phone, the agent presses 1. (Browser audio "
                       "connects from the console itself, through the TwiML App.)"})
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32), metadata={
        "description": "The number to call; remembered for next time. Defaults to the remembered one."})


class FloorAgentSchema(AgentStatusSchema):
    username = fields.String(allow_none=True)


class FloorArgsSchema(Schema):
    campaign_id = fields.Integer(required=True)


class FloorSchema(Schema):
    campaign_id = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    items = fields.List(fields.Nested(FloorAgentSchema))
