"""A stand-in for Sentry's ingest: an HTTP server on a free loopback port that records every envelope POSTed to
it, so a test sees exactly the bytes sentry-sdk would send."""

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.test.client import ClientHandler
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

try:
    import brotli  # sentry-sdk compresses with it when installed, else with gzip
except ImportError:
    brotli = None


class EnvelopeServer:
    """`with EnvelopeServer() as server:` serves at `server.dsn`; `server.envelopes` holds the bodies received
    (decompressed), `server.events()` the error events among them."""

    def __init__(self):
        self.envelopes: list[bytes] = []
        self.paths: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br" and brotli is not None:
                    body = brotli.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding:
                    raise AssertionError(f"unexpected Content-Encoding {encoding!r}")
                recorder.paths.append(self.path)
                recorder.envelopes.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://public@127.0.0.1:{self._server.server_address[1]}/1"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def items(self) -> list[tuple[dict, bytes]]:
        """Every (item header, payload) of every envelope received."""
        return [item for envelope in self.envelopes for item in envelope_items(envelope)]

    def events(self) -> list[dict]:
        return [json.loads(payload) for header, payload in self.items() if header.get("type") == "event"]


def envelope_items(envelope: bytes) -> list[tuple[dict, bytes]]:
    """Sentry's envelope format: a header line, then per item a header line and its payload, which is
    `length` bytes when the item header says so, else the rest of the line."""
    _, _, rest = envelope.partition(b"\n")
    items = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return items


class SentryWsgiClientHandler(ClientHandler):
    """The test client's handler wrapped the way sentry-sdk wraps Django's WSGIHandler under gunicorn
    (SentryWsgiMiddleware: a fresh isolation scope per request, which adds the request's URL, query string
    and headers to its events). Use: `client.handler = SentryWsgiClientHandler(enforce_csrf_checks=True)`."""

    def __call__(self, environ):
        responses = []

        def application(environ, start_response):
            responses.append(ClientHandler.__call__(self, environ))
            return []

        SentryWsgiMiddleware(application)(environ, lambda status, headers, exc_info=None: None)
        return responses[0]
