from marshmallow import Schema, fields, validate


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String()
    full_name = fields.String()
    email = fields.String(allow_none=True)
    role = fields.String()
    active = fields.Boolean()
    last_login_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class MeSchema(Schema):
    user = fields.Nested(UserSchema)
    csrf_token = fields.String()


class CsrfSchema(Schema):
    csrf_token = fields.String()
