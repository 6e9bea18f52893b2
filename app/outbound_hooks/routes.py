from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.security import roles_required
from app.common.ratelimit import creation_limit
from app.outbound_hooks import services
from app.outbound_hooks.events import EVENT_TYPES
from app.outbound_hooks.schemas import (
    DeliveryArgsSchema, DeliveryPageSchema, DeliverySchema, EndpointCreatedSchema, EndpointCreateSchema,
    EndpointListSchema, EndpointSchema, EndpointUpdateSchema,
)

blp = Blueprint("outbound_webhooks", __name__, url_prefix="/api/webhooks",
                description="Webhooks out, for CRMs: endpoints (subscriptions) and their deliveries. "
                            "Admins only; every change audited.")


@blp.route("", methods=["GET"])
@blp.response(200, EndpointListSchema)
@roles_required("admin")
def list_endpoints():
    """Every endpoint, with its state, and the events one may subscribe to."""
    return {"items": services.list_endpoints(), "event_types": EVENT_TYPES}


@blp.route("", methods=["POST"])
@creation_limit
@blp.arguments(EndpointCreateSchema)
@blp.response(201, EndpointCreatedSchema)
@blp.alt_response(422, description="The address is not HTTPS, cannot be found, or resolves to a private, "
                                    "loopback, link-local or other non-public address; or no known events")
@roles_required("admin")
def create_endpoint(data):
    """Register an endpoint. The answer holds its signing secret: the only time it is shown."""
    endpoint, secret = services.create_endpoint(current_user, data["url"], data["events"], data["description"])
    endpoint.secret = secret
    return endpoint


@blp.route("/<int:endpoint_id>", methods=["GET"])
@blp.response(200, EndpointSchema)
@blp.alt_response(404, description="No such endpoint")
@roles_required("admin")
def get_endpoint(endpoint_id):
    return services.get_endpoint(endpoint_id)


@blp.route("/<int:endpoint_id>", methods=["PATCH"])
@blp.arguments(EndpointUpdateSchema)
@blp.response(200, EndpointSchema)
@blp.alt_response(404, description="No such endpoint")
@blp.alt_response(422, description="A refused address or unknown events")
@roles_required("admin")
def update_endpoint(data, endpoint_id):
    """Change the events, address or description; switch it off or on again."""
    return services.update_endpoint(endpoint_id, data)


@blp.route("/<int:endpoint_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, description="No such endpoint")
@roles_required("admin")
def delete_endpoint(endpoint_id):
    """Remove the endpoint and its delivery log."""
    services.delete_endpoint(endpoint_id)


@blp.route("/<int:endpoint_id>/deliveries", methods=["GET"])
@blp.arguments(DeliveryArgsSchema, location="query")
@blp.response(200, DeliveryPageSchema)
@blp.alt_response(404, description="No such endpoint")
@roles_required("admin")
def list_deliveries(args, endpoint_id):
    """The endpoint's deliveries, newest first: status, last status code, time taken, attempts."""
    return services.list_deliveries(endpoint_id, args["page"], args["per_page"])


@blp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@blp.response(202, DeliverySchema)
@blp.alt_response(404, description="No such endpoint or delivery")
@roles_required("admin")
def redeliver(endpoint_id, delivery_id):
    """Send the delivery's event again (same body and event id), once, as a new delivery."""
    return services.redeliver(endpoint_id, delivery_id)


@blp.route("/<int:endpoint_id>/test", methods=["POST"])
@blp.response(202, DeliverySchema)
@blp.alt_response(404, description="No such endpoint")
@roles_required("admin")
def send_test(endpoint_id):
    """Send a `webhook.test` event to this endpoint only, once (even when switched off)."""
    return services.send_test(endpoint_id)
