"""The HTTP face of `audit.witness`: `POST <prefix>/add-checkpoint` (c2sp.org/tlog-witness).

The standard library's threading HTTP server is enough: one small POST per checkpoint,
no sessions, no templates, and every rule lives in `audit.witness`, which never sees HTTP.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog

from audit.witness import MAX_REQUEST_BYTES, SIZE_CONTENT_TYPE, Witness

log = structlog.get_logger(__name__)


def make_server(witness: Witness, host: str, port: int, prefix: str = "") -> ThreadingHTTPServer:
    """A server bound to (host, port) answering add-checkpoint under `prefix`."""
    path = prefix.rstrip("/") + "/add-checkpoint"

    class Handler(BaseHTTPRequestHandler):
        server_version = "closeloop-witness"

        def do_POST(self) -> None:
            if self.path != path:
                self._send(HTTPStatus.NOT_FOUND, f"no such endpoint; POST {path}\n")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._send(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required\n")
                return
            if not 0 <= length <= MAX_REQUEST_BYTES:
                self._send(HTTPStatus.BAD_REQUEST, f"at most {MAX_REQUEST_BYTES} bytes\n")
                return
            response = witness.add_checkpoint(self.rfile.read(length))
            self._send(HTTPStatus(response.status), response.body, response.content_type)

        def do_GET(self) -> None:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, f"POST {path}\n")

        def _send(
            self, status: HTTPStatus, body: str, content_type: str = "text/plain; charset=utf-8"
        ) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            # One structured line per request; bodies are never logged.
            log.info("witness request", client=self.client_address[0], line=format % args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="witness", daemon=True)
    thread.start()
    return thread


__all__ = ["SIZE_CONTENT_TYPE", "make_server", "serve_in_thread"]
