from marshmallow import Schema, fields, pre_load, validate

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
    list_name = fields.String(dump_only=True, metadata={
        "description": "The list (upload) the contact came in, or \"Added by hand\""})
    list_active = fields.Boolean(dump_only=True, metadata={"description": "False: its list is switched off"})
    status_words = fields.String(dump_only=True)
    last_outcome_words = fields.String(dump_only=True, metadata={"description": "How the last call ended, in words"})


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
    status = fields.String(validate=validate.OneOf(CONTACT_STATUSES, error="Choose one of the statuses."))
    q = fields.String(validate=validate.Length(max=100), metadata={
        "description": "Part of a name (first, last or both), an email, or some digits of the number"})
    list = fields.String(validate=validate.Regexp(r"^(hand|[1-9][0-9]{0,9})$", error="A list's id, or hand."),
                         metadata={"description": "A list's id, or `hand` for contacts added by hand"})
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


class HistoryCallSchema(Schema):
    call_id = fields.Integer()
    at = fields.String(metadata={"description": "When it connected (or was answered, or placed), ISO 8601"})
    campaign_id = fields.Integer()
    direction = fields.String()
    kind = fields.String()
    kind_words = fields.String()
    to_number = fields.String()
    outcome = fields.String(allow_none=True)
    outcome_words = fields.String(metadata={"description": "How the call ended, in words"})
    agent_id = fields.Integer(allow_none=True)
    agent_name = fields.String(allow_none=True)
    talk_seconds = fields.Integer(allow_none=True)
    disposition = fields.String(allow_none=True, metadata={"description": "The disposition's label"})
    notes = fields.String()


class HistoryCallbackSchema(Schema):
    id = fields.Integer()
    due_at = fields.String()
    status = fields.String()
    status_words = fields.String()
    agent_name = fields.String(allow_none=True)
    notes = fields.String()


class HistorySchema(Schema):
    calls = fields.List(fields.Nested(HistoryCallSchema))
    callbacks = fields.List(fields.Nested(HistoryCallbackSchema))


class ContactDetailSchema(ContactSchema):
    attempts_before_pass = fields.Integer(dump_only=True, metadata={
        "description": "Calls made before the current pass (a list recycle starts a pass)"})
    history = fields.Nested(HistorySchema, dump_only=True)


class ContactUpdateSchema(Schema):
    phone = fields.String(validate=validate.Length(max=40, error="At most 40 characters."),
                          metadata={"description": "Checked again and normalised to E.164"})
    first_name = fields.String(validate=validate.Length(max=100, error="At most 100 characters."))
    last_name = fields.String(validate=validate.Length(max=100, error="At most 100 characters."))
    email = fields.Email(allow_none=True, error_messages={"invalid": "Not an email address."})
    timezone = fields.String(allow_none=True, validate=validate.Length(max=64, error="At most 64 characters."))
    region = fields.String(allow_none=True, validate=validate.Length(max=64, error="At most 64 characters."),
                           metadata={"description": "State or province"})
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=16, error="At most 16 characters."))
    custom_fields = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                                values=fields.String(validate=validate.Length(max=1000)))

    @pre_load
    def empty_email(self, data, **kwargs):
        if isinstance(data, dict) and data.get("email") == "":
            data = {**data, "email": None}
        return data


class OutcomeCountSchema(Schema):
    outcome = fields.String(allow_none=True)
    words = fields.String()
    count = fields.Integer()


class StatusCountSchema(Schema):
    status = fields.String()
    words = fields.String()
    count = fields.Integer()


class ContactListSummarySchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null: the contacts added by hand"})
    name = fields.String()
    filename = fields.String(allow_none=True)
    active = fields.Boolean(metadata={"description": "False: switched off, its contacts are not dialled"})
    import_status = fields.String(allow_none=True)
    uploaded_at = fields.DateTime(allow_none=True)
    contacts = fields.Integer()
    by_status = fields.List(fields.Nested(StatusCountSchema))
    by_last_outcome = fields.List(fields.Nested(OutcomeCountSchema), metadata={
        "description": "Contacts by how their last call ended (null: not called yet)"})
    recyclable = fields.List(fields.Nested(OutcomeCountSchema), metadata={
        "description": "By last outcome, the contacts a recycle of that outcome would reset"})


class RecyclableOutcomeSchema(Schema):
    outcome = fields.String()
    words = fields.String()


class ContactListsSchema(Schema):
    items = fields.List(fields.Nested(ContactListSummarySchema))
    recyclable_outcomes = fields.List(fields.Nested(RecyclableOutcomeSchema))


class ContactListUpdateSchema(Schema):
    active = fields.Boolean(metadata={"description": "False switches the list off: its contacts are not dialled"})
    name = fields.String(validate=validate.Length(max=255, error="At most 255 characters."))


class ContactListStateSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    active = fields.Boolean()


class RecycleSchema(Schema):
    outcomes = fields.List(fields.String(validate=validate.Length(max=32)), required=True,
                           validate=validate.Length(min=1, max=50, error="Choose at least one outcome."),
                           metadata={"description": "Last outcomes to reset (see recyclable_outcomes)"})


class RecycleResultSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    reset = fields.Integer(metadata={"description": "Contacts given another pass"})
    by_outcome = fields.List(fields.Nested(OutcomeCountSchema))
