from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import roles_required
from app.numbers import services
from app.numbers.schemas import (NumbersPageSchema, NumberUpdateSchema, NumberUpdatedSchema, PoolSchema,
                                 PoolUpdateSchema)

blp = Blueprint("numbers", __name__, url_prefix="/api/numbers",
                description="The account's phone numbers, campaign pools and number health")


@blp.route("", methods=["GET"])
@blp.response(200, NumbersPageSchema)
@roles_required("admin")
def list_numbers():
    """The account's numbers as the carrier lists them now, with pools, caps and health."""
    return services.numbers_page()


@blp.route("/pools/<int:campaign_id>", methods=["PUT"])
@blp.arguments(PoolUpdateSchema)
@blp.response(200, PoolSchema)
@blp.alt_response(404, description="No such campaign")
@blp.alt_response(422, description="A number that is not one of the account's")
@roles_required("admin")
def set_pool(data, campaign_id):
    """Replace a campaign's pool of caller IDs (local presence draws on it)."""
    return services.set_pool(current_user, campaign_id, data["numbers"])


@blp.route("/<int:number_id>", methods=["PATCH"])
@blp.arguments(NumberUpdateSchema)
@blp.response(200, NumberUpdatedSchema)
@blp.alt_response(404, description="No such number")
@roles_required("admin")
def update_number(data, number_id):
    """Set a number's daily cap of calls, or end its rest."""
    return services.update_number(current_user, number_id, data)
