"""The FastAPI application: ``create_app(settings)``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from importlib import resources

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import problems
from api.db.session import database_ready, make_engine, make_sessionmaker, migrate
from api.jobs.worker import Worker
from api.keycache import KeyCache
from api.middleware import BodySizeLimit, LoadShedding, Metrics, RequestMetrics
from api.planning import Planner
from api.ratelimit import RateLimiter
from api.routes import bookings as booking_routes
from api.routes import jobs as job_routes
from api.routes import keys as key_routes
from api.routes import network as network_routes
from api.routes import route_plans
from api.routes import warehouses as warehouse_routes
from api.schemas.problems import ERROR_RESPONSES
from api.settings import Settings
from api.web import install as install_web
from network_data import Network, load_network
from optimizer.model import Shipment
from optimizer.routing import plan_routes

#: Where FastAPIOffline serves its copies of Swagger UI and ReDoc.
OFFLINE_DOCS = "/static-offline-docs"
#: ReDoc's page may load only from this service: no request leaves the machine.
REDOC_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:"
)

#: Seconds a stopping service waits for its job runner: with uvicorn's 5 s for open
#: connections, a stop stays within the 10 s ``shudao serve`` allows (api.serve.STOP_S).
RUNNER_STOP_S = 4.0


def _warm_up(network: Network) -> None:
    """Compile the routing arrays, JIT kernels and place-name index before the first request
    (the first plan naming a city paid 60 ms for the index)."""
    ready = datetime(2026, 11, 23, tzinfo=UTC)
    plan_routes(network, Shipment("CNCKG-RLY", "CNQZH", 100, 1, ready_at=ready))
    network.find_city("Chongqing")


def _serve_lean(threads: int) -> None:
    """Tune the process for serving once the network is loaded and compiled.

    Sync endpoints run on at most ``threads`` worker threads, one by default as in gunicorn's
    sync workers: the work is Python and numba under one GIL, and 40 threads fighting for it
    spent 2 ms of CPU per route plan more and stretched the latency tail. The hot endpoints
    (authentication, route plans) run on the event loop itself, but for long route plans,
    which have threads of their own (:mod:`api.planning`). ``gc.freeze`` moves the
    loaded network out of the collector's sight: a full collection over it took 150 ms.
    """
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads
    gc.collect()
    gc.freeze()


@cache
def _redoc_script() -> bytes:
    """FastAPIOffline's copy of ReDoc, its one CDN address (the logo under the menu) pointed at
    the service's own icon."""
    script = resources.files("fastapi_offline") / "static" / "redoc.standalone.js"
    return script.read_bytes().replace(
        b"https://cdn.redoc.ly/redoc/logo-mini.svg", f"{OFFLINE_DOCS}/favicon.png".encode()
    )


def create_app(settings: Settings | None = None, *, network: Network | None = None) -> FastAPI:
    """Build the service: database migrated, network loaded, routes, limits and metrics.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     app = create_app(Settings(database_url=f"sqlite:///{pathlib.Path(tmp) / 'x.db'}"))
    ...     with TestClient(app) as client:
    ...         print(client.get("/healthz").json())
    {'status': 'ok'}
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A connection per worker thread, and the event loop's: requests never hold one while
        # they wait (api.deps).
        engine = make_engine(
            settings.database_url, connections=settings.threads + 1,
            pool_timeout_s=settings.database_wait_seconds,
        )  # fmt: skip
        migrate(engine)
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        app.state.network = network or load_network(settings.data_dir, tariffs=settings.tariffs)
        app.state.planner = Planner(settings.plan_threads)
        _warm_up(app.state.network)
        _serve_lean(settings.threads)
        # The job runner has a pool of its own: it waits for the database, requests do not.
        runner_engine = make_engine(settings.database_url)
        worker = Worker(
            make_sessionmaker(runner_engine), app.state.network,
            lease_seconds=settings.job_lease_seconds, dask_scheduler=settings.dask_scheduler,
            slots=settings.job_slots,
        )  # fmt: skip
        app.state.runner = worker if settings.inprocess_worker else None
        if settings.inprocess_worker:
            worker.start()
        yield
        worker.close(timeout_s=RUNNER_STOP_S)
        runner_engine.dispose()
        engine.dispose()

    # Swagger UI and ReDoc from the package's own copies, not a CDN: both work offline.
    app = FastAPIOffline(
        redoc_url=None,
        title="Shudao",
        version="0.1.0",
        summary="Multimodal freight routing for the Sichuan-Chongqing and Anhui corridors.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app.state.key_cache = KeyCache(settings.key_cache_seconds)
    problems.install(app)
    app.include_router(route_plans.router)
    app.include_router(network_routes.router)
    app.include_router(job_routes.router)
    app.include_router(key_routes.router)
    app.include_router(warehouse_routes.router)
    app.include_router(booking_routes.router)
    install_web(app)  # the web planner at /

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> Response:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json", title="Shudao - ReDoc",
            redoc_js_url="/redoc.standalone.js", with_google_fonts=False,
            redoc_favicon_url=f"{OFFLINE_DOCS}/favicon.png",
        )  # fmt: skip
        page.headers["Content-Security-Policy"] = REDOC_POLICY
        return page

    @app.get("/redoc.standalone.js", include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(_redoc_script(), media_type="text/javascript")

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "Not ready"}})
    def readyz(request: Request) -> JSONResponse:
        """The database answers, the network is loaded and the in-process job runner runs.

        ``runner`` (when the service runs jobs itself): whether its loop is running and when
        it last turned and last succeeded, and its last error.
        """
        checks = {
            "database": database_ready(request.app.state.engine),
            "network": getattr(request.app.state, "network", None) is not None,
        }
        body: dict[str, object] = {"checks": checks}
        runner: Worker | None = getattr(request.app.state, "runner", None)
        if runner is not None:
            checks["runner"] = runner.health.ok()
            body["runner"] = runner.health.to_dict()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, **body}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics(request: Request) -> Response:
        """Prometheus text: requests by route and status, latencies, solver run times."""
        body = generate_latest(request.app.state.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(
        LoadShedding, max_requests=settings.max_requests_in_progress,
        max_wait_s=settings.request_queue_seconds,
    )  # fmt: skip
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
