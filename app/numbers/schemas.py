from marshmallow import Schema, fields, validate

CAP = "A whole number of calls from 1 to 100000, or empty for no cap."


class WindowHealthSchema(Schema):
    dials = fields.Integer(metadata={"description": "Calls placed from the number that rang through "
                                                    "(answered by a person or a machine, not answered, busy)"})
    answers = fields.Integer(metadata={"description": "Of those, calls a person answered"})
    per_100 = fields.Float(allow_none=True, metadata={"description": "Person answers per 100 dials"})
    pool_dials = fields.Integer(metadata={"description": "Dials from the rest of its pool"})
    pool_answers = fields.Integer()
    pool_per_100 = fields.Float(allow_none=True)
    z = fields.Float(allow_none=True, metadata={"description": "Two-proportion z statistic against the pool"})
    well_below = fields.Boolean()


class CampaignRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class NumberSchema(Schema):
    id = fields.Integer()
    phone_number = fields.String()
    friendly_name = fields.String()
    state = fields.String(allow_none=True, metadata={"description": "The area code's US state"})
    in_account = fields.Boolean(metadata={"description": "False once the carrier no longer lists it"})
    daily_cap = fields.Integer(allow_none=True, metadata={"description": "Calls per UTC day; null: no cap"})
    calls_today = fields.Integer(metadata={"description": "Calls that showed it today (UTC)"})
    rested = fields.Boolean()
    rested_until = fields.DateTime(allow_none=True)
    rest_reason = fields.String(allow_none=True)
    health = fields.Dict(keys=fields.String(), values=fields.Nested(WindowHealthSchema),
                         metadata={"description": "Per window (24h, 7d): the number against the rest of its pool"})
    health_at = fields.DateTime(allow_none=True)
    campaigns = fields.List(fields.Nested(CampaignRefSchema))
    answered_by_omnivox = fields.Boolean(metadata={
        "description": "Calls to the number reach Omnivox's /twilio/inbound (its voice URL at the carrier)"})
    calls_go = fields.String(metadata={"description": "Where calls to the number go, in words"})


class PoolSchema(Schema):
    campaign_id = fields.Integer()
    campaign_name = fields.String()
    caller_id = fields.String(metadata={"description": "The campaign's default caller ID (the fallback)"})
    numbers = fields.List(fields.String())
    carrier_warning = fields.String(allow_none=True, load_default=None, metadata={
        "description": "Set when the carrier could not be asked to send the pool's calls to Omnivox"})


class NumbersPageSchema(Schema):
    items = fields.List(fields.Nested(NumberSchema))
    pools = fields.List(fields.Nested(PoolSchema))
    carrier_warning = fields.String(allow_none=True)


class PoolUpdateSchema(Schema):
    numbers = fields.List(fields.String(validate=validate.Length(min=1, max=20)), required=True,
                          metadata={"description": "The pool's numbers in E.164 (+12025550123); [] empties it"})


class NumberUpdateSchema(Schema):
    daily_cap = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100000, error=CAP),
                               metadata={"description": "Calls per UTC day; null removes the cap"})
    back_in_service = fields.Boolean(metadata={"description": "true: end a rest now"})


class NumberUpdatedSchema(Schema):
    id = fields.Integer()
    phone_number = fields.String(attribute="phone_e164")
    daily_cap = fields.Integer(allow_none=True)
    rested_until = fields.DateTime(allow_none=True)
