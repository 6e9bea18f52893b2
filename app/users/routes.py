from flask_smorest import Blueprint

from app.auth.schemas import UserSchema
from app.auth.security import roles_required
from app.common.ratelimit import creation_limit
from app.users import services
from app.users.schemas import UserCreateSchema, UserListArgsSchema, UserPageSchema

blp = Blueprint("users", __name__, url_prefix="/api/users", description="Users and roles (admins)")


@blp.route("", methods=["GET"])
@blp.arguments(UserListArgsSchema, location="query")
@blp.response(200, UserPageSchema)
@roles_required("admin")
def list_users(args):
    """List users, paginated, filtered by role, active flag or username."""
    return services.list_users(**args)


@blp.route("", methods=["POST"])
@creation_limit
@blp.arguments(UserCreateSchema)
@blp.response(201, UserSchema)
@roles_required("admin")
def create_user(data):
    """Create a user with a role; the password must meet the policy."""
    return services.create_user(data)
