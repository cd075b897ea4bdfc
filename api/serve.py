"""``shudao serve``: uvicorn, one process per worker, each on its own SO_REUSEPORT socket.

uvicorn's own ``--workers`` shares one listening socket, and the first process to wake takes
every connection waiting (asyncio accepts them in a batch): under keep-alive clients one
process served all 16 benchmark connections while the other idled. With a socket per process
and SO_REUSEPORT, the kernel spreads new connections evenly over the processes. A worker that
dies is started again; one that cannot start (port taken, bad settings) stops the service.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import threading
from multiprocessing.process import BaseProcess

import uvicorn
from uvicorn.config import STARTUP_FAILURE

APP = "api.main:create_app"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(host: str, port: int, workers: int) -> None:
    """Serve the app on ``host:port`` with ``workers`` processes until SIGINT or SIGTERM."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers)
        return
    context = multiprocessing.get_context("spawn")

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(host, port), name="shudao-server")
        process.start()
        return process

    stopping = threading.Event()
    handlers = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in _STOP_SIGNALS}
    processes = [start() for _ in range(workers)]
    try:
        while not stopping.wait(0.5):
            for i, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    sys.exit(f"a server worker failed to start on {host}:{port}; stopping")
                print(f"server worker {process.pid} exited ({process.exitcode}); starting another")
                processes[i] = start()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=30)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` that other processes may bind too (SO_REUSEPORT).

    It is created as IPPROTO_TCP, not protocol 0: asyncio sets TCP_NODELAY only on sockets
    that say they are TCP, and without it Nagle holds the body of an answer behind its headers
    until the client acknowledges them, up to 40 ms later (delayed ACK).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    return listener


def _worker(host: str, port: int) -> None:
    """One server process on its own listening socket."""
    try:
        listener = listen(host, port)
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(APP, factory=True, host=host, port=port)
    uvicorn.Server(config).run(sockets=[listener])
