from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.schemas import UserSchema
from app.auth.security import roles_required
from app.common.ratelimit import creation_limit
from app.common.schemas import PageArgsSchema
from app.users import services
from app.users.schemas import (
    IssuedTokenSchema, TokenCreateSchema, TokenPageSchema, TokenSchema, UserCreateSchema,
    UserListArgsSchema, UserPageSchema, UserUpdateSchema,
)

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
    return services.add_user(data)


@blp.route("/<int:user_id>", methods=["GET"])
@blp.response(200, UserSchema)
@roles_required("admin")
def get_user(user_id):
    """One user."""
    return services.get_user(user_id)


@blp.route("/<int:user_id>", methods=["PATCH"])
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
@roles_required("admin")
def update_user(data, user_id):
    """Edit a user (name, role, password); a new role or password signs them out everywhere."""
    return services.update_user(current_user, user_id, data)


@blp.route("/<int:user_id>/deactivate", methods=["POST"])
@blp.response(200, UserSchema)
@roles_required("admin")
def deactivate_user(user_id):
    """Deactivate: ends every session and revokes the user's API tokens."""
    return services.set_active(current_user, user_id, False)


@blp.route("/<int:user_id>/activate", methods=["POST"])
@blp.response(200, UserSchema)
@roles_required("admin")
def activate_user(user_id):
    """Let a deactivated user sign in again."""
    return services.set_active(current_user, user_id, True)


@blp.route("/<int:user_id>/tokens", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, TokenPageSchema)
@roles_required("admin")
def list_tokens(args, user_id):
    """The user's API tokens (never their values)."""
    return services.list_tokens(user_id, **args)


@blp.route("/<int:user_id>/tokens", methods=["POST"])
@creation_limit
@blp.arguments(TokenCreateSchema)
@blp.response(201, IssuedTokenSchema)
@roles_required("admin")
def issue_token(data, user_id):
    """Issue a named bearer token acting with the user's role; the value is shown only here."""
    return services.issue_token(current_user, user_id, data["name"])


@blp.route("/<int:user_id>/tokens/<int:token_id>", methods=["DELETE"])
@blp.response(200, TokenSchema)
@roles_required("admin")
def revoke_token(user_id, token_id):
    """Revoke a token; it stops working at once."""
    return services.revoke_token(user_id, token_id)
