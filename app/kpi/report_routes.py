"""Report pages' data: agent performance, dispositions, hourly and daily figures, each as JSON and
as CSV. Supervisors: the campaigns they supervise (another campaign answers 404); admins: all."""
from flask import Response
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import roles_required
from app.common.ratelimit import reporting_limit
from app.kpi import report_csv, reports
from app.kpi.report_schemas import (ActivityReportSchema, AgentPerformanceSchema, DispositionReportSchema,
                                    ReportArgsSchema, ReportCampaignsSchema)

blp = Blueprint("reports", __name__, url_prefix="/api/reports",
                description="Campaign reports over a range of local days, from the KPI rollups. " +
                " ".join(reports.__doc__.split()))

NOT_FOUND = "No such campaign (or one the caller does not supervise)"


def _csv(chunks, name: str, report: dict) -> Response:
    filename = f"{name}-{report['first_day']:%Y%m%d}-{report['last_day']:%Y%m%d}.csv"
    return Response("".join(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/campaigns", methods=["GET"])
@blp.response(200, ReportCampaignsSchema)
@roles_required("admin", "supervisor")
def report_campaigns():
    """The campaigns the caller may report on."""
    return {"campaigns": reports.report_campaigns(current_user)}


@blp.route("/agent-performance", methods=["GET"])
@reporting_limit
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, AgentPerformanceSchema)
@blp.alt_response(404, description=NOT_FOUND)
@roles_required("admin", "supervisor")
def agent_performance(args):
    """Per agent: calls handled, talk, wrap-up and pause time (per pause reason), sales, conversion, occupancy."""
    return reports.agent_performance(current_user, args)


@blp.route("/agent-performance/export", methods=["GET"])
@reporting_limit
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, content_type="text/csv", description="The agent performance report as CSV")
@blp.alt_response(404, description=NOT_FOUND)
@roles_required("admin", "supervisor")
def agent_performance_csv(args):
    """The agent performance report as CSV (one column per pause reason; percentages as percentages)."""
    report = reports.agent_performance(current_user, args)
    return _csv(report_csv.agent_performance_csv(report), "agent-performance", report)


@blp.route("/dispositions", methods=["GET"])
@reporting_limit
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, DispositionReportSchema)
@blp.alt_response(404, description=NOT_FOUND)
@roles_required("admin", "supervisor")
def dispositions(args):
    """Handled calls per disposition, with each one's share of all handled calls."""
    return reports.dispositions(current_user, args)


@blp.route("/dispositions/export", methods=["GET"])
@reporting_limit
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, content_type="text/csv", description="The dispositions report as CSV")
@blp.alt_response(404, description=NOT_FOUND)
@roles_required("admin", "supervisor")
def dispositions_csv(args):
    """The dispositions report as CSV."""
    report = reports.dispositions(current_user, args)
    return _csv(report_csv.dispositions_csv(report), "dispositions", report)


@blp.route("/hourly", methods=["GET"])
@reporting_limit
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, ActivityReportSchema)
@blp.alt_response(404, description=NOT_FOUND)
@roles_required("admin", "supervisor")
def hourly(args):
    """Per hour: calls placed, answered by a person, handled, abandoned, abandonment rate, talk minutes
    per agent hour."""
    return reports.activity(current_user, args, "hour")


@blp.route("/hourly/export", methods=["GET"])
@reporting_limit
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, content_type="text/csv", description="The hourly report as CSV")
@blp.alt_response(404, description=NOT_FOUND)
@roles_required("admin", "supervisor")
def hourly_csv(args):
    """The hourly report as CSV."""
    report = reports.activity(current_user, args, "hour")
    return _csv(report_csv.activity_csv(report), "hourly", report)


@blp.route("/daily", methods=["GET"])
@reporting_limit
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, ActivityReportSchema)
@blp.alt_response(404, description=NOT_FOUND)
@roles_required("admin", "supervisor")
def daily(args):
    """Per local day: calls placed, answered by a person, handled, abandoned, abandonment rate, talk
    minutes per agent hour."""
    return reports.activity(current_user, args, "day")


@blp.route("/daily/export", methods=["GET"])
@reporting_limit
@blp.arguments(ReportArgsSchema, location="query")
@blp.response(200, content_type="text/csv", description="The daily report as CSV")
@blp.alt_response(404, description=NOT_FOUND)
@roles_required("admin", "supervisor")
def daily_csv(args):
    """The daily report as CSV."""
    report = reports.activity(current_user, args, "day")
    return _csv(report_csv.activity_csv(report), "daily", report)
