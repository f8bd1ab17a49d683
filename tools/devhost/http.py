"""The HTTP/1.1 front door of the local tools (this host and the Partner Center simulator).

werkzeug's threaded server reads each request (request line, headers, a Content-Length or chunked
body, capped at MAX_BODY_BYTES: 413) and frames each response (Content-Length, no body for HEAD,
204 and 304). The dispatcher gets a werkzeug `Request` whose body is already read, and returns
a `Response`, or None to close the connection without answering. Connections are kept alive:
werkzeug's own `run_wsgi` sends `Connection: close` on every response and then drains the socket,
so `_Handler.run_wsgi` replaces it. `stop()` unblocks idle keep-alive connections and joins every
connection thread.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from werkzeug import exceptions
from werkzeug.datastructures import Headers
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

logger = logging.getLogger("tools.devhost.http")

MAX_BODY_BYTES = 100 * 1024 * 1024
IDLE_TIMEOUT_SECONDS = 120.0
LISTEN_BACKLOG = 128  # pending connections: a burst of clients waits to be accepted, none is refused
_FRAMING = ("Connection", "Content-Length", "Transfer-Encoding", "Keep-Alive")  # the server's to set

Dispatcher = Callable[[Request], "Response | None"]


class Reply(Response):
    """A response with no Content-Type unless one is given (werkzeug's default is text/plain)."""

    default_mimetype = None


def read_body(request: Request) -> bytes:
    """Read the whole body; HTTPException 400 (malformed), 413 (too large) or 501."""
    encoding = request.headers.get("Transfer-Encoding", "")
    if encoding and encoding.split(",")[-1].strip().lower() != "chunked":
        raise exceptions.NotImplemented(f"unsupported Transfer-Encoding {encoding!r}")
    length = request.headers.get("Content-Length")
    if not encoding and length is not None and not length.strip().isdigit():
        raise exceptions.BadRequest("bad Content-Length")  # werkzeug would read it as 0
    # werkzeug ends a chunked body at the limit without an error: one byte more shows it goes on.
    request.max_content_length = MAX_BODY_BYTES + 1
    if len(body := request.get_data()) > MAX_BODY_BYTES:
        raise exceptions.RequestEntityTooLarge()
    return body


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    # Answers go out at once: with Nagle's algorithm a kept-alive connection waits ~40 ms for
    # the client's delayed ACK before each small answer.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS
    server: HttpServer

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug('%s "%s" %s', self.address_string(), self.requestline, code)

    def run_wsgi(self) -> None:
        request = Request(self.make_environ())
        request.headers = Headers(self.headers.items())  # as sent: the environ drops names with "_"
        response: Response | None
        try:
            read_body(request)  # all of it, so that a kept-alive connection goes on after it
        except exceptions.HTTPException as exc:
            self.close_connection = True  # the rest of the body is unread
            response = Reply(exc.description, exc.code, content_type="text/plain; charset=utf-8")
        else:
            try:
                response = self.server.dispatcher(request)
            except Exception:  # the dispatcher should not raise; never leak details if it does
                logger.exception("dispatching %s %s failed", request.method, request.path)
                response = Reply(b'{"error":"internal error"}', 500, content_type="application/json")
        if response is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        for name in _FRAMING:
            del response.headers[name]
        self.send_response(response.status_code)
        for name, value in response.get_wsgi_headers(request.environ).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        for chunk in response.get_app_iter(request.environ):
            self.wfile.write(chunk)
        self.wfile.flush()


class HttpServer(ThreadedWSGIServer):
    """werkzeug's threaded server, tracking connections so that stop() can unblock and join them."""

    def __init__(self, host: str, port: int, dispatcher: Dispatcher, server_version: str) -> None:
        self.dispatcher = dispatcher
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        # werkzeug exits the process when it cannot bind: bind here, so that the caller gets the OSError.
        with socket.create_server((host, port), backlog=LISTEN_BACKLOG) as listener:
            super().__init__(host, port, None, _Handler, fd=listener.fileno())  # type: ignore[arg-type]
        self._server_version = server_version  # the Server header

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away is not an error (werkzeug's handler ignores that); this is a bug.
        logger.warning("connection from %s failed", client_address, exc_info=True)

    def server_close(self) -> None:
        """Stop reading on every open connection (answers in flight still go out), then close
        the listener and join the connection threads."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)
        super().server_close()


class HttpServerThread:
    """Runs an HttpServer in a background thread."""

    def __init__(
        self,
        host: str,
        port: int,
        dispatcher: Dispatcher,
        *,
        name: str = "devhost-http",
        server_version: str = "DevHost/1.0",
    ) -> None:
        self.server = HttpServer(host, port, dispatcher, server_version)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port (useful when 0 was asked for)."""
        return int(self.server.port)

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, unblock keep-alive connections, join their threads, close."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join()  # serve_forever ends with server_close()
        self.server.server_close()
