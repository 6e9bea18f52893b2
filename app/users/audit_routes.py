"""GET /api/audit: the audit trail, newest first, for admins (the trail itself is app.audit)."""
from flask_smorest import Blueprint
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.audit.schemas import AuditArgsSchema, AuditPageSchema
from app.auth.security import roles_required
from app.common.pagination import paginate
from app.common.ratelimit import reporting_limit

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit log (admins)")


@blp.route("", methods=["GET"])
@reporting_limit
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
@roles_required("admin")
def list_audit(args):
    """Audit entries, newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    for name in ("action", "actor_id", "success"):
        if args.get(name) is not None:
            query = query.where(getattr(AuditEntry, name) == args[name])
    return paginate(query, args["page"], args["per_page"])
