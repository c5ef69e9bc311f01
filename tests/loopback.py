"""A loopback HTTP server for the download tests: serves a folder on 127.0.0.1, records every
request, and plays a lost connection (``/cut/NAME`` promises NAME's size, sends 100 bytes and
hangs up); `dead_url` is an address where nothing listens."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path.startswith("/cut/"):
            size = (Path(self.directory) / self.path[len("/cut/") :]).stat().st_size
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(b"\x1f\x8b" + bytes(98))
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@contextmanager
def serving(folder: Path) -> Iterator[http.server.ThreadingHTTPServer]:
    """Serve `folder` until the block ends; the server has `.url` (ending in /), `.folder` and
    `.requests` (the paths asked for)."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder))
    )
    server.requests = []
    server.folder = folder
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
