"""Serving an ASGI app over real HTTP in a test: a free port, uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """An ASGI app on 127.0.0.1 over real HTTP (uvicorn in a thread)."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        self.base_url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
