"""Access tokens for the agent's browser audio (Twilio Voice JS SDK), when configured."""
from __future__ import annotations

TOKEN_TTL_SECONDS = 3600


def agent_identity(agent_id: int) -> str:
    return f"agent-{agent_id}"


def browser_audio(config) -> bool:
    """Agents talk through the browser (Voice JS SDK): the API key, its secret and a TwiML app
    are configured. Without it (the demo, the tests) the simulator's agent leg stands in."""
    return bool(config.get("TWILIO_API_KEY_SID") and config.get("TWILIO_API_KEY_SECRET")
                and config.get("TWILIO_TWIML_APP_SID"))


def agent_voice_token(config, agent_id: int) -> dict | None:
    """None unless browser audio is configured."""
    if not browser_audio(config):
        return None
    key_sid, secret = config["TWILIO_API_KEY_SID"], config["TWILIO_API_KEY_SECRET"]
    app_sid = config["TWILIO_TWIML_APP_SID"]
    from twilio.jwt.access_token import AccessToken
    from twilio.jwt.access_token.grants import VoiceGrant

    identity = agent_identity(agent_id)
    token = AccessToken(config["TWILIO_ACCOUNT_SID"], key_sid, secret, identity=identity, ttl=TOKEN_TTL_SECONDS)
    token.add_grant(VoiceGrant(outgoing_application_sid=app_sid, incoming_allow=True))
    jwt = token.to_jwt()
    return {"token": jwt.decode() if isinstance(jwt, bytes) else jwt, "identity": identity}
