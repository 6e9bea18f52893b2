"""GET /api/compliance/check: why a number may or may not be called now (or at an instant)."""
from datetime import datetime, timezone

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.auth.security import roles_required
from app.campaigns.access import get_campaign
from app.common.ratelimit import reporting_limit
from app.compliance import services

blp = Blueprint("compliance", __name__, url_prefix="/api/compliance",
                description="The calling rules, asked about one number")


class CheckArgsSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40),
                          metadata={"description": "E.164, or national in the US"})
    campaign_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    at = fields.AwareDateTime(validate=validate.Range(
        min=datetime(2000, 1, 1, tzinfo=timezone.utc), max=datetime(2100, 1, 1, tzinfo=timezone.utc),
        error="Give an instant between the years 2000 and 2100."),
        metadata={"description": "ISO 8601 with its UTC offset; default now"})
    state = fields.String(validate=validate.Length(max=64), metadata={"description": "For a bare number"})
    zip = fields.String(validate=validate.Length(max=16), metadata={"description": "For a bare number"})


class ReasonSchema(Schema):
    code = fields.String(metadata={"description": "Stable code of the rule that refuses"})
    message = fields.String(metadata={"description": "What the rule says, for people"})
    rule = fields.String(allow_none=True, metadata={"description": "The rule's id in the rule table"})
    source = fields.String(allow_none=True, metadata={"description": "The statute or regulation cited"})


class CheckSchema(Schema):
    callable = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonSchema))
    next_callable_at = fields.String(allow_none=True, metadata={
        "description": "The next instant every rule allows (ISO 8601); null when waiting will not help"})
    zones = fields.List(fields.String(), metadata={"description": "Every zone the callee may be in"})
    jurisdiction = fields.String(allow_none=True, metadata={"description": "e.g. US-FL"})
    jurisdictions = fields.List(fields.String())
    phone = fields.String()
    at = fields.String()
    contact_id = fields.Integer(allow_none=True)
    ruleset_version = fields.String()


@blp.route("/check", methods=["GET"])
@reporting_limit
@blp.arguments(CheckArgsSchema, location="query")
@blp.response(200, CheckSchema)
@roles_required("supervisor", "admin")
def check(args):
    """May this number be called for this campaign at `at`, and if not, why and from when?"""
    campaign = get_campaign(current_user, args["campaign_id"])
    return services.check_number(campaign, args["phone"], args.get("at"), state=args.get("state"),
                                 postal=args.get("zip"))
