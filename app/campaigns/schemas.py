from marshmallow import Schema, ValidationError, fields, validate

from app.campaigns.models import CAMPAIGN_STATUSES, DIAL_MODES
from app.common.schemas import PageArgsSchema, PageMetaSchema

CODE = validate.Regexp(r"^[A-Za-z0-9_\-]{1,32}$", error="Use 1-32 letters, digits, '_' or '-'.")


REQUIRED = {"required": "Required.", "null": "Required."}
NAME_LENGTH = "Required, at most {max} characters."
PHONE_LENGTH = "At most {max} characters, in the form +12025550123."


def _iana_zone(value: str) -> None:
    from app.common.phones import valid_timezone

    try:
        valid_timezone(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _region(value: str) -> None:
    import phonenumbers

    if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError("Unknown region: use a two-letter country code such as US.")


class DispositionCodeSchema(Schema):
    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=CODE)
    label = fields.String(required=True, validate=validate.Length(min=1, max=100))
    is_contact = fields.Boolean(load_default=True)
    is_sale = fields.Boolean(load_default=False)
    is_dnc = fields.Boolean(load_default=False)
    is_callback = fields.Boolean(load_default=False)
    is_final = fields.Boolean(load_default=False)
    sort_order = fields.Integer(load_default=0)
    active = fields.Boolean(load_default=True)


class DispositionCodeUpdateSchema(Schema):
    label = fields.String(validate=validate.Length(min=1, max=100))
    is_contact = fields.Boolean()
    is_sale = fields.Boolean()
    is_dnc = fields.Boolean()
    is_callback = fields.Boolean()
    is_final = fields.Boolean()
    sort_order = fields.Integer()
    active = fields.Boolean()


class CampaignSettingsSchema(Schema):
    """Every setting; required ones are required on create only (PATCH loads it partial)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=120, error=NAME_LENGTH),
                         error_messages=REQUIRED)
    description = fields.String(validate=validate.Length(max=5000))
    dial_mode = fields.String(validate=validate.OneOf(DIAL_MODES))
    caller_id = fields.String(required=True, validate=validate.Length(max=20, error=PHONE_LENGTH),
                              error_messages=REQUIRED,
                              metadata={"description": "E.164, transmitted on every call"})
    timezone = fields.String(validate=_iana_zone, metadata={"description": "Reporting time zone"})
    default_region = fields.String(validate=_region,
                                   metadata={"description": "Region for national numbers in imports"})
    ring_timeout_seconds = fields.Integer(validate=validate.Range(max=120),
                                          metadata={"description": "At least 15 (law)"})
    window_start = fields.Time(metadata={"description": "Callee-local, not before 08:00 (law)"})
    window_end = fields.Time(metadata={"description": "Callee-local, not after 21:00 (law)"})
    max_abandon_rate = fields.Decimal(as_string=False, places=4, error_messages={
        "invalid": "Enter the limit as a number."},
        metadata={"description": "Fraction, at most 0.03 (law); the page shows it as a percentage"})
    max_attempts = fields.Integer(validate=validate.Range(min=1, max=50))
    retry_busy_seconds = fields.Integer(validate=validate.Range(min=0, max=30 * 86400))
    retry_no_answer_seconds = fields.Integer(validate=validate.Range(min=0, max=30 * 86400))
    retry_machine_seconds = fields.Integer(validate=validate.Range(min=0, max=30 * 86400))
    retry_failed_seconds = fields.Integer(validate=validate.Range(min=0, max=30 * 86400))
    amd_enabled = fields.Boolean()
    machine_action = fields.String(validate=validate.OneOf(("hangup", "message")))
    machine_message = fields.String(validate=validate.Length(max=2000))
    recording_enabled = fields.Boolean(metadata={
        "description": "Record the conversation from the moment an agent is connected (two channels)"})
    recording_retention_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=3650), metadata={
        "description": "Days recordings are kept before they are deleted at the carrier (null: kept); "
                       "a call on legal hold keeps its recording"})
    scrub_national_registry = fields.Boolean(metadata={
        "description": "Hold calls to numbers on the national Do Not Call Registry, and to US area "
                       "codes whose copy is missing or over 31 days old (default true)"})
    seller_name = fields.String(required=True, validate=validate.Length(min=1, max=120, error=NAME_LENGTH),
                                error_messages=REQUIRED)
    seller_phone = fields.String(required=True, validate=validate.Length(max=20, error=PHONE_LENGTH),
                                 error_messages=REQUIRED)
    safe_harbour_message = fields.String(required=True, validate=validate.Length(
        min=1, max=2000, error="Write the message (at most {max} characters)."), error_messages=REQUIRED)
    script = fields.String(validate=validate.Length(max=50000))
    required_consent = fields.String(validate=validate.OneOf(("none", "prior_express", "prior_express_written")),
                                     metadata={"description": "Consent a contact must have on record to be called"})
    inbound_max_wait_seconds = fields.Integer(validate=validate.Range(
        min=10, max=3600, error="Between {min} and {max} seconds."), metadata={
        "description": "Seconds a caller to our numbers waits for an agent before they may leave a "
                       "voicemail (default 120)"})
    inbound_hold_message = fields.String(validate=validate.Length(
        min=1, max=1000, error="Write the message (at most {max} characters)."), metadata={
        "description": "What a caller waiting for an agent hears; their place in the queue follows"})
    inbound_keep_agents = fields.Integer(validate=validate.Range(
        min=0, max=500, error="Between {min} and {max} agents."), metadata={
        "description": "Ready agents kept back from outbound dialling for calls to our numbers, "
                       "besides one for each caller waiting (default 0)"})


class CampaignCreateSchema(CampaignSettingsSchema):
    disposition_codes = fields.List(fields.Nested(DispositionCodeSchema), metadata={
        "description": "Outcomes agents record; a standard set is created when omitted"})
    agent_ids = fields.List(fields.Integer())
    supervisor_ids = fields.List(fields.Integer())


class CampaignSchema(CampaignSettingsSchema):
    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    max_abandon_rate = fields.Float()
    agent_ids = fields.List(fields.Integer(), dump_only=True)
    supervisor_ids = fields.List(fields.Integer(), dump_only=True)
    started_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PauseCodeSchema(Schema):
    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(allow_none=True, load_default=None,
                                 metadata={"description": "null: available in every campaign"})
    code = fields.String(required=True, validate=CODE)
    label = fields.String(required=True, validate=validate.Length(min=1, max=100))
    paid = fields.Boolean(load_default=False)
    max_minutes = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=480))
    active = fields.Boolean(load_default=True)
    campaign_name = fields.String(dump_only=True, allow_none=True)
    scope = fields.String(dump_only=True, metadata={
        "description": "Where agents may use it: \"Every campaign\" or the campaign's name"})


class PauseCodeUpdateSchema(Schema):
    label = fields.String(validate=validate.Length(min=1, max=100))
    paid = fields.Boolean()
    max_minutes = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=480))
    active = fields.Boolean()


class CampaignDetailSchema(CampaignSchema):
    disposition_codes = fields.List(fields.Nested(DispositionCodeSchema), attribute="disposition_codes_shown")
    pause_codes = fields.List(fields.Nested(PauseCodeSchema), attribute="pause_codes_shown")


class CampaignListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(CAMPAIGN_STATUSES))
    dial_mode = fields.String(validate=validate.OneOf(DIAL_MODES))
    q = fields.String(validate=validate.Length(max=120), metadata={"description": "Name contains"})


class CampaignPageSchema(Schema):
    items = fields.List(fields.Nested(CampaignSchema))
    meta = fields.Nested(PageMetaSchema)


class AssignmentUserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    role = fields.String()
    active = fields.Boolean()


class AssignmentsSchema(Schema):
    agents = fields.List(fields.Nested(AssignmentUserSchema))
    supervisors = fields.List(fields.Nested(AssignmentUserSchema))


class AssignmentsUpdateSchema(Schema):
    agent_ids = fields.List(fields.Integer(), metadata={"description": "Replaces the campaign's agents"})
    supervisor_ids = fields.List(fields.Integer(),
                                 metadata={"description": "Replaces the campaign's supervisors"})


class DispositionCodeListSchema(Schema):
    items = fields.List(fields.Nested(DispositionCodeSchema))


class PauseCodeListArgsSchema(PageArgsSchema):
    campaign_id = fields.Integer(metadata={"description": "Codes usable in this campaign (its own + global)"})
    active = fields.Boolean()


class PauseCodePageSchema(Schema):
    items = fields.List(fields.Nested(PauseCodeSchema))
    meta = fields.Nested(PageMetaSchema)


class PacingOverrideSchema(Schema):
    """A person's bounds on the predictive pacer; every value empty clears it (automatic)."""

    max_dial_level = fields.Float(allow_none=True, load_default=None, metadata={
        "description": "Ceiling on calls dialling per ready agent (1-10); predictive campaigns only"})
    fixed_dial_level = fields.Float(allow_none=True, load_default=None, metadata={
        "description": "Calls dialling per ready agent to keep to (1-10), while the 30-day "
                       "abandonment budget has room; predictive campaigns only"})
    abandon_target = fields.Float(allow_none=True, load_default=None, metadata={
        "description": "Fraction the pacer steers to, above 0 and at most the campaign's limit "
                       "(never above 0.03, the law)"})


class PacingOverrideShownSchema(Schema):
    max_dial_level = fields.Float(allow_none=True)
    fixed_dial_level = fields.Float(allow_none=True)
    abandon_target = fields.Float(allow_none=True)
    set_by = fields.String(allow_none=True, metadata={"description": "Who set it, by name"})
    set_at = fields.DateTime()


class PacingLiveSchema(Schema):
    at = fields.Float(metadata={"description": "Epoch seconds of the last pacing tick"})
    seconds_ago = fields.Float()
    ready_agents = fields.Integer()
    calls_dialing = fields.Integer(metadata={"description": "Placed, not yet answered or ended, after the tick"})
    pacer_wanted = fields.Integer(metadata={"description": "Calls the automatic pacer asked for"})
    placed = fields.Integer(metadata={"description": "Calls the tick placed"})
    how = fields.String(metadata={"description": "automatic | ceiling | fixed | budget (a fixed level "
                                                 "cut to the abandonments the 30-day budget can spare) | "
                                                 "governor (held to progressive: the budget is spent)"})
    how_in_words = fields.String()
    held_because = fields.String(allow_none=True, metadata={
        "description": "Why automatic pacing held (young | spent | ringing | bunch) or slowed "
                       "(small | slowing | ringing-slowing | bunch-slowing) at the last tick; null "
                       "when it did not"})
    held_in_words = fields.String(allow_none=True)
    dial_level = fields.Float(allow_none=True)
    placed_last_minute = fields.Integer()
    ready_agents_last_minute = fields.Float()
    dial_level_last_minute = fields.Float(allow_none=True)
    abandon_target = fields.Float()
    abandon_rate_30d = fields.Float(allow_none=True)


class PacingSchema(Schema):
    campaign_id = fields.Integer()
    campaign_name = fields.String()
    dial_mode = fields.String()
    status = fields.String()
    max_abandon_rate = fields.Float(metadata={"description": "The campaign's own limit (fraction)"})
    abandon_target_in_use = fields.Float(metadata={"description": "What the pacer steers to now (fraction)"})
    override = fields.Nested(PacingOverrideShownSchema, allow_none=True)
    live = fields.Nested(PacingLiveSchema, allow_none=True, metadata={
        "description": "The last pacing tick's decision (null: no tick in the last hour)"})
    definitions = fields.Dict(keys=fields.String(), values=fields.String())
