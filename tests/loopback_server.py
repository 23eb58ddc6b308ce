"""A loopback HTTP server that serves a folder and can inject faults, for download tests.

Both the library tests and the CLI tests need the same server, so it lives here, beside the
tests, importable from any of them (pytest puts this folder on ``sys.path`` for
``tests/conftest.py``); it is not part of the installed package. It binds 127.0.0.1 on a free port, runs in a daemon thread and is shut down by the
context manager; every request is recorded so tests can count what was fetched.

Faults, keyed by the path relative to the served folder (e.g. ``"blur/1-1_s001.png"``):

* ``corrupt[path] = n`` - the next ``n`` responses flip one byte of the file (wrong SHA-256).
* ``cut[path] = n`` - the next ``n`` responses announce the full ``Content-Length`` but send
  only half of the body, then close the connection.

Use ``n = -1`` for "every time".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class LoopbackServer:
    """Handle returned by :func:`serve_folder`: its URL, fault settings and request log."""

    root: Path
    url: str = ""
    corrupt: dict[str, int] = field(default_factory=dict)
    cut: dict[str, int] = field(default_factory=dict)
    #: relative paths requested, in order
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, faults: dict[str, int], relpath: str) -> bool:
        """Consume one use of a fault for ``relpath``; True if it applies to this request."""
        with self.lock:
            remaining = faults.get(relpath, 0)
            if remaining == 0:
                return False
            if remaining > 0:
                faults[relpath] = remaining - 1
            return True


def _make_handler(server_state: LoopbackServer, prefix: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            path = unquote(urlsplit(self.path).path)
            if not path.startswith(prefix + "/"):
                self.send_error(404)
                return
            relpath = path[len(prefix) + 1 :]
            with server_state.lock:
                server_state.requests.append(relpath)
            root = server_state.root.resolve()
            file = (root / relpath).resolve()
            if root not in file.parents or not file.is_file():
                self.send_error(404)
                return
            body = file.read_bytes()
            if server_state.take_fault(server_state.corrupt, relpath):
                middle = len(body) // 2
                body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
            cut = server_state.take_fault(server_state.cut, relpath)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            if cut:
                self.send_header("Connection", "close")
            self.end_headers()
            if cut:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@contextmanager
def serve_folder(root: str | Path, *, prefix: str = "/datasets") -> Iterator[LoopbackServer]:
    """Serve ``root`` on ``http://127.0.0.1:<free port><prefix>/`` for the ``with`` block.

    ``server.url`` is the base URL to pass as ``base_url=`` (files are at ``url/<relpath>``).
    """
    state = LoopbackServer(root=Path(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state, prefix.rstrip("/")))
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    state.url = f"http://{host}:{port}{prefix.rstrip('/')}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
