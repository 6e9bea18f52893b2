"""Declared blackout days and the rule table, as the API reads and answers them."""
from marshmallow import Schema, fields, validate

from app.common.schemas import PageArgsSchema, PageMetaSchema


class BlackoutSchema(Schema):
    id = fields.Integer()
    jurisdiction = fields.String(metadata={"description": '"US" (every state) or "US-" and a state code'})
    place = fields.String(metadata={"description": "Where, for people: a state, or every state"})
    date_from = fields.Date(metadata={"description": "First day closed, in the callee's local date"})
    date_to = fields.Date(metadata={"description": "Last day closed (inclusive)"})
    reason = fields.String()
    created_by_id = fields.Integer(allow_none=True)
    created_by = fields.String(attribute="created_by_username", allow_none=True)
    created_at = fields.DateTime()


class BlackoutAddSchema(Schema):
    jurisdiction = fields.String(required=True, validate=validate.Length(min=1, max=8),
                                 metadata={"description": '"US" for every state, or "US-FL" and the like'})
    date_from = fields.Date(required=True, metadata={"description": "ISO date (YYYY-MM-DD)"})
    date_to = fields.Date(required=True, metadata={"description": "ISO date, on or after date_from, not past"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class BlackoutListArgsSchema(PageArgsSchema):
    upcoming = fields.Boolean(load_default=False,
                              metadata={"description": "Only blackouts not yet over (today or later)"})


class BlackoutPageSchema(Schema):
    items = fields.List(fields.Nested(BlackoutSchema))
    meta = fields.Nested(PageMetaSchema)


class RuleTableArgsSchema(Schema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100),
                          metadata={"description": "Year to date the holidays in; default this year"})


class SourceSchema(Schema):
    citation = fields.String()
    url = fields.String(allow_none=True)


class HolidaySchema(Schema):
    name = fields.String()
    date = fields.Date()


class RuleSchema(Schema):
    id = fields.String()
    jurisdiction = fields.String()
    place = fields.String(metadata={"description": "The jurisdiction's name for people"})
    kind = fields.String()
    kind_name = fields.String()
    summary = fields.String(metadata={"description": "The rule's parameters in words"})
    effective_from = fields.Date()
    effective_until = fields.Date(allow_none=True)
    in_force = fields.Boolean(metadata={"description": "In force today"})
    source = fields.Nested(SourceSchema)
    note = fields.String()
    holidays = fields.List(fields.Nested(HolidaySchema), metadata={"description": "Holiday rules: the year's dates"})


class PlaceSchema(Schema):
    jurisdiction = fields.String()
    name = fields.String()


class RuleTableSchema(Schema):
    version = fields.String()
    year = fields.Integer()
    problems = fields.List(fields.String(), metadata={"description": "Rule-file entries that failed validation"})
    rules = fields.List(fields.Nested(RuleSchema))
    places = fields.List(fields.Nested(PlaceSchema), metadata={"description": "Where a blackout may be declared"})
