"""Run in a subprocess by test_inprocess.py: an app without a message queue, Flask-SocketIO's test client.

A separate process, because extensions are process-wide singletons: binding them to a second,
differently configured app inside the test session would rebind the session app's too.
"""
from __future__ import annotations

import json
import os
import sys


def main() -> int:
    from app import create_app
    from app.extensions import db, socketio
    from app.realtime.publish import NAMESPACE, agent_room, campaign_room, publish
    from config import TestConfig
    from tests.helpers import ApiClient, UserFactory

    environ = json.loads(os.environ["INPROCESS_ENV"])
    app = create_app(TestConfig(environ, SOCKETIO_MESSAGE_QUEUE=None))
    users = UserFactory(app)
    agent, other = users.create("agent"), users.create("agent")
    results = {}

    anonymous = socketio.test_client(app, namespace=NAMESPACE)
    results["anonymous_connected"] = anonymous.is_connected(NAMESPACE)

    http = ApiClient(app.test_client())
    assert http.login(agent.username, agent.password).status_code == 200
    live = socketio.test_client(app, namespace=NAMESPACE, flask_test_client=http.client)
    results["agent_connected"] = live.is_connected(NAMESPACE)
    with app.app_context():
        publish("call.screen_pop", {"marker": "mine"}, room=agent_room(agent.id))
        publish("call.screen_pop", {"marker": "theirs"}, room=agent_room(other.id))
        publish("agent.state", {"marker": "floor"}, room=campaign_room(1))
    results["received"] = [(m["name"], m["args"][0]["marker"]) for m in live.get_received(NAMESPACE)]
    live.disconnect(namespace=NAMESPACE)
    with app.app_context():
        from sqlalchemy import text

        names = {"a": agent.username, "b": other.username}
        db.session.execute(text("DELETE FROM audit_log WHERE actor_username IN (:a, :b)"), names)
        db.session.execute(text("DELETE FROM users WHERE username IN (:a, :b)"), names)
        db.session.commit()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
