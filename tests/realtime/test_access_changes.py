"""Access taken away reaches everything at once: HTTP sessions, tokens and open sockets.

Over a real threaded server, real HTTP and real Socket.IO clients on the Redis queue. Absence
of an event is shown against a control: a socket that still has access hears a marker
published after the one that lost access would have heard it.
"""
from __future__ import annotations

import pytest
import requests
import socketio

from app.realtime.publish import campaign_room, publish
from tests.realtime.conftest import LiveClient, http_session
from tests.security.conftest import assert_error_shape

pytestmark = pytest.mark.slow


def _publish(app, payload, campaign_id):
    with app.app_context():
        publish("call.state", payload, room=campaign_room(campaign_id))


def _markers(client: LiveClient) -> list[str]:
    out = []
    while not client.empty():
        out.append(client.next()[1].get("marker"))
    return out


class _Json:
    """A requests response seen through what assert_error_shape reads."""

    def __init__(self, response):
        self.response, self.status_code = response, response.status_code

    def get_json(self, silent=False):
        return self.response.json()

    def get_data(self, as_text=False):
        return self.response.text


def test_deactivation_refuses_session_token_and_socket_at_once(_app, committed, live_server, live_clients):
    admin, sup, other = committed.user("admin"), committed.user("supervisor"), committed.user("supervisor")
    campaign = committed.campaign(sup, other)
    admin_http, sup_http = http_session(live_server, admin), http_session(live_server, sup)
    bearer = {"Authorization": f"Bearer {committed.token(sup)}"}
    copied_cookie = f"omnivox_session={sup_http.cookies['omnivox_session']}"
    socket, control = live_clients(sup), live_clients(other)
    assert sup_http.get(f"{live_server}/api/auth/me").status_code == 200
    assert requests.get(f"{live_server}/api/campaigns", headers=bearer).status_code == 200

    assert admin_http.post(f"{live_server}/api/users/{sup['id']}/deactivate").status_code == 200

    body = {"phone": "2125550190", "reason": "x" * 5000}  # a body the view would refuse too
    attempts = [
        sup_http.get(f"{live_server}/api/auth/me"),
        sup_http.post(f"{live_server}/api/dnc", json=body),
        sup_http.post(f"{live_server}/api/auth/logout"),
        requests.get(f"{live_server}/api/campaigns", headers=bearer),
        requests.post(f"{live_server}/api/dnc", json=body, headers=bearer),
        requests.post(f"{live_server}/api/dnc", data="[" * 10_000, headers=bearer),
        requests.get(f"{live_server}/api/auth/me", headers={"Cookie": copied_cookie, **bearer}),
    ]
    for response in attempts:
        assert response.status_code == 401, (response.request.method, response.request.url, response.text)
        assert_error_shape(_Json(response), response.request.url)

    assert socket.disconnected.wait(10), "the deactivated supervisor's socket is still open"
    _publish(_app, {"marker": "after"}, campaign)
    assert control.next()[1]["marker"] == "after"
    assert _markers(socket) == []
    with pytest.raises(socketio.exceptions.ConnectionError):
        LiveClient(live_server, copied_cookie)


def test_a_supervisor_taken_off_a_campaign_stops_hearing_it(_app, committed, live_server, live_clients):
    admin, sup, other = committed.user("admin"), committed.user("supervisor"), committed.user("supervisor")
    x, y = committed.campaign(sup, other), committed.campaign(sup)
    socket, control = live_clients(sup), live_clients(other)
    _publish(_app, {"marker": "before"}, x)
    assert socket.next()[1]["marker"] == control.next()[1]["marker"] == "before"

    response = http_session(live_server, admin).put(f"{live_server}/api/campaigns/{x}/assignments",
                                                    json={"supervisor_ids": [other["id"]]})
    assert response.status_code == 200, response.text

    _publish(_app, {"marker": "x-after"}, x)
    assert control.next()[1]["marker"] == "x-after"
    _publish(_app, {"marker": "y-after"}, y)  # the socket itself is fine: it still hears Y
    assert socket.next()[1]["marker"] == "y-after"
    assert socket.call("watch", {"campaign_ids": [x, y]}) == {"watching": [y], "refused": [x]}


def test_logout_closes_the_sockets_of_that_session_only(_app, committed, live_server, live_clients):
    sup = committed.user("supervisor")
    campaign = committed.campaign(sup)
    http = http_session(live_server, sup)
    mine = LiveClient(live_server, f"omnivox_session={http.cookies['omnivox_session']}")
    elsewhere = live_clients(sup)  # another sign-in of the same supervisor
    try:
        assert http.post(f"{live_server}/api/auth/logout").status_code == 204
        assert mine.disconnected.wait(10), "the signed-out session's socket is still open"
        _publish(_app, {"marker": "after-logout"}, campaign)
        assert elsewhere.next()[1]["marker"] == "after-logout"
        assert _markers(mine) == []
    finally:
        mine.close()
