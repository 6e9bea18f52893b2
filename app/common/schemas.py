"""Schemas shared by every feature: the error shape and pagination."""
from marshmallow import Schema, fields, validate


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    message = fields.String(required=True, metadata={"description": "Human-readable message"})
    fields = fields.Dict(
        keys=fields.String(), metadata={"description": "Per-field messages, when input was invalid"}
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageMetaSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


def id_filter(**kwargs) -> fields.Integer:
    """A row id in a query filter: out-of-range values are a 422, never a database error."""
    return fields.Integer(validate=validate.Range(min=1, max=2**31 - 1), **kwargs)
