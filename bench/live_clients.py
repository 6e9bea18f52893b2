"""Socket.IO clients for bench.live_latency, hosted ten to a process so one GIL does not queue them."""
from __future__ import annotations

import multiprocessing
import threading
import time

import socketio

NAMESPACE = "/live"


def _client_process(base: str, cookie: str, count: int, conn) -> None:
    """Hosts `count` Socket.IO clients in its own process (and GIL); reports receipt times on request."""
    times: dict[int, list[float]] = {}
    lock = threading.Lock()
    clients = []
    for _ in range(count):
        sio = socketio.Client(reconnection=False)

        def on_call_state(payload):
            received = time.monotonic()
            with lock:
                times.setdefault(payload["call_id"], []).append(received)

        sio.on("call.state", on_call_state, namespace=NAMESPACE)
        sio.connect(base, headers={"Cookie": cookie}, namespaces=[NAMESPACE], transports=["websocket"],
                    wait_timeout=10)
        clients.append(sio)
    conn.send("ready")
    while True:
        command = conn.recv()
        if command == "collect":
            with lock:
                batch = dict(times)
                times.clear()
            conn.send(batch)
        else:
            break
    closers = [threading.Thread(target=c.disconnect) for c in clients]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join(5)
    conn.send("stopped")


class Receipts:
    """Receipt times per call_sid from every client, hosted in processes of up to 10 clients each.

    time.monotonic() is the system-wide CLOCK_MONOTONIC on Linux, so times compare across processes.
    """

    PER_PROCESS = 10

    def __init__(self, base: str, cookie: str):
        self.base, self.cookie = base, cookie
        self.hosts: list[tuple[multiprocessing.Process, object]] = []
        self.count = 0
        self.times: dict[int, list[float]] = {}

    def grow_to(self, count: int) -> None:
        while self.count < count:
            k = min(self.PER_PROCESS, count - self.count)
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(target=_client_process, args=(self.base, self.cookie, k, child),
                                           daemon=True)
            proc.start()
            if not parent.poll(60) or parent.recv() != "ready":
                raise RuntimeError("a client process did not connect")
            self.hosts.append((proc, parent))
            self.count += k

    def collect(self) -> None:
        for _, conn in self.hosts:
            conn.send("collect")
        for _, conn in self.hosts:
            for sid, got in conn.recv().items():
                self.times.setdefault(sid, []).extend(got)

    def close(self) -> None:
        for _, conn in self.hosts:
            conn.send("stop")
        for proc, conn in self.hosts:
            conn.poll(10)
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
