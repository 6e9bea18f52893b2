from flask import Response, current_app, request, stream_with_context
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import login_required, roles_required
from app.calls import recordings, records
from app.calls.schemas import (CallRecordArgsSchema, CallRecordDetailSchema, CallRecordFiltersSchema,
                               CallRecordFilterSchema, CallRecordPageSchema, LegalHoldArgsSchema,
                               LegalHoldReleaseArgsSchema, LegalHoldSchema)
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
    """Call records, newest first, with campaign, agent and contact names, the outcome in words, the
    disposition and the agent's notes; filtered by campaign, agent, status, outcome, abandoned,
    disposition label, phone digits and date range."""
    page, per_page = args.pop("page"), args.pop("per_page")
    return records.list_call_records(current_user, args, page, per_page)


@blp.route("/filters", methods=["GET"])
@blp.response(200, CallRecordFiltersSchema)
@login_required
def call_record_filters():
    """What the caller's call records may be filtered by: their campaigns, agents (names), disposition
    labels and outcomes in words."""
    return records.filter_options(current_user._get_current_object())


@blp.route("/<int:call_id>", methods=["GET"])
@blp.response(200, CallRecordDetailSchema)
@blp.alt_response(404, description="No such call record (or one the caller may not see)")
@login_required
def get_call_record(call_id):
    """One call record with its names, the carrier events it received (in words) and its transfers."""
    return records.call_record(current_user, call_id)


@blp.route("/export", methods=["GET"])
@reporting_limit
@blp.arguments(CallRecordFilterSchema, location="query")
@blp.response(200, content_type="text/csv", description="CSV, streamed")
@login_required
def export_call_records(args):
    """The filtered call records as CSV, streamed row by row, in people's columns: date/time (the
    campaign's zone), campaign, agent, contact, phone, outcome in words, disposition, notes, talk and
    wait seconds, abandoned, recording link, caller ID, call ID and the compliance record. Cells that
    a spreadsheet would run as a formula are written with a leading quote."""
    filename = f"call-records-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    # Links in the file use the configured public address, never the request's Host header.
    rows = records.export_rows(current_user._get_current_object(), args, current_app.config["PUBLIC_BASE_URL"] + "/")
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/<int:call_id>/recording", methods=["GET"])
@blp.response(200, content_type="audio/wav", description="The whole recording (WAV; two channels: "
              "agent and customer)")
@blp.alt_response(206, description="The byte range asked for (Range: bytes=...), with Content-Range")
@blp.alt_response(404, description="No such call record (or another agent's), or the call has no recording")
@blp.alt_response(410, description="The recording was deleted (its date in the error's fields)")
@blp.alt_response(416, description="The range starts past the end (Content-Range: bytes */size)")
@blp.alt_response(409, description="The recording is not complete yet")
@blp.alt_response(503, description="The carrier cannot be reached just now")
@login_required
def play_recording(call_id):
    """The call's recording, streamed by Omnivox from the carrier (HTTP range requests for
    seeking). Agents: their own calls; supervisors: their campaigns'; admins: all. Audited."""
    return recordings.stream(current_user._get_current_object(), call_id, request.headers.get("Range"),
                             head=request.method == "HEAD")


@blp.route("/<int:call_id>/legal-hold", methods=["POST"])
@blp.arguments(LegalHoldArgsSchema)
@blp.response(200, LegalHoldSchema)
@blp.alt_response(404, description="Not a call record you may see")
@roles_required("supervisor", "admin")
def hold_call_record(args, call_id):
    """Put the call on legal hold: its recording is kept whatever the retention period. Audited."""
    return recordings.set_legal_hold(current_user._get_current_object(), call_id, args["reason"])


@blp.route("/<int:call_id>/legal-hold", methods=["DELETE"])
@blp.arguments(LegalHoldReleaseArgsSchema, location="query")
@blp.response(200, LegalHoldSchema)
@blp.alt_response(404, description="Not a call record you may see")
@roles_required("supervisor", "admin")
def release_call_record(args, call_id):
    """Release the legal hold: the campaign's retention applies again. Audited."""
    return recordings.release_legal_hold(current_user._get_current_object(), call_id, args.get("reason"))
