from marshmallow import Schema, fields, validate

from app.common.schemas import PageArgsSchema, PageMetaSchema, id_filter


class InteractionSchema(Schema):
    id = fields.Integer()
    call_id = fields.Integer(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    agent_id = fields.Integer()
    started_at = fields.DateTime()
    talk_ended_at = fields.DateTime(allow_none=True)
    wrapup_ended_at = fields.DateTime(allow_none=True)
    talk_seconds = fields.Float(allow_none=True)
    wrap_seconds = fields.Float(allow_none=True)
    disposition_code_id = fields.Integer(allow_none=True)
    notes = fields.String()
    dispositioned_at = fields.DateTime(allow_none=True)


class InteractionListArgsSchema(PageArgsSchema):
    campaign_id = id_filter()
    agent_id = id_filter()
    open_only = fields.Boolean(metadata={"description": "Only interactions still waiting for a disposition"})


class InteractionPageSchema(Schema):
    items = fields.List(fields.Nested(InteractionSchema))
    meta = fields.Nested(PageMetaSchema)


class DispositionSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    notes = fields.String(load_default="", validate=validate.Length(max=4000))
    callback_at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "Required for callback codes; must fall inside the contact's calling hours"})
    then = fields.String(load_default="ready", validate=validate.OneOf(["ready", "paused"]),
                         metadata={"description": "The agent's state after the disposition"})
    pause_code = fields.String(load_default=None, allow_none=True)


class PromisedCallbackSchema(Schema):
    callback_id = fields.Integer()
    campaign_id = fields.Integer()
    contact_id = fields.Integer()
    due_at = fields.DateTime()
    status = fields.String(metadata={"description": "scheduled, or queued once due (it is dialled next)"})
    notes = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    phone = fields.String()


class PromisedCallbacksSchema(Schema):
    items = fields.List(fields.Nested(PromisedCallbackSchema))
