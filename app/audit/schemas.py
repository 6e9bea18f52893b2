from marshmallow import Schema, fields, validate

from app.common.schemas import PageArgsSchema, PageMetaSchema


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_username = fields.String(allow_none=True)
    action = fields.String()
    target_type = fields.String(allow_none=True)
    target_id = fields.String(allow_none=True)
    success = fields.Boolean()
    ip = fields.String(allow_none=True)
    details = fields.Dict()


class AuditArgsSchema(PageArgsSchema):
    action = fields.String(validate=validate.Length(max=64))
    actor_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    success = fields.Boolean()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    meta = fields.Nested(PageMetaSchema)
