from marshmallow import Schema, fields, validate

from app.common.schemas import PageArgsSchema, PageMetaSchema

REJECTION_KINDS = ("invalid", "duplicate", "dnc")
OUTCOMES = {"invalid": "Not imported", "duplicate": "Duplicate", "dnc": "On do-not-call"}


class UploadFileSchema(Schema):
    # Documents the multipart file part; the service reads it from request.files.
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": (
        "CSV with a header: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252")})


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
    read_as = fields.Function(lambda job: (job.column_map or {}).get("read_as", "UTF-8"), metadata={"type": "string",
        "description": "The file's text encoding as read: UTF-8, UTF-16 or Windows-1252 (what Excel "
                       "on Windows saves as CSV, read as such when the file is not UTF-8)"})
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class RejectionSchema(Schema):
    line = fields.Integer()
    kind = fields.String(metadata={"description": "invalid, duplicate or dnc (the filter's code)"})
    outcome = fields.Function(lambda row: OUTCOMES.get(row.kind, row.kind), metadata={"type": "string",
        "description": "What happened to the row, in words: Not imported, Duplicate, On do-not-call"})
    reason = fields.String()
    raw = fields.String()


class RejectionArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(REJECTION_KINDS))


class RejectionPageSchema(Schema):
    items = fields.List(fields.Nested(RejectionSchema))
    meta = fields.Nested(PageMetaSchema)
