"""Report request and response schemas; each figure's description is its definition."""
from marshmallow import Schema, fields, validate

from app.common.schemas import id_filter
from app.kpi.reports import DEFINITIONS, MAX_DAYS, RANGES


def _d(name: str) -> dict:
    return {"description": f"{DEFINITIONS[name][0]}: {DEFINITIONS[name][1]}"}


class ReportArgsSchema(Schema):
    campaign_id = id_filter(required=True, metadata={"description": "The campaign reported on"})
    range = fields.String(load_default="today", validate=validate.OneOf(RANGES), metadata={
        "description": "Local days of the campaign's zone: today, yesterday, last_7_days (today and the 6 days "
                       "before) or custom (give from and to)"})
    from_ = fields.Date(data_key="from", attribute="from", metadata={"description": "First day (custom range)"})
    to = fields.Date(metadata={"description": f"Last day, included (custom range; at most {MAX_DAYS} days)"})


class ReportCampaignSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    timezone = fields.String()


class ReportCampaignsSchema(Schema):
    campaigns = fields.List(fields.Nested(ReportCampaignSchema))


class ReportDefinitionSchema(Schema):
    name = fields.String()
    label = fields.String()
    definition = fields.String()


class ReportHeadSchema(Schema):
    campaign_id = fields.Integer()
    campaign_name = fields.String()
    range = fields.String()
    first_day = fields.Date()
    last_day = fields.Date()
    start = fields.DateTime(metadata={"description": "Local midnight the range starts"})
    end = fields.DateTime(metadata={"description": "Local midnight after the last day"})
    timezone = fields.String()
    as_of = fields.DateTime(allow_none=True, metadata={"description": "When the figures were last brought up "
                                                                      "to date (the KPI rollup's last run)"})
    definitions = fields.List(fields.Nested(ReportDefinitionSchema))


class ReportPauseSchema(Schema):
    code = fields.String()
    label = fields.String()
    seconds = fields.Float()


class ReportPauseCodeSchema(Schema):
    code = fields.String()
    label = fields.String()


class AgentFiguresSchema(Schema):
    handled = fields.Integer(metadata=_d("handled"))
    talk_seconds = fields.Float(metadata=_d("talk_seconds"))
    wrap_seconds = fields.Float(metadata=_d("wrap_seconds"))
    paused_seconds = fields.Float(metadata=_d("paused_seconds"))
    pause_by_code = fields.List(fields.Nested(ReportPauseSchema), metadata=_d("paused_seconds"))
    signed_in_seconds = fields.Float(metadata=_d("signed_in_seconds"))
    contacts_reached = fields.Integer(metadata=_d("contacts_reached"))
    sales = fields.Integer(metadata=_d("sales"))
    conversion = fields.Float(allow_none=True, metadata=_d("conversion"))
    occupancy = fields.Float(allow_none=True, metadata=_d("occupancy"))


class AgentRowSchema(AgentFiguresSchema):
    agent_id = fields.Integer()
    agent_name = fields.String()


class AgentPerformanceSchema(ReportHeadSchema):
    agents = fields.List(fields.Nested(AgentRowSchema))
    total = fields.Nested(AgentFiguresSchema, metadata={"description": "Every agent together"})
    pause_codes = fields.List(fields.Nested(ReportPauseCodeSchema), metadata={"description": "Pause reasons used"})


class DispositionRowSchema(Schema):
    code = fields.String(allow_none=True)
    label = fields.String()
    count = fields.Integer(metadata=_d("count"))
    share = fields.Float(allow_none=True, metadata=_d("share"))


class DispositionReportSchema(ReportHeadSchema):
    handled = fields.Integer(metadata=_d("handled"))
    dispositions = fields.List(fields.Nested(DispositionRowSchema))


class ActivityFiguresSchema(Schema):
    calls_placed = fields.Integer(metadata=_d("calls_placed"))
    human_answered = fields.Integer(metadata=_d("human_answered"))
    handled = fields.Integer(metadata=_d("handled"))
    abandoned = fields.Integer(metadata=_d("abandoned"))
    abandon_rate = fields.Float(allow_none=True, metadata=_d("abandon_rate"))
    talk_seconds = fields.Float(metadata=_d("talk_seconds"))
    signed_in_seconds = fields.Float(metadata=_d("signed_in_seconds"))
    talk_minutes_per_agent_hour = fields.Float(allow_none=True, metadata=_d("talk_minutes_per_agent_hour"))


class ActivityPointSchema(ActivityFiguresSchema):
    bucket_start = fields.DateTime()
    label = fields.String(metadata={"description": "The hour or day in the campaign's zone"})


class ActivityReportSchema(ReportHeadSchema):
    granularity = fields.String()
    points = fields.List(fields.Nested(ActivityPointSchema))
    total = fields.Nested(ActivityFiguresSchema)
