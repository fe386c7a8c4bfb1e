"""A real HTTP receiver on 127.0.0.1 (http.server in a thread, port 0), as a fixture."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server in a thread. `responses` are (status, delay seconds) used in
    order; after the last one, 200 immediately."""

    url: str
    requests: list[Received] = field(default_factory=list)
    responses: list[tuple[int, float]] = field(default_factory=list)
    redirect_to: str = ""


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            status, delay = state.responses.pop(0) if state.responses else (200, 0.0)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
