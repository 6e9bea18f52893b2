from marshmallow import Schema, fields, validate

from app.common.schemas import PageArgsSchema, PageMetaSchema
from app.outbound_hooks.events import EVENT_TYPES, TEST_EVENT

EVENT_WORDS = {**EVENT_TYPES, TEST_EVENT: "Test"}
EVENTS_DOC = (
    "Events: " + ", ".join(f"`{k}` ({v})" for k, v in EVENT_TYPES.items()) + ". Every delivery is a POST "
    "of `{id, type, created_at, api_version, data}` (`id` is the same on every retry and redelivery: "
    "deduplicate on it) with the header `Omnivox-Signature: t=<unix seconds>,v1=<hex>`, the hex being "
    "HMAC-SHA256 with the endpoint's secret over `<t>.<raw body>`. See docs/webhooks-out.md for each "
    "event's data.")


def _state(endpoint) -> str:
    if endpoint.active:
        return "failing" if endpoint.failing_since else "active"
    return "switched_off_failing" if endpoint.disabled_at else "switched_off"


STATE_WORDS = {"active": "On", "failing": "On, deliveries failing",
               "switched_off": "Switched off by an admin",
               "switched_off_failing": "Switched off after a day of failures"}


class EndpointSchema(Schema):
    id = fields.Integer(dump_only=True)
    url = fields.String(metadata={"description": "HTTPS address that receives the POSTs"})
    description = fields.String()
    events = fields.List(fields.String(), metadata={"description": EVENTS_DOC})
    event_words = fields.Function(lambda e: [EVENT_WORDS.get(t, t) for t in e.events])
    active = fields.Boolean()
    state = fields.Function(_state, metadata={
        "description": "active | failing | switched_off | switched_off_failing"})
    state_words = fields.Function(lambda e: STATE_WORDS[_state(e)])
    secret_hint = fields.String(dump_only=True, metadata={"description": "The secret's last four characters"})
    failing_since = fields.DateTime(allow_none=True, metadata={
        "description": "Since when every delivery has failed (null: the last one succeeded)"})
    last_success_at = fields.DateTime(allow_none=True)
    last_failure_at = fields.DateTime(allow_none=True)
    disabled_at = fields.DateTime(allow_none=True, metadata={
        "description": "When Omnivox switched it off after a day of failures"})
    disabled_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class EndpointCreatedSchema(EndpointSchema):
    secret = fields.String(metadata={"description": "The signing secret: shown in this answer only"})


class EndpointCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    events = fields.List(fields.String(validate=validate.Length(max=40)), required=True,
                         metadata={"description": EVENTS_DOC})
    description = fields.String(load_default="", validate=validate.Length(max=200))


class EndpointUpdateSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    events = fields.List(fields.String(validate=validate.Length(max=40)))
    description = fields.String(validate=validate.Length(max=200))
    active = fields.Boolean(metadata={"description": "false: nothing is sent; true again: failures "
                                                     "count afresh"})


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema))
    event_types = fields.Dict(keys=fields.String(), values=fields.String(),
                              metadata={"description": "Every event an endpoint may subscribe to, in words"})


STATUS_WORDS = {"pending": "Waiting to be sent", "succeeded": "Delivered", "failed": "Failed"}


class DeliverySchema(Schema):
    id = fields.Integer()
    endpoint_id = fields.Integer()
    event_id = fields.Function(lambda d: d.event.public_id, metadata={"description": "The event's id (evt_…)"})
    event_type = fields.Function(lambda d: d.event.type)
    event_words = fields.Function(lambda d: EVENT_WORDS.get(d.event.type, d.event.type))
    status = fields.String(metadata={"description": "pending | succeeded | failed"})
    status_words = fields.Function(lambda d: STATUS_WORDS.get(d.status, d.status))
    manual = fields.Boolean(metadata={"description": "A test or redelivery an admin asked for (tried once)"})
    redelivery_of_id = fields.Integer(allow_none=True)
    attempts = fields.Integer(metadata={"description": "POSTs made so far"})
    last_status_code = fields.Integer(allow_none=True, metadata={
        "description": "HTTP status of the last answer (null: no answer came)"})
    last_duration_ms = fields.Integer(allow_none=True, metadata={
        "description": "Milliseconds from connecting to the end of the last answer"})
    last_error = fields.String(allow_none=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True, metadata={"description": "When it is tried again"})
    finished_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    meta = fields.Nested(PageMetaSchema)


class DeliveryArgsSchema(PageArgsSchema):
    pass
