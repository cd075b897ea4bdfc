"""``shudao serve``: uvicorn, one process per worker, sharing one listening socket; a new
connection goes to the worker that holds the fewest.

uvicorn's own ``--workers`` shares one socket, and the first process to wake takes every
connection waiting (asyncio accepts them in a batch): under keep-alive clients one process
served all 16 benchmark connections while the other idled. A socket per process with
SO_REUSEPORT, tried next, lets the kernel spread connections by a hash of their addresses:
evenly on average, but 36 keep-alive connections fell 21/15 or 22/14 as often as 19/17, and the
busier worker set the latency tail (route plans on PostgreSQL under the benchmark's steady load:
p99 58 and 68 ms at 21/15 and 22/14, 42 ms at 19/17). So each worker counts the connections it
holds in memory the workers share, and one that holds two more than another leaves a new
connection to the others (:class:`FewestConnections`). A worker that dies is started again;
one that cannot start (bad settings) stops the service.

A service first claims its port (:func:`claim_port`) and refuses to start when anything else
serves it. Workers stop when their supervisor goes, however it goes (:func:`_follow_parent`),
and a stop takes at most :data:`STOP_S` seconds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import multiprocessing
import os
import select
import signal
import socket
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, MutableSequence
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from optimizer.errors import ShudaoError

APP = "api.main:create_app"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds open connections get to finish once a stop is asked for; then they are closed.
GRACEFUL_S = 5
#: Seconds a stop may take in all before the supervisor kills what is left.
STOP_S = 10
#: How many more connections than another worker a worker may hold and still take a new one.
SPREAD = 1
#: Seconds a worker ahead leaves a waiting connection to the others before it takes it itself:
#: the others may be busy with a request, or stuck. At 5 ms, 16 connections opened at once
#: under load fell 12/4 now and then: the worker left to take them had not had a core yet.
HAND_OVER_S = 0.02


class PortInUseError(ShudaoError, OSError):
    """``host:port`` is served by another process."""


def serve(host: str, port: int, workers: int) -> None:
    """Serve the app on ``host:port`` with ``workers`` processes until SIGINT or SIGTERM."""
    try:
        with claim_port(host, port):
            if workers > 1:
                _supervise(host, port, workers)
                return
            uvicorn.run(
                APP, factory=True, host=host, port=port, workers=workers,
                timeout_graceful_shutdown=GRACEFUL_S,
            )  # fmt: skip
    except PortInUseError as exc:
        sys.exit(f"cannot listen on {host}:{port}: {exc}; the service did not start")


def _supervise(host: str, port: int, workers: int) -> None:
    """Start ``workers`` server processes on one socket, restart those that die, stop them on
    a signal."""
    context = multiprocessing.get_context("spawn")
    try:
        listener = listen(host, port)
        # Listening at once holds the port (a socket that only binds shares it with any other
        # SO_REUSEADDR socket) and queues connections until a worker accepts them.
        listener.listen(_BACKLOG)
    except OSError as exc:
        raise _not_listening(exc) from exc
    # Each worker's count of the connections it holds; only it writes its own while it runs.
    held = context.RawArray("q", [_NOT_SERVING] * workers)

    def start(slot: int) -> BaseProcess:
        process = context.Process(
            target=_worker, args=(listener, held, slot, os.getpid()), name="shudao-server"
        )
        process.start()
        return process

    stopping = threading.Event()
    handlers = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in _STOP_SIGNALS}
    processes = [start(slot) for slot in range(workers)]
    said_serving = 0
    try:
        while not stopping.wait(0.5):
            for slot, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    sys.exit(f"a server worker failed to start on {host}:{port}; stopping")
                print(
                    f"server worker {process.pid} exited ({process.exitcode}); starting another",
                    flush=True,
                )
                held[slot] = _NOT_SERVING  # its connections went with it
                processes[slot] = start(slot)
            serving = sum(count != _NOT_SERVING for count in held)
            if serving != said_serving:
                print(serving_line(serving, workers), flush=True)
                said_serving = serving
    finally:
        listener.close()  # the workers' copies close as they stop: then nothing listens
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


def serving_line(serving: int, workers: int) -> str:
    """What the supervisor prints when the number of workers accepting connections changes.

    Examples
    --------
    >>> serving_line(2, 2)
    '2 of 2 server workers serving'
    """
    return f"{serving} of {workers} server workers serving"


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
                raise _not_listening(exc) from exc
        yield


def _not_listening(exc: OSError) -> PortInUseError:
    """Why binding the service's address failed, in words."""
    if exc.errno == errno.EADDRINUSE:
        return PortInUseError("another process listens on it; stop it or pick another --port")
    return PortInUseError(exc.strerror or str(exc))


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port``, for the workers to share.

    It is created as IPPROTO_TCP, not protocol 0: asyncio sets TCP_NODELAY only on sockets
    that say they are TCP, and without it Nagle holds the body of an answer behind its headers
    until the client acknowledges them, up to 40 ms later (delayed ACK).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    return listener


#: What a worker's count says while it is not serving (starting, or stopped).
_NOT_SERVING = 2**62
#: Connections the shared socket queues for the workers (uvicorn's default).
_BACKLOG = 2048


class FewestConnections(socket.socket):
    """The shared listening socket as one worker accepts from it.

    The worker takes a waiting connection unless it holds more than :data:`SPREAD` more than
    another serving worker; then it leaves it to the others for :data:`HAND_OVER_S` (asyncio
    asks again on each turn of the loop while the connection waits, and this worker yields the
    CPU each time), and takes it itself if none has; then it takes new ones at once until
    another worker takes or lets go of one. It counts the connections it holds in
    ``held[slot]``, from when asyncio starts serving (``listen``) to when it stops
    (``close``).

    Examples
    --------
    >>> held = [0, 0]  # two workers' counts; this is worker 1
    >>> with FewestConnections(listen("127.0.0.1", 0), held, slot=1) as listener:
    ...     listener.listen()
    ...     listener.setblocking(False)
    ...     held[1] = 3  # worker 1 holds 3 connections where worker 0 holds none
    ...     client = socket.create_connection(listener.getsockname())
    ...     try:
    ...         listener.accept()
    ...     except BlockingIOError as exc:
    ...         print(exc.strerror)
    ...     time.sleep(HAND_OVER_S)
    ...     connection, _ = listener.accept()  # worker 0 did not take it meanwhile
    ...     print(held)
    ...     connection.close()
    ...     print(held)
    ...     client.close()
    left to a worker holding fewer connections
    [0, 4]
    [0, 3]
    """

    def __init__(self, listener: socket.socket, held: MutableSequence[int], slot: int) -> None:
        family, kind, proto = listener.family, listener.type, listener.proto
        super().__init__(family, kind, proto, fileno=listener.detach())
        self._held, self._slot = held, slot
        #: When this worker began to leave a waiting connection to the others, and their
        #: counts then (None: it leaves none).
        self._left: tuple[float, tuple[int, ...]] | None = None
        #: The others' counts when they last let a connection wait out the hand-over: while
        #: they stay so (stuck, or without a core), this worker takes new connections at once.
        self._given_up: tuple[int, ...] | None = None
        self._waiting = select.poll()
        self._waiting.register(self, select.POLLIN)
        held[slot] = _NOT_SERVING

    def listen(self, *backlog: int) -> None:
        """Listen, and count this worker in."""
        super().listen(*backlog)
        self._held[self._slot] = 0

    def accept(self) -> tuple[socket.socket, Any]:
        """A waiting connection, counted; BlockingIOError while it is left to the others."""
        held = self._held
        others = tuple(held[k] for k in range(len(held)) if k != self._slot)
        # Once given up on, the others are left nothing until one takes or lets go of one.
        ahead = held[self._slot] > min(others, default=_NOT_SERVING) + SPREAD
        if ahead and others != self._given_up:
            if not self._waiting.poll(0):  # asyncio asks once more after each accept
                self._left = None
                raise BlockingIOError(errno.EAGAIN, "no connection waits")
            now_s = time.monotonic()
            if self._left is None or self._left[1] != others:  # another took what was left
                self._left = (now_s, others)
            if now_s - self._left[0] < HAND_OVER_S:
                # The CPU to the others meanwhile: on a busy machine the worker left to take it
                # may be waiting for one.
                os.sched_yield()
                raise BlockingIOError(errno.EAGAIN, "left to a worker holding fewer connections")
            self._given_up = others
        self._left = None
        accepted, address = super().accept()
        connection = _Counted(self.family, self.type, self.proto, fileno=accepted.detach())
        held[self._slot] += 1
        connection.uncount = weakref.finalize(connection, _uncount, held, self._slot)
        return connection, address

    def close(self) -> None:
        """Close this worker's copy of the socket, and count it out."""
        self._held[self._slot] = _NOT_SERVING
        super().close()


class _Counted(socket.socket):
    """An accepted connection that takes itself off its worker's count when closed, or when
    collected unclosed (asyncio drops one whose transport it could not make)."""

    uncount: weakref.finalize[Any, Any] | None = None

    def close(self) -> None:
        if self.uncount is not None:
            self.uncount()  # once: a finalizer runs at most once
        super().close()


def _uncount(held: MutableSequence[int], slot: int) -> None:
    if held[slot] != _NOT_SERVING:
        held[slot] -= 1


def _follow_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """Stop this process gracefully (SIGTERM) once its supervisor is gone, even by SIGKILL.

    An orphan is adopted by another process, so its parent pid changes.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="shudao-follow-parent").start()


def _worker(
    listener: socket.socket, held: MutableSequence[int], slot: int, parent_pid: int
) -> None:
    """One server process, accepting from the shared socket as ``held[slot]``."""
    _follow_parent(parent_pid)
    host, port = listener.getsockname()[:2]
    # asyncio's own loop: uvloop would accept on the socket's descriptor, not through it.
    config = uvicorn.Config(
        APP, factory=True, host=host, port=port, loop="asyncio", backlog=_BACKLOG,
        timeout_graceful_shutdown=GRACEFUL_S,
    )  # fmt: skip
    uvicorn.Server(config).run(sockets=[FewestConnections(listener, held, slot)])
