"""The campaign's voicemail message (app.campaigns.voicemail): admins upload, replace and remove
the recording and set the spoken fallback; the campaign's supervisors may read and listen."""
from flask import Response, request
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.auth.security import roles_required
from app.campaigns import voicemail
from app.common.ratelimit import creation_limit

blp = Blueprint("voicemail", __name__, url_prefix="/api", description="Campaigns' voicemail messages")


class VoicemailAudioSchema(Schema):
    name = fields.String()
    content_type = fields.String(metadata={"description": "audio/wav or audio/mpeg"})
    bytes = fields.Integer()
    seconds = fields.Float(metadata={"description": "The recording's length, read from the file"})
    uploaded_at = fields.DateTime()


class VoicemailSchema(Schema):
    campaign_id = fields.Integer()
    audio = fields.Nested(VoicemailAudioSchema, allow_none=True)
    text = fields.String(metadata={"description": "Spoken when no recording is uploaded"})
    plays = fields.String(allow_none=True, metadata={"description": "audio | speech | null (agents cannot "
                                                                    "leave a voicemail)"})
    plays_words = fields.String()
    amd_enabled = fields.Boolean()
    waits_for_words = fields.String(metadata={"description": "When the message starts on the machine, in words"})


class VoicemailTextSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(max=voicemail.MAX_TEXT), metadata={
        "description": "Must name the seller and a number to call back ({seller_name}, {seller_phone} allowed)"})


class VoicemailUploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary", "description": (
        "WAV or MP3, at most 5 MB and 120 seconds")})


PATH = "/campaigns/<int:campaign_id>/voicemail"


@blp.route(PATH, methods=["GET"])
@blp.response(200, VoicemailSchema)
@roles_required("admin", "supervisor")
def get_voicemail(campaign_id):
    """The campaign's voicemail message: the recording, the spoken fallback, and when it starts."""
    return voicemail.settings(current_user, campaign_id)


@blp.route(PATH, methods=["PUT"])
@blp.arguments(VoicemailTextSchema)
@blp.response(200, VoicemailSchema)
@roles_required("admin")
def put_voicemail_text(data, campaign_id):
    """Set the text read by a computer voice when no recording is uploaded (empty: none)."""
    return voicemail.save_text(current_user, campaign_id, data["text"])


@blp.route(f"{PATH}/audio", methods=["POST"])
@creation_limit
@blp.arguments(VoicemailUploadSchema, location="form", content_type="multipart/form-data")
@blp.response(200, VoicemailSchema)
@blp.alt_response(413, description="The file is over 5 MB")
@blp.alt_response(422, description="Not a WAV or MP3, or too short or long")
@roles_required("admin")
def upload_voicemail_audio(_form, campaign_id):
    """Upload the recording agents leave (replaces the one before; its old address stops working)."""
    return voicemail.upload_audio(current_user, campaign_id, request.files.get("file"))


@blp.route(f"{PATH}/audio", methods=["DELETE"])
@blp.response(200, VoicemailSchema)
@roles_required("admin")
def delete_voicemail_audio(campaign_id):
    """Remove the recording (the spoken text, if any, is left instead)."""
    return voicemail.remove_audio(current_user, campaign_id)


@blp.route(f"{PATH}/audio", methods=["GET"])
@blp.response(200, description="The recording (audio/wav or audio/mpeg)")
@roles_required("admin", "supervisor")
def play_voicemail_audio(campaign_id):
    """The recording, to listen to on the campaign page."""
    message = voicemail.audio_for_admin(current_user, campaign_id)
    return Response(message.audio, mimetype=message.audio_type,
                    headers={"Cache-Control": "private, no-store"})
