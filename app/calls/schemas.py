from marshmallow import Schema, fields, validate

from app.calls.models import CALL_STATUSES
from app.common.schemas import PageArgsSchema, PageMetaSchema, id_filter

OUTCOMES = ("human", "machine", "no-answer", "busy", "failed", "canceled")


class CallRecordFilterSchema(Schema):
    campaign_id = id_filter()
    agent_id = id_filter()
    status = fields.String(validate=validate.OneOf(CALL_STATUSES))
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    from_ = fields.AwareDateTime(data_key="from", default_timezone=None,
                                 metadata={"description": "Created at or after (ISO 8601 with offset)"})
    to = fields.AwareDateTime(metadata={"description": "Created before (ISO 8601 with offset)"})


class CallRecordArgsSchema(PageArgsSchema, CallRecordFilterSchema):
    pass


class CallRecordSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    agent_id = fields.Integer(allow_none=True)
    attempt_no = fields.Integer()
    direction = fields.String()
    kind = fields.String()
    to_number = fields.String()
    from_number = fields.String()
    call_sid = fields.String(allow_none=True)
    status = fields.String()
    outcome = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    abandoned = fields.Boolean()
    queued_at = fields.DateTime()
    initiated_at = fields.DateTime(allow_none=True)
    ringing_at = fields.DateTime(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    connected_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    ring_seconds = fields.Float(allow_none=True)
    wait_seconds = fields.Float(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)
    recording_sid = fields.String(allow_none=True)
    recording_url = fields.String(allow_none=True)
    error_code = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    compliance = fields.Dict(allow_none=True, metadata={
        "description": "What was checked when the call was placed: rule-set version, zones and their "
                       "local times, jurisdictions, lists checked, the seller's calls in 24 hours, consent"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CallEventSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    call_sid = fields.String()
    sequence_number = fields.Integer(allow_none=True)
    status = fields.String(allow_none=True)
    payload = fields.Dict()
    received_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)


class CallTransferSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "cold | warm"})
    status = fields.String(metadata={"description": "consulting | completed | cancelled | failed"})
    from_agent_id = fields.Integer(allow_none=True)
    to_agent_id = fields.Integer(allow_none=True)
    to_campaign_id = fields.Integer(allow_none=True)
    to_number = fields.String(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)


class CallRecordDetailSchema(Schema):
    call = fields.Nested(CallRecordSchema)
    events = fields.List(fields.Nested(CallEventSchema))
    transfers = fields.List(fields.Nested(CallTransferSchema),
                            metadata={"description": "Transfers made on the call, oldest first"})


class CallRecordPageSchema(Schema):
    items = fields.List(fields.Nested(CallRecordSchema))
    meta = fields.Nested(PageMetaSchema)
