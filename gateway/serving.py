"""Serving on several worker processes, each with its own listening socket.

uvicorn's own supervisor binds one socket and every worker inherits it.
A worker's event loop, once woken, accepts every connection waiting in
that one queue, so keep-alive clients that connect together (an
integration engine's pool, a load generator) all land on whichever worker
woke first: measured with 16 connections, one process served them all and
the second core stayed idle. Here, on Linux, each worker binds its own
socket to the same address with ``SO_REUSEPORT``, and the kernel spreads
new connections over the workers by a hash of the address pair (nginx's
``reuseport``). Where the kernel does not balance such sockets, the
caller falls back to uvicorn's supervisor (:func:`balanced_by_kernel`).

The supervisor restarts a worker that dies while serving, stops everything
when one fails to start (the same failure would repeat), and on SIGINT or
SIGTERM asks every worker to finish its calls and waits for them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType

log = logging.getLogger("gateway.serving")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STARTUP_FAILURE = 3  # uvicorn's exit code when the app or its lifespan fails to start
EARLY_END = 10.0  # seconds: a worker that ends sooner failed to start, and a new one would fail alike
STOP_GRACE = 30.0  # seconds a worker has to finish its calls after SIGTERM


def balanced_by_kernel() -> bool:
    """Whether sockets sharing a port get connections spread over them
    (Linux since 3.9; the BSDs and macOS hand them all to one socket)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A socket bound with ``SO_REUSEPORT`` to ``host:port`` and listening."""
    sock = _bound(host, port)
    sock.listen(backlog)
    return sock


def _bound(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to serve (picklable: workers are spawned)."""

    factory: str  # "module:function" returning the ASGI app, called in the worker
    host: str
    port: int
    log_level: str  # DEBUG, INFO, WARNING, ERROR
    app_dir: str | None = None  # put on sys.path first (the benchmark's reference app)


def _worker(spec: WorkerSpec) -> None:
    """A worker process: its own socket, its own app, one uvicorn server."""
    import uvicorn

    # Out of the terminal's process group: Ctrl-C reaches the supervisor
    # alone, which then stops each worker once (a second signal would make
    # uvicorn drop the calls in progress).
    os.setpgrp()
    _end_with(os.getppid())
    logging.basicConfig(level=getattr(logging, spec.log_level), format=LOG_FORMAT)
    if spec.app_dir:
        sys.path.insert(0, spec.app_dir)
    sock = listening_socket(spec.host, spec.port)
    config = uvicorn.Config(spec.factory, factory=True, host=spec.host, port=spec.port, log_level=spec.log_level.lower())
    uvicorn.Server(config).run(sockets=[sock])


def _end_with(parent: int) -> None:
    """Stop this worker if the supervisor goes away without stopping it
    (killed): an orphan would go on holding the port."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


class Supervisor:
    """Runs ``workers`` processes of :func:`_worker` until told to stop."""

    def __init__(self, spec: WorkerSpec, workers: int, *, early_end: float = EARLY_END) -> None:
        self.spec = spec
        self.count = workers
        self.early_end = early_end
        self.context = multiprocessing.get_context("spawn")  # a fresh interpreter: no engine or thread crosses over
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.stopping = False
        self.started: dict[int | None, float] = {}

    def _start_one(self) -> multiprocessing.process.BaseProcess:
        process = self.context.Process(target=_worker, args=(self.spec,), name="care-gateway-worker")
        process.start()
        self.started[process.pid] = time.monotonic()
        log.info("worker process %s started", process.pid)
        return process

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            log.info("%s received: stopping the workers", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        """Serve; the exit status: 0 after a requested stop, 1 if a worker could not start."""
        # Fail here, once and clearly, if the address is taken by something
        # that did not ask to share it (a bound socket that does not listen
        # receives no connection).
        try:
            _bound(self.spec.host, self.spec.port).close()
        except OSError as exc:
            log.error("cannot listen on %s:%d: %s", self.spec.host, self.spec.port, exc.strerror or exc)
            return 1
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        status = 0
        try:
            self.processes = [self._start_one() for _ in range(self.count)]
            while not self.stopping:
                time.sleep(0.2)
                for index, process in enumerate(self.processes):
                    if process.is_alive() or self.stopping:
                        continue
                    if process.exitcode == STARTUP_FAILURE or time.monotonic() - self.started[process.pid] < self.early_end:
                        log.error("worker process %s ended as it started (exit code %s, see above): stopping",
                                  process.pid, process.exitcode)
                        self.stopping, status = True, 1
                        break
                    log.warning("worker process %s ended (exit code %s): starting another", process.pid, process.exitcode)
                    self.processes[index] = self._start_one()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the calls in progress
        deadline = time.monotonic() + STOP_GRACE
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker process %s did not stop in %.0f s: killed", process.pid, STOP_GRACE)
                process.kill()
                process.join()
        log.info("all worker processes stopped")


def serve_workers(spec: WorkerSpec, workers: int) -> int:
    """Serve ``spec.factory`` on ``workers`` processes, each with its own
    ``SO_REUSEPORT`` socket; returns the exit status."""
    if spec.port == 0:
        raise ValueError("several workers need a fixed port: each binds it on its own")
    return Supervisor(spec, workers).run()
