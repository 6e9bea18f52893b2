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
    abandoned = fields.Boolean(metadata={"description": "Only abandoned calls (true) or only the others (false)"})
    disposition = fields.String(validate=validate.Length(max=100), metadata={
        "description": "The disposition's label, as the agent chose it (any campaign's code of that label)"})
    phone = fields.String(validate=validate.Length(max=40), metadata={
        "description": "Digits the called number contains (spaces, dashes and brackets are ignored)"})


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
    recording_url = fields.Method("_recording_url", allow_none=True, metadata={
        "description": "Where Omnivox streams the call's recording (never the carrier's address)"})
    legal_hold = fields.Method("_legal_hold", metadata={"description": "Kept past the retention period"})
    error_code = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    compliance = fields.Dict(allow_none=True, metadata={
        "description": "What was checked when the call was placed: rule-set version, zones and their "
                       "local times, jurisdictions, lists checked, the seller's calls in 24 hours, consent"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _recording_url(self, call):
        from app.calls.recordings import recording_path

        return recording_path(call.id) if call.recording_sid else None

    def _legal_hold(self, call):
        return call.legal_hold_at is not None


class RecordingPauseSchema(Schema):
    paused_at = fields.DateTime()
    paused_by_id = fields.Integer(allow_none=True)
    resumed_at = fields.DateTime(allow_none=True)
    resumed_by_id = fields.Integer(allow_none=True)
    resumed_reason = fields.String(allow_none=True, metadata={"description": "agent | call-ended"})


class RecordingSummarySchema(Schema):
    status = fields.String(metadata={"description": "in-progress | paused | completed | absent | deleted ..."})
    channels = fields.Integer(allow_none=True, metadata={"description": "2: agent and customer apart"})
    duration_seconds = fields.Integer(allow_none=True)
    started_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    deleted_at = fields.DateTime(allow_none=True)
    deleted_reason = fields.String(allow_none=True)
    playable = fields.Boolean()
    url = fields.String(metadata={"description": "GET it for the audio (range requests)"})
    pauses = fields.List(fields.Nested(RecordingPauseSchema))


class LegalHoldSchema(Schema):
    call_id = fields.Integer()
    on_hold = fields.Boolean()
    at = fields.DateTime(allow_none=True)
    by_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)


class LegalHoldArgsSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "Why the call is held (a case or matter reference)"})


class LegalHoldReleaseArgsSchema(Schema):
    reason = fields.String(validate=validate.Length(max=2000))


class CallEventSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    words = fields.String(metadata={"description": "What the carrier said, in words (e.g. 'Ringing')"})
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
    from_agent_name = fields.String(allow_none=True)
    to_agent_name = fields.String(allow_none=True)
    to_campaign_name = fields.String(allow_none=True)


class NamedCallRecordSchema(CallRecordSchema):
    """The call record with what a person reads: names and words beside the ids and codes."""
    campaign_name = fields.String(allow_none=True)
    agent_name = fields.String(allow_none=True, metadata={"description": "The agent's full name"})
    contact_name = fields.String(allow_none=True)
    outcome_words = fields.String(metadata={"description": "How the call ended, in words; abandoned calls say so"})
    direction_words = fields.String(metadata={"description": "Who called whom: we called them, or they called us"})
    person_number = fields.String(metadata={
        "description": "The person's number: the one called, or the caller's on a call to our numbers"})
    disposition = fields.String(allow_none=True, metadata={"description": "The disposition's label"})
    notes = fields.String(metadata={"description": "The agent's notes"})
    talk_seconds = fields.Integer(allow_none=True, metadata={"description": "The agent's talk time"})


class CallRecordDetailSchema(Schema):
    call = fields.Nested(NamedCallRecordSchema)
    events = fields.List(fields.Nested(CallEventSchema))
    transfers = fields.List(fields.Nested(CallTransferSchema),
                            metadata={"description": "Transfers made on the call, oldest first"})
    recording = fields.Nested(RecordingSummarySchema, allow_none=True)
    legal_hold = fields.Nested(LegalHoldSchema)


class CallRecordPageSchema(Schema):
    items = fields.List(fields.Nested(NamedCallRecordSchema), metadata={
        "description": "Each call with its campaign, agent and contact names, outcome in words, "
                       "disposition and notes"})
    meta = fields.Nested(PageMetaSchema)


class FilterCampaignSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class FilterOutcomeSchema(Schema):
    value = fields.String(metadata={"description": "What to pass as `outcome`"})
    words = fields.String()


class CallRecordFiltersSchema(Schema):
    campaigns = fields.List(fields.Nested(FilterCampaignSchema))
    agents = fields.List(fields.Nested(FilterCampaignSchema))
    dispositions = fields.List(fields.String(), metadata={"description": "Disposition labels"})
    outcomes = fields.List(fields.Nested(FilterOutcomeSchema))
