from marshmallow import Schema, fields, validate

from app.auth.models import ROLES
from app.auth.schemas import UserSchema
from app.common.schemas import PageArgsSchema, PageMetaSchema


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    full_name = fields.String(load_default="", validate=validate.Length(max=128))
    email = fields.Email(load_default=None, allow_none=True)


class UserListArgsSchema(PageArgsSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    q = fields.String(validate=validate.Length(max=64), metadata={"description": "Username contains"})


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserSchema))
    meta = fields.Nested(PageMetaSchema)


class UserUpdateSchema(Schema):
    username = fields.String(validate=validate.Length(min=1, max=64))
    password = fields.String(load_only=True, validate=validate.Length(max=256),
                             metadata={"description": "A new password (policy applies); signs the user out"})
    role = fields.String(validate=validate.OneOf(ROLES))
    full_name = fields.String(validate=validate.Length(max=128))
    email = fields.Email(allow_none=True)


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class TokenSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "First characters, to recognise the token"})
    created_at = fields.DateTime()
    created_by_id = fields.Integer(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "The bearer token: shown once, only its hash is kept"})


class TokenPageSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema))
    meta = fields.Nested(PageMetaSchema)
