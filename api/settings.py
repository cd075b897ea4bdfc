"""The service's settings: one object, read from ``SHUDAO_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of the HTTP service.

    Examples
    --------
    >>> Settings(database_url="sqlite:///x.db").rate_limit_per_minute
    600
    """

    model_config = SettingsConfigDict(env_prefix="SHUDAO_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./shudao.db",
        description="SQLAlchemy URL; a SQLite file unless set (postgresql+psycopg://...)",
    )
    data_dir: Path | None = Field(default=None, description="Dataset directory (bundled if unset).")
    tariffs: Path | None = Field(default=None, description="Contract rates overriding tariffs.")
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Requests per key and minute."
    )
    rate_limit_burst: int = Field(default=60, ge=1, description="Requests a key may make at once.")
    key_cache_seconds: float = Field(
        default=5.0, ge=0, le=300,
        description="How long a server process trusts a key it has checked; a key revoked "
        "elsewhere stops working within this time (0: check every request).",
    )  # fmt: skip
    max_body_bytes: int = Field(default=4_000_000, ge=1024, description="Largest request body.")
    inprocess_worker: bool = Field(default=True, description="Run jobs inside the service.")
    dask_scheduler: str | None = Field(
        default=None, description="Run job bodies on this Dask scheduler (tcp://host:8786)."
    )
    job_lease_seconds: float = Field(
        default=15.0, gt=0, description="A running job whose worker is silent this long is retried."
    )
    threads: int = Field(
        default=1, ge=1, le=64,
        description="Requests a server process works on at once (scale with --workers).",
    )  # fmt: skip
    plan_threads: int = Field(
        default=2, ge=1, le=64,
        description="Route plans a server process works on at once on threads of their own: "
        "those too long for the event loop, on a large network (api.planning).",
    )  # fmt: skip
    max_requests_in_progress: int = Field(
        default=64, ge=1, le=10_000,
        description="Requests a server process accepts at once; beyond, it answers 503 with "
        "Retry-After at once instead of queueing work its clients would give up on.",
    )  # fmt: skip
    request_queue_seconds: float = Field(
        default=2.0, gt=0, le=60,
        description="Longest a request may wait for a worker thread (a route plan for a plan "
        "thread) before it is answered 503.",
    )  # fmt: skip
    database_wait_seconds: float = Field(
        default=0.5, gt=0, le=60,
        description="Longest a request waits for a pooled database connection before it is "
        "answered 503 with Retry-After.",
    )  # fmt: skip
    job_slots: int = Field(
        default=2, ge=1, le=32,
        description="Jobs one runner (the service's in-process one, or a `shudao worker`) works "
        "on at once, each in a child process of its own; the last free slot only takes a job "
        "of an organisation that has none running, so one organisation cannot fill them all.",
    )  # fmt: skip
    job_max_active_per_organisation: int = Field(
        default=10, ge=1, le=10_000,
        description="Jobs an organisation may have queued or running at once; one more is "
        "answered 429.",
    )  # fmt: skip
    job_seconds_per_hour: float = Field(
        default=3600.0, gt=0,
        description="Seconds an organisation's jobs may have run in the last hour (start to "
        "finish, every kind, cancelled and failed runs included) before a new job is answered "
        "429 with Retry-After; the default is one slot for the whole hour.",
    )  # fmt: skip
