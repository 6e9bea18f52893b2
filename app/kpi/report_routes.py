"""Report pages' data: agent performance, dispositions, hourly and daily figures, each as JSON and
as CSV (the two registered together by `_report`). Supervisors: the campaigns they supervise
(another campaign answers 404); admins: all."""
from functools import partial

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


def _report(path: str, build, schema, to_csv, doc: str, csv_note: str = "") -> None:
    """Register a report at /<path> (JSON) and /<path>/export (CSV, named after the path and
    its days): the same arguments, rate limit, roles and 404 for both."""
    name, words = path.replace("-", "_"), path.replace("-", " ")

    def as_json(args):
        return build(current_user, args)

    def as_csv(args):
        report = build(current_user, args)
        return _csv(to_csv(report), path, report)

    as_json.__name__, as_json.__doc__ = name, doc
    as_csv.__name__, as_csv.__doc__ = f"{name}_csv", f"The {words} report as CSV{csv_note}."
    for url, view, response in (
            (f"/{path}", as_json, blp.response(200, schema)),
            (f"/{path}/export", as_csv,
             blp.response(200, content_type="text/csv", description=f"The {words} report as CSV"))):
        view = blp.alt_response(404, description=NOT_FOUND)(roles_required("admin", "supervisor")(view))
        view = blp.arguments(ReportArgsSchema, location="query")(response(view))
        blp.route(url, methods=["GET"])(reporting_limit(view))


_report("agent-performance", reports.agent_performance, AgentPerformanceSchema, report_csv.agent_performance_csv,
        "Per agent: calls handled, talk, wrap-up and pause time (per pause reason), sales, conversion, occupancy.",
        " (one column per pause reason; percentages as percentages)")
_report("dispositions", reports.dispositions, DispositionReportSchema, report_csv.dispositions_csv,
        "Handled calls per disposition, with each one's share of all handled calls.")
_report("hourly", partial(reports.activity, granularity="hour"), ActivityReportSchema, report_csv.activity_csv,
        "Per hour: calls placed, answered by a person, handled, abandoned, abandonment rate, talk minutes "
        "per agent hour.")
_report("daily", partial(reports.activity, granularity="day"), ActivityReportSchema, report_csv.activity_csv,
        "Per local day: calls placed, answered by a person, handled, abandoned, abandonment rate, talk "
        "minutes per agent hour.")
