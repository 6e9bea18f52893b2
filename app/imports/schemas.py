from marshmallow import Schema, fields, validate

from app.common.schemas import PageArgsSchema, PageMetaSchema

REJECTION_KINDS = ("invalid", "duplicate", "dnc")


class UploadFileSchema(Schema):
    # Documents the multipart file part; the service reads it from request.files.
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": "UTF-8 CSV with a header"})


class ImportJobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    campaign_id = fields.Integer(allow_none=True)
    filename = fields.String()
    size_bytes = fields.Integer()
    column_map = fields.Dict()
    status = fields.String()
    rows_read = fields.Integer()
    imported = fields.Integer()
    rejected = fields.Integer()
    duplicates = fields.Integer()
    dnc_skipped = fields.Integer()
    error = fields.String(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class RejectionSchema(Schema):
    line = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    raw = fields.String()


class RejectionArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(REJECTION_KINDS))


class RejectionPageSchema(Schema):
    items = fields.List(fields.Nested(RejectionSchema))
    meta = fields.Nested(PageMetaSchema)
