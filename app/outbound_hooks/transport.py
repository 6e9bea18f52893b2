"""Posting to a CRM's endpoint without being turned against our own network.

The host is resolved once, every address it resolves to must be on the public internet (not
private, loopback, link-local, unique-local, carrier-grade NAT, multicast, reserved or
unspecified), and the connection goes to the address that was checked (TLS still verifies the
certificate against the host name), so a second lookup cannot swap in another address. Redirects
are never followed: a 3xx answer is a failed delivery like any other non-2xx.

A worker delivering a batch resolves each host once for the batch (`Lookups`: every delivery in
it goes to the address checked then) and keeps connections alive between deliveries
(`Connections`, keyed by that checked address, so a host that resolves elsewhere later gets a
new connection only once the new address has passed the check).

Plain HTTP and loopback addresses (a receiver on this machine) are allowed only with
WEBHOOKS_ALLOW_INSECURE_TARGETS, which the configuration refuses outside tests and local
development; private, link-local and the other non-public addresses are refused even then.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

USER_AGENT = "Omnivox-Webhooks/1"
MAX_RESPONSE_BYTES = 64 * 1024


class TargetRefused(Exception):
    """The URL may not be posted to; the message says why, in words for an admin."""


@dataclass
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


@dataclass
class Result:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def insecure_allowed() -> bool:
    return bool(current_app.config.get("WEBHOOKS_ALLOW_INSECURE_TARGETS"))


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to now (the tests replace this to play DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


# Not reachable on the public internet by IANA's special-purpose registry, though older Pythons'
# `is_global` says otherwise (CVE-2024-4032): checked by hand, whatever the interpreter.
NOT_GLOBAL = tuple(ipaddress.ip_network(n) for n in (
    "192.0.0.0/24", "192.88.99.0/24", "198.18.0.0/15", "2001::/23", "2001:db8::/32", "64:ff9b:1::/48"))


def address_problem(address: str) -> str | None:
    """Why this address is not on the public internet, in words; None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    elif ip.version == 6 and ip.sixtofour is not None:
        # 6to4 (2002::/16) carries an IPv4 address: judged by the address it wraps.
        inner = address_problem(str(ip.sixtofour))
        if inner is not None:
            return f"a 6to4 address wrapping {inner}"
    if any(ip.version == net.version and ip in net for net in NOT_GLOBAL):
        return "not a public internet address"
    checks = (
        (ip.is_unspecified, "an unspecified address"), (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"), (ip.is_multicast, "a multicast address"),
        (ip.version == 4 and ip in ipaddress.ip_network("100.64.0.0/10"), "a carrier-grade NAT address"),
        (ip.version == 6 and ip in ipaddress.ip_network("fc00::/7"), "a unique-local address"),
        (ip.is_reserved, "a reserved address"), (ip.is_private, "a private address"),
        (not ip.is_global, "not a public internet address"),
    )
    return next((words for hit, words in checks if hit), None)


def check_url(url: str, lookups: Lookups | None = None) -> Target:
    """Parse, resolve and check `url`; raises TargetRefused with the reason in words. With
    `lookups`, a host already resolved in this batch is not resolved again."""
    lookups = lookups or Lookups()
    insecure = lookups.insecure
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("That is not a valid web address.") from None
    if parts.scheme != "https" and not (insecure and parts.scheme == "http"):
        raise TargetRefused("The address must start with https:// (deliveries are sent over HTTPS only).")
    if not parts.hostname:
        raise TargetRefused("The address has no host name.")
    if parts.username or parts.password:
        raise TargetRefused("Leave user names and passwords out of the address; deliveries are signed instead.")
    port = port or (443 if parts.scheme == "https" else 80)
    address = lookups.address(parts.hostname, port)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, address)


def checked_address(host: str, port: int, insecure: bool) -> str:
    """Resolve `host` now; the address to connect to, if every address it has is public."""
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise TargetRefused(f"The host name {host} could not be found.") from None
    if not addresses:
        raise TargetRefused(f"The host name {host} could not be found.")
    for address in addresses:
        problem = address_problem(address)
        if problem and not (insecure and _is_loopback(address)):
            subject = f"{host} is" if address == host else f"{host} resolves to {address},"
            raise TargetRefused(f"{subject} {problem}: Omnivox sends only to public internet addresses.")
    return addresses[0]


def _is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback


class Lookups:
    """The host names resolved and checked for one batch of deliveries: each once, however many
    deliveries go to it (threads asking for a name being resolved wait for that answer). Made
    where the app's configuration is at hand; used from any thread."""

    def __init__(self):
        self.insecure = insecure_allowed()
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, int], Future] = {}

    def address(self, host: str, port: int) -> str:
        key = (host, port)
        with self._lock:
            answer, mine = self._answers.get(key), key not in self._answers
            if mine:
                answer = self._answers[key] = Future()
        if mine:
            try:
                answer.set_result(checked_address(host, port, self.insecure))
            except TargetRefused as refused:
                answer.set_exception(refused)
        return answer.result()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        # http.client sends the headers and the body apart: without this, on a kept-alive
        # connection the body would wait for the receiver's delayed ACK of the headers.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # see _PinnedHTTPConnection
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Connections:
    """Kept-alive connections, one idle list per endpoint address: a delivery reuses one its
    endpoint answered on before instead of opening a new one (and, for HTTPS, a new TLS session).

    A connection is keyed by the checked address it goes to, so one is reused only while the
    host still resolves to that address; one idle longer than IDLE_SECONDS is closed instead
    (servers drop idle connections, and a stale one costs a failed send)."""

    IDLE_SECONDS = 15.0
    MAX_IDLE_PER_TARGET = 8

    def __init__(self):
        self._lock = threading.Lock()
        self._idle: dict[tuple, list[tuple[http.client.HTTPConnection, float]]] = {}

    @staticmethod
    def key(target: Target, timeout: float) -> tuple:
        return target.scheme, target.host, target.port, target.address, timeout

    def take(self, target: Target, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to the target, and whether it was used before."""
        key, now = self.key(target, timeout), time.monotonic()
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                connection, since = idle.pop()
                if now - since <= self.IDLE_SECONDS:
                    return connection, True
                connection.close()
        kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        return kind(target.host, target.port, target.address, timeout), False

    def give_back(self, target: Target, timeout: float, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(self.key(target, timeout), [])
            if len(idle) < self.MAX_IDLE_PER_TARGET:
                idle.append((connection, time.monotonic()))
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection, _ in connections:
                connection.close()


# A kept-alive connection the server had already closed fails like this before any answer: the
# request is sent again on a new connection (receivers deduplicate on the event id anyway).
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, *, lookups: Lookups | None = None,
         connections: Connections | None = None) -> Result:
    """POST `body` once: the status code and time taken, or why no answer came. Never raises.

    `lookups` shares host name checks within a batch; `connections` keeps connections alive
    between deliveries (without it, each POST has a connection of its own)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url, lookups)
    except TargetRefused as refused:
        return Result(None, took(), f"Not sent: {refused}")
    pool = connections or Connections()
    try:
        status = _send(pool, target, body, {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                                            **headers}, timeout)
        return Result(status, took(), None)
    except (socket.timeout, TimeoutError):
        return Result(None, took(), f"No answer within {timeout:g} second{'' if timeout == 1 else 's'}.")
    except ssl.SSLError as exc:
        return Result(None, took(), f"The secure connection failed: {exc.reason or exc}.")
    except (OSError, http.client.HTTPException) as exc:
        return Result(None, took(), f"Could not connect: {exc.__class__.__name__} {exc}".strip())
    finally:
        if connections is None:
            pool.close()


def _send(pool: Connections, target: Target, body: bytes, headers: dict[str, str], timeout: float) -> int:
    connection, reused = pool.take(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
    except _STALE:
        connection.close()
        if not reused:
            raise
        return _send(pool, target, body, headers, timeout)
    except BaseException:
        connection.close()
        raise
    response.read(MAX_RESPONSE_BYTES)
    if response.isclosed() and not response.will_close:
        pool.give_back(target, timeout, connection)
    else:  # the server closes it, or more answer is left than we read
        connection.close()
    return response.status
