"""Run the simulator on a port, in a background thread or in the foreground."""
from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from carrier_sim.config import SimConfig
from carrier_sim.engine import CallEngine
from carrier_sim.rest import create_sim_app

log = logging.getLogger("carrier_sim")


class QuietHandler(WSGIRequestHandler):
    # Keep-alive lets the SDK's pooled connections be reused at 100+ creates/s.
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class CarrierSimulator:
    """The simulator as an object: ``start()``, use ``api_base_url``, ``stop()``.

    >>> with CarrierSimulator(SimConfig(time_scale=0.01)) as sim:
    ...     carrier = TwilioCarrier(sim.config.account_sid, sim.config.auth_token,
    ...                             api_base_url=sim.api_base_url)
    """

    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0, **knobs: Any):
        config = config or SimConfig()
        self.engine = CallEngine(config.updated(knobs) if knobs else config)
        self.host, self.port = host, port
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def config(self) -> SimConfig:
        return self.engine.config

    @property
    def api_base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, background: bool = True) -> "CarrierSimulator":
        self.engine.start()
        app = create_sim_app(engine=self.engine)
        self._server = make_server(self.host, self.port, app, threaded=True,
                                   request_handler=QuietHandler)
        self.port = self._server.server_port
        self.engine.public_base_url = self.api_base_url
        log.info("carrier simulator listening on %s for account %s (time_scale %s)",
                 self.api_base_url, self.config.account_sid, self.config.time_scale)
        if not background:
            try:
                self._server.serve_forever()
            finally:
                self.engine.stop()
            return self
        # A short poll interval makes stop() quick, which matters to test suites.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="carrier-sim-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.engine.stop()

    def configure(self, **changes: Any) -> SimConfig:
        """Change knobs at run time (the same as ``POST /_sim/config``)."""
        return self.engine.update_config(changes)

    def calls(self, to: str | None = None) -> list[dict[str, Any]]:
        return self.engine.store.snapshot(to)

    def call(self, call_sid: str) -> dict[str, Any] | None:
        call = self.engine.store.get(call_sid)
        return call.introspect() if call else None

    def __enter__(self) -> "CarrierSimulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
