"""``shudao serve``: uvicorn, one process per worker, each on its own SO_REUSEPORT socket.

uvicorn's own ``--workers`` shares one listening socket, and the first process to wake takes
every connection waiting (asyncio accepts them in a batch): under keep-alive clients one
process served all 16 benchmark connections while the other idled. With a socket per process
and SO_REUSEPORT, the kernel spreads new connections evenly over the processes. A worker that
dies is started again; one that cannot start (bad settings) stops the service.

SO_REUSEPORT would also let a second service bind the same port and take half its
connections, so a service first claims its port (:func:`claim_port`) and refuses to start
when anything else serves it. Workers stop when their supervisor goes, however it goes
(:func:`_follow_parent`), and a stop takes at most :data:`STOP_S` seconds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from optimizer.errors import ShudaoError

APP = "api.main:create_app"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds open connections get to finish once a stop is asked for; then they are closed.
GRACEFUL_S = 5
#: Seconds a stop may take in all before the supervisor kills what is left.
STOP_S = 10


class PortInUseError(ShudaoError, OSError):
    """``host:port`` is served by another process."""


def serve(host: str, port: int, workers: int) -> None:
    """Serve the app on ``host:port`` with ``workers`` processes until SIGINT or SIGTERM."""
    try:
        with claim_port(host, port):
            if workers > 1 and hasattr(socket, "SO_REUSEPORT"):
                _supervise(host, port, workers)
                return
            uvicorn.run(
                APP, factory=True, host=host, port=port, workers=workers,
                timeout_graceful_shutdown=GRACEFUL_S,
            )  # fmt: skip
    except PortInUseError as exc:
        sys.exit(f"cannot listen on {host}:{port}: {exc}; the service did not start")


def _supervise(host: str, port: int, workers: int) -> None:
    """Start ``workers`` server processes, restart those that die, stop them on a signal."""
    context = multiprocessing.get_context("spawn")

    def start() -> BaseProcess:
        process = context.Process(
            target=_worker, args=(host, port, os.getpid()), name="shudao-server"
        )
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
        deadline = time.monotonic() + STOP_S
        for process in processes:
            process.join(timeout=max(deadline - time.monotonic(), 0))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def port_lock_path(host: str, port: int) -> Path:
    """The lock file :func:`claim_port` holds for ``host:port``; it names the pid that last held it.

    Examples
    --------
    >>> port_lock_path("127.0.0.1", 8000).name
    'shudao-serve-127.0.0.1-8000.lock'
    """
    return Path(tempfile.gettempdir()) / f"shudao-serve-{host.replace(':', '_')}-{port}.lock"


@contextlib.contextmanager
def claim_port(host: str, port: int) -> Iterator[None]:
    """Hold ``host:port`` for this service; :class:`PortInUseError` if something else serves it.

    Two checks: a lock file per address, held while the service runs, so two Shudao services
    starting at the same moment cannot both pass; and a bind without SO_REUSEPORT, which fails
    while any process (Shudao or not, with or without SO_REUSEPORT) listens on the port.

    Examples
    --------
    >>> with socket.socket() as taken:
    ...     taken.bind(("127.0.0.1", 0))
    ...     taken.listen()
    ...     port = taken.getsockname()[1]
    ...     try:
    ...         with claim_port("127.0.0.1", port):
    ...             pass
    ...     except PortInUseError as exc:
    ...         print(str(exc).split(";")[0])
    another process listens on it
    """
    with port_lock_path(host, port).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            raise PortInUseError(
                f"another Shudao service (pid {lock.read().strip()}) serves it"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise PortInUseError(
                        "another process listens on it; stop it or pick another --port"
                    ) from exc
                raise PortInUseError(exc.strerror or str(exc)) from exc
        yield


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


def _follow_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """Stop this process gracefully (SIGTERM) once its supervisor is gone, even by SIGKILL.

    An orphan is adopted by another process, so its parent pid changes.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="shudao-follow-parent").start()


def _worker(host: str, port: int, parent_pid: int) -> None:
    """One server process on its own listening socket."""
    _follow_parent(parent_pid)
    try:
        listener = listen(host, port)
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(
        APP, factory=True, host=host, port=port, timeout_graceful_shutdown=GRACEFUL_S
    )
    uvicorn.Server(config).run(sockets=[listener])
