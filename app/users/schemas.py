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
