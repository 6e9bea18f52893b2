from marshmallow import Schema, fields, validate

from app.common.schemas import PageArgsSchema, PageMetaSchema
from app.imports.schemas import UploadFileSchema


class DncEntrySchema(Schema):
    id = fields.Integer(dump_only=True)
    phone_e164 = fields.String(dump_only=True)
    campaign_id = fields.Integer(allow_none=True)
    source = fields.String(dump_only=True)
    reason = fields.String()
    created_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class DncAddSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40))
    campaign_id = fields.Integer(load_default=None, allow_none=True,
                                 metadata={"description": "null: the internal (company-wide) list"})
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class DncListArgsSchema(PageArgsSchema):
    phone = fields.String(validate=validate.Length(max=40), metadata={"description": "A number or some digits"})
    campaign_id = fields.Integer()
    list = fields.String(validate=validate.OneOf(("internal", "campaign")))


class DncPageSchema(Schema):
    items = fields.List(fields.Nested(DncEntrySchema))
    meta = fields.Nested(PageMetaSchema)


class DncCheckArgsSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40))
    campaign_id = fields.Integer(load_default=None)


class DncCheckSchema(Schema):
    phone_e164 = fields.String()
    dnc = fields.Boolean()


class DncImportFormSchema(UploadFileSchema):
    campaign_id = fields.Integer(load_default=None, allow_none=True)
    column_map = fields.String(metadata={"description": 'JSON: {"phone": "Number", "reason": "Why"}'})
