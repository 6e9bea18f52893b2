"""Flask extensions, created unbound and bound in `create_app`."""
from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_smorest import Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.common.schemas import ErrorSchema

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def rate_limit_key() -> str:
    """Signed-in callers are limited per user, everyone else per address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


class OmnivoxApi(Api):
    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
def _general_api_limit() -> str:
    return current_app.config["RATELIMIT_API"]


def _outside_api() -> bool:
    """The general tier covers /api only; pages, health and Twilio's signed webhooks are exempt."""
    return not request.path.startswith("/api/")


limiter = Limiter(
    key_func=rate_limit_key,
    default_limits=[_general_api_limit],
    default_limits_exempt_when=_outside_api,
)
api = OmnivoxApi()
socketio = SocketIO()
