"""Run a uvicorn server in a background thread on a port the OS picks (tests, benchmarks).

The socket is bound here (port 0) before uvicorn starts, so the port is known without a race
and parallel test workers never collide.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int
    scheme: str  # "https" or "http"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@contextmanager
def serve_in_thread(config: uvicorn.Config, *, startup_timeout: float = 10.0) -> Iterator[RunningServer]:
    """Start ``config`` (its ``port`` is ignored), yield where it listens, stop it on exit."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as error:  # noqa: BLE001 - reported to the starting thread
            failure.append(error)

    thread = threading.Thread(target=run, name=f"uvicorn:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failure or not thread.is_alive():
            sock.close()
            raise RuntimeError(f"uvicorn did not start: {failure[0] if failure else 'thread exited'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"uvicorn did not start within {startup_timeout} s")
        time.sleep(0.01)
    try:
        yield RunningServer(host=config.host, port=port, scheme="https" if config.is_ssl else "http")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
