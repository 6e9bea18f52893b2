from marshmallow import Schema, fields, validate

from app.common.schemas import PageArgsSchema, PageMetaSchema
from app.contacts.models import CONTACT_STATUSES
from app.imports.schemas import UploadFileSchema

IMPORT_STATUSES = ("pending", "running", "done", "failed")


class ContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(dump_only=True)
    phone_e164 = fields.String(dump_only=True)
    alt_phones = fields.List(fields.String(), dump_only=True)
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String(allow_none=True)
    custom_fields = fields.Dict()
    timezone = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    status = fields.String(dump_only=True)
    attempts = fields.Integer(dump_only=True)
    last_outcome = fields.String(dump_only=True, allow_none=True)
    next_due_at = fields.DateTime(dump_only=True, allow_none=True)
    import_job_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class ContactCreateSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40),
                          metadata={"description": "Normalised to E.164 (campaign's default region)"})
    alt_phones = fields.List(fields.String(validate=validate.Length(max=40)), validate=validate.Length(max=10))
    first_name = fields.String(load_default="", validate=validate.Length(max=100))
    last_name = fields.String(load_default="", validate=validate.Length(max=100))
    email = fields.Email(load_default=None, allow_none=True)
    custom_fields = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), load_default=dict)
    timezone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                             metadata={"description": "IANA zone; derived from state/ZIP/number if omitted"})
    region = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                           metadata={"description": "State or province"})
    postal_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))


class ContactListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(CONTACT_STATUSES))
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Name, email or phone digits"})
    timezone = fields.String(validate=validate.Length(max=64))
    import_job_id = fields.Integer()


class ContactPageSchema(Schema):
    items = fields.List(fields.Nested(ContactSchema))
    meta = fields.Nested(PageMetaSchema)


class ImportUploadSchema(UploadFileSchema):
    column_map = fields.String(metadata={"description": 'JSON: {"phone": "Mobile", "alt_phones": ["Home"], '
                                                        '"first_name": ..., "custom": [...]}'})


class ConsentSchema(Schema):
    id = fields.Integer(dump_only=True)
    contact_id = fields.Integer(dump_only=True)
    phone_e164 = fields.String(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(("prior_express", "prior_express_written")),
                         metadata={"description": "prior_express or prior_express_written"})
    given_at = fields.AwareDateTime(required=True, metadata={"description": "When it was given (ISO 8601 with offset)"})
    source = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "Where it was given: a web form's address, a call, a document"})
    evidence = fields.String(load_only=True, validate=validate.Length(max=100_000),
                             metadata={"description": "The evidence's text; only its SHA-256 is kept"})
    evidence_sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$"), allow_none=True,
                                    metadata={"description": "Or the evidence's SHA-256, given directly"})
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)
    revoked_via = fields.String(dump_only=True, allow_none=True,
                                metadata={"description": "opt_out_key, dnc_disposition or api"})
    revoked_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class ConsentListSchema(Schema):
    items = fields.List(fields.Nested(ConsentSchema))


class RevokeSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=40))
    campaign_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                                 metadata={"description": "A campaign of the seller the person revokes consent from"})
    note = fields.String(validate=validate.Length(max=500))


class RevokedSchema(Schema):
    phone = fields.String()
    seller = fields.String()
    consents_revoked = fields.Integer()
