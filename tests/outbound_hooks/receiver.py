"""A CRM's endpoint in the tests: a local HTTP server that records every request (and every
connection, even one that never becomes a request) and answers the status codes it is told."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, codes=(200,), hold: threading.Event | None = None):
        self.codes = list(codes)  # answered in turn; the last one repeats
        self.hold = hold  # when set, each request waits for it before answering
        self.requests: list[dict] = []
        self.connections = 0
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # connections stay open between requests, as a CRM's do

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.changed:
                    receiver.requests.append({"headers": dict(self.headers), "body": body,
                                              "json": json.loads(body), "path": self.path})
                    code = receiver.codes[min(len(receiver.requests), len(receiver.codes)) - 1]
                    receiver.changed.notify_all()
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request, client_address):
                with receiver.changed:
                    receiver.connections += 1
                    receiver.changed.notify_all()
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 10) -> list[dict]:
        """Wait (on progress, not a fixed sleep) until `count` requests have arrived."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.requests) >= count, timeout), self.requests
            return list(self.requests)
