"""ASGI middleware: request body size limit, load shedding and Prometheus request metrics."""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import ServerBusy, problem_response


class BodySizeLimit:
    """Answer 413 when a request body exceeds ``max_bytes`` (declared or streamed).

    A declared ``Content-Length`` over the limit is refused before the app runs. A body sent
    without one (chunked) is counted as it streams: once past the limit, the 413 is sent from
    here and the app is told the client left (``http.disconnect``), so it stops reading and
    whatever it answers to that is dropped. Raising inside ``receive`` would not do: FastAPI
    reads the body under ``except Exception`` and answers any failure there with a 400.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or {}).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        received, over, started, rejected = 0, False, False, False

        async def counting_receive() -> Message:
            nonlocal received, over, rejected
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    over = True
                    if not started:  # an app answering before it read the body keeps its answer
                        rejected = True
                        await self._reject(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not rejected:
                started = True
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "Request body too large",
            f"the request body exceeds the limit of {self.max_bytes} bytes "
            "(SHUDAO_MAX_BODY_BYTES); send less, or split it",
        )
        await response(scope, receive, send)


class Metrics:
    """Prometheus metrics of one app instance (its own registry)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shudao_http_requests", "HTTP requests by route and status", ["route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "shudao_http_request_seconds", "HTTP request latency by route", ["route"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )  # fmt: skip
        self.solver = Histogram(
            "shudao_solver_seconds", "Solver run time by solver", ["solver"],
            registry=self.registry, buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5),
        )  # fmt: skip


class RequestMetrics:
    """Count requests and time them, labelled by the route template (not the raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(name, str(status["code"])).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - start)


#: When the request being served must have reached its worker thread (monotonic seconds).
_QUEUE_DEADLINE: ContextVar[float] = ContextVar("shudao_queue_deadline", default=math.inf)
#: Paths answered even when the process is saturated: probes and metrics must see it so.
_UNSHED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def check_queue_deadline() -> None:
    """Raise :class:`ServerBusy` if the current request waited too long for a thread.

    Called by a synchronous endpoint as it starts (``api.deps.finishing_sessions``): an
    answer the client has likely given up on is not worth a database connection.

    Examples
    --------
    >>> check_queue_deadline()  # outside a request: no deadline
    >>> token = _QUEUE_DEADLINE.set(time.monotonic() - 1)
    >>> try:
    ...     check_queue_deadline()
    ... except ServerBusy as busy:
    ...     print(busy)
    ... finally:
    ...     _QUEUE_DEADLINE.reset(token)
    the server is busy: this request waited too long for a worker thread
    """
    if time.monotonic() > _QUEUE_DEADLINE.get():
        raise ServerBusy("the server is busy: this request waited too long for a worker thread")


class LoadShedding:
    """Answer 503 with Retry-After, at once, beyond ``max_requests`` requests in progress.

    A process works on one request at a time per thread; past a few dozen waiting, each new
    one only lengthens every other's wait until clients time out and the server stalls. The
    requests let in get a deadline of ``max_wait_s`` to reach their worker thread
    (:func:`check_queue_deadline`). Health probes and metrics are always answered.
    """

    def __init__(self, app: ASGIApp, max_requests: int, max_wait_s: float) -> None:
        self.app, self.max_requests, self.max_wait_s = app, max_requests, max_wait_s
        self.in_progress = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNSHED_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.max_requests:
            response = problem_response(
                503, "Server busy",
                f"this server process is working on {self.in_progress} requests, its limit; "
                "retry in a second",
                headers={"Retry-After": "1"},
            )  # fmt: skip
            await response(scope, receive, send)
            return
        self.in_progress += 1
        token = _QUEUE_DEADLINE.set(time.monotonic() + self.max_wait_s)
        try:
            await self.app(scope, receive, send)
        finally:
            _QUEUE_DEADLINE.reset(token)
            self.in_progress -= 1
