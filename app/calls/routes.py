from flask import Response, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import login_required
from app.calls import records
from app.calls.schemas import (CallRecordArgsSchema, CallRecordDetailSchema,
                               CallRecordFilterSchema, CallRecordPageSchema)
from app.common.ratelimit import reporting_limit
from app.common.timeutil import utcnow

blp = Blueprint("call_records", __name__, url_prefix="/api/call-records",
                description="Call detail records (agents: their own; supervisors: their campaigns)")


@blp.route("", methods=["GET"])
@reporting_limit
@blp.arguments(CallRecordArgsSchema, location="query")
@blp.response(200, CallRecordPageSchema)
@login_required
def list_call_records(args):
    """Call records, newest first, filtered by campaign, agent, status, outcome and date range."""
    page, per_page = args.pop("page"), args.pop("per_page")
    return records.list_call_records(current_user, args, page, per_page)


@blp.route("/<int:call_id>", methods=["GET"])
@blp.response(200, CallRecordDetailSchema)
@login_required
def get_call_record(call_id):
    """One call record with the carrier events it received."""
    return records.call_record(current_user, call_id)


@blp.route("/export", methods=["GET"])
@reporting_limit
@blp.arguments(CallRecordFilterSchema, location="query")
@blp.response(200, content_type="text/csv", description="CSV, streamed")
@login_required
def export_call_records(args):
    """The filtered call records as CSV, streamed row by row."""
    filename = f"call-records-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    rows = records.export_rows(current_user._get_current_object(), args)
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
