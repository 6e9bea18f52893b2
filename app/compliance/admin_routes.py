"""/api/compliance/blackouts and /api/compliance/rules: the declared blackout days (admins
write, supervisors read) and the state rule table in words, for the Calling rules page."""
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import roles_required
from app.common.ratelimit import creation_limit
from app.compliance import blackouts, rule_table
from app.compliance.schemas import (
    BlackoutAddSchema,
    BlackoutListArgsSchema,
    BlackoutPageSchema,
    BlackoutSchema,
    RuleTableArgsSchema,
    RuleTableSchema,
)

blp = Blueprint("calling_rules", __name__, url_prefix="/api/compliance",
                description="The state rule table, and blackout days admins declare (every change audited)")


@blp.route("/blackouts", methods=["GET"])
@blp.arguments(BlackoutListArgsSchema, location="query")
@blp.response(200, BlackoutPageSchema)
@roles_required("supervisor", "admin")
def list_blackouts(args):
    """Declared blackout days by first day (`upcoming`: only those not yet over)."""
    return blackouts.list_blackouts(**args)


@blp.route("/blackouts", methods=["POST"])
@creation_limit
@blp.arguments(BlackoutAddSchema)
@blp.response(201, BlackoutSchema)
@roles_required("admin")
def declare_blackout(data):
    """Close a state ("US": every state) to calls on these dates, inclusive, in the callee's local dates."""
    return blackouts.declare(current_user, data["jurisdiction"], data["date_from"], data["date_to"],
                             data["reason"])


@blp.route("/blackouts/<int:blackout_id>", methods=["DELETE"])
@blp.response(204)
@roles_required("admin")
def remove_blackout(blackout_id):
    """Lift a blackout."""
    blackouts.remove(current_user, blackout_id)


@blp.route("/rules", methods=["GET"])
@blp.arguments(RuleTableArgsSchema, location="query")
@blp.response(200, RuleTableSchema)
@roles_required("supervisor", "admin")
def rules(args):
    """The rule table in force: its version, and each rule in words with its dates, source and note."""
    table = rule_table.rule_table(blackouts.today(), args.get("year"))
    return {**table, "places": blackouts.places()}
