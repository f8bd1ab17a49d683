"""The HTTP/1.1 front door: a ThreadingHTTPServer that hands parsed requests to a dispatcher.

It knows nothing about functions: it reads a request (Content-Length or chunked body, capped),
calls `dispatcher(IncomingRequest) -> OutgoingResponse`, and writes the response with an exact
Content-Length, keeping the connection alive when the client allows. `stop()` unblocks idle
keep-alive connections and joins every connection thread.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger("tools.devhost.http")

MAX_BODY_BYTES = 100 * 1024 * 1024
IDLE_TIMEOUT_SECONDS = 120.0
_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}


@dataclass(frozen=True)
class IncomingRequest:
    """A request as read from the socket."""

    method: str
    url: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class OutgoingResponse:
    """What the dispatcher wants written back."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


Dispatcher = Callable[[IncomingRequest], OutgoingResponse]


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DevHost/1.0"
    timeout = IDLE_TIMEOUT_SECONDS
    server: DevHttpServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(65537)
            if not line.endswith(b"\n"):
                raise _BodyError(400, "incomplete chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BodyError(400, "bad chunk size") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers are ignored
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise _BodyError(413, "request body too large")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _BodyError(400, "incomplete chunked body")
            body += chunk

    def _read_body(self) -> bytes:
        encoding = self.headers.get("Transfer-Encoding", "")
        if encoding:
            if encoding.split(",")[-1].strip().lower() != "chunked":
                raise _BodyError(501, f"unsupported Transfer-Encoding {encoding!r}")
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        if not length_text.strip().isdigit():
            raise _BodyError(400, "bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise _BodyError(413, "request body too large")
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BodyError(400, "request body shorter than Content-Length")
        return body

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except _BodyError as exc:
            self.close_connection = True
            self._write(
                OutgoingResponse(
                    exc.status, [("Content-Type", "text/plain; charset=utf-8")], str(exc).encode()
                )
            )
            return
        target = self.path
        if not target.startswith("/"):
            target = urlsplit(target).path or "/"
        split = urlsplit(target)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = IncomingRequest(
            method=self.command.upper(),
            url=f"http://{host}{target}",
            path=split.path or "/",
            query=split.query,
            headers=list(self.headers.items()),
            body=body,
        )
        try:
            response = self.server.dispatcher(request)
        except Exception:  # the dispatcher should not raise; never leak details if it does
            logger.exception("dispatching %s %s failed", request.method, request.path)
            response = OutgoingResponse(
                500, [("Content-Type", "application/json")], b'{"error":"internal error"}'
            )
        self._write(response)

    def _write(self, response: OutgoingResponse) -> None:
        self.send_response(response.status)
        no_body = response.status in (204, 304) or 100 <= response.status < 200
        for name, value in response.headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if not no_body:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not no_body and self.command != "HEAD":
            self.wfile.write(response.body)
        self.wfile.flush()


for _method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"):
    setattr(_Handler, f"do_{_method}", _Handler._handle)


class DevHttpServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks connections so that stop() can unblock and join them."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Stop reading on every open connection (responses in flight still go out)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RD)
            except OSError:
                pass


class HttpServerThread:
    """Runs a DevHttpServer in a background thread."""

    def __init__(self, host: str, port: int, dispatcher: Dispatcher) -> None:
        self.server = DevHttpServer((host, port), dispatcher)
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="devhost-http",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The bound port (useful when 0 was asked for)."""
        return int(self.server.server_address[1])

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, unblock keep-alive connections, join their threads, close."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join()
        self.server.close_connections()
        self.server.server_close()  # joins connection threads (block_on_close)
