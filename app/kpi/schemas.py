"""KPI request and response schemas; every figure's description is its definition."""
from datetime import timezone

from marshmallow import Schema, fields, validate

from app.kpi.definitions import ABANDON_30D_DEFINITION, DEFINITIONS, INT_COLUMNS, LIST_DEFINITIONS

GRANULARITIES = ("minute", "hour", "day")


def _figure(name: str):
    meta = {"description": DEFINITIONS[name]}
    if name in ("dispositions",):
        return fields.Dict(keys=fields.String(), values=fields.Integer(), metadata=meta)
    if name in ("pause_by_code",):
        return fields.Dict(keys=fields.String(), values=fields.Float(), metadata=meta)
    if name in INT_COLUMNS:
        return fields.Integer(metadata=meta)
    return fields.Float(allow_none=True, metadata=meta)


KpiFiguresSchema = Schema.from_dict({name: _figure(name) for name in DEFINITIONS}, name="KpiFigures")


class KpiPointSchema(KpiFiguresSchema):
    bucket_start = fields.DateTime(metadata={"description": "Start of the bucket (UTC instant)."})


class KpiTodaySchema(KpiFiguresSchema):
    day_start = fields.DateTime(metadata={"description": "Local midnight (campaign time zone) today began."})


class KpiWindowSchema(Schema):
    from_ = fields.DateTime(data_key="from", attribute="from")
    to = fields.DateTime()
    granularity = fields.String()


class ListStateSchema(Schema):
    total = fields.Integer(metadata={"description": LIST_DEFINITIONS["total"]})
    attempted = fields.Integer(metadata={"description": LIST_DEFINITIONS["attempted"]})
    penetration = fields.Float(allow_none=True, metadata={"description": LIST_DEFINITIONS["penetration"]})
    remaining = fields.Integer(metadata={"description": LIST_DEFINITIONS["remaining"]})


class Abandonment30dSchema(Schema):
    class Meta:
        description = ABANDON_30D_DEFINITION

    abandoned = fields.Integer()
    human_answered = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": ABANDON_30D_DEFINITION})
    window_start = fields.DateTime()
    window_end = fields.DateTime()


class CampaignKpiSchema(Schema):
    campaign_id = fields.Integer()
    name = fields.String()
    timezone = fields.String(metadata={"description": "IANA zone of the campaign's day buckets and 'today'."})
    window = fields.Nested(KpiWindowSchema)
    summary = fields.Nested(KpiFiguresSchema, metadata={"description": "The whole window's KPIs."})
    series = fields.List(fields.Nested(KpiPointSchema),
                         metadata={"description": "One point per bucket with data (buckets without data are left out)."})
    today = fields.Nested(KpiTodaySchema)
    abandonment_30d = fields.Nested(Abandonment30dSchema)
    list = fields.Nested(ListStateSchema)


class AgentKpiSchema(Schema):
    agent_id = fields.Integer()
    window = fields.Nested(KpiWindowSchema)
    summary = fields.Nested(KpiFiguresSchema)
    series = fields.List(fields.Nested(KpiPointSchema))


class CampaignHeadlineSchema(Schema):
    campaign_id = fields.Integer()
    name = fields.String()
    status = fields.String()
    at = fields.DateTime()
    today = fields.Nested(KpiTodaySchema)
    abandonment_30d = fields.Nested(Abandonment30dSchema)
    list = fields.Nested(ListStateSchema)


class KpiSummarySchema(Schema):
    at = fields.DateTime()
    campaigns = fields.List(fields.Nested(CampaignHeadlineSchema))


class KpiWindowArgsSchema(Schema):
    from_ = fields.AwareDateTime(data_key="from", attribute="from", default_timezone=timezone.utc, metadata={
        "description": "Window start (ISO 8601; UTC if no offset). Default: local midnight today for a "
                       "campaign, 24 hours ago for an agent."})
    to = fields.AwareDateTime(default_timezone=timezone.utc, metadata={"description": "Window end. Default: now."})
    granularity = fields.String(validate=validate.OneOf(GRANULARITIES), metadata={
        "description": "Series bucket size; buckets starting inside [from, to) are summed. Default: minute up to "
                       "3 hours, hour up to 3 days, else day. Minute buckets are kept 48 hours."})


class AgentKpiArgsSchema(KpiWindowArgsSchema):
    campaign_id = fields.Integer(metadata={"description": "Only this campaign's work."})
