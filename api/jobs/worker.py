"""The job runner: claims queued jobs fairly, runs each in a child process, records outcomes.

A :class:`Worker` works on up to ``slots`` jobs at once. Every job body runs in a long-lived
child process of the worker (or, with ``dask_scheduler``, on a Dask cluster); the worker's own
thread only talks to the database: claims, prepares, heartbeats, cancel checks, recording.

Why child processes:

- **Cancel within a second, for every kind.** The worker reads cancel requests every
  :data:`CANCEL_POLL_S` and terminates the job's process; a route batch, a scenario or a MIP
  stops at once, with no solver callback to thread through. The next job gets a new process.
- **Other tenants' jobs do not wait.** Slots run side by side, and the last free slot only
  takes a job of an organisation that has none running (:meth:`Worker._claim_free_slots`), so
  one organisation's long solves never hold back another's one-row route batch.
- **The service stays responsive.** Job bodies are Python and numba; in a thread of the
  server they hold its GIL, in a process of their own (at lower CPU priority,
  :data:`CHILD_NICENESS`) they only share the cores. A crash in a native solver ends the
  child, not the server.

The worker survives: no exception ends :meth:`Worker.run_forever`. A pass that fails (the
database stopped, a pool timeout, a bug) is logged, the worker backs off (:class:`Backoff`)
and tries again; jobs in hand keep running meanwhile and are recorded once the database is
back. A job whose preparation fails is failed with the reason in words
(:func:`failure_reason`). :attr:`Worker.health` says whether the loop runs and how it last
went, for ``/readyz``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, NamedTuple

from sqlalchemy.orm import Session, sessionmaker

from api.db.models import JobRecord
from api.db.session import database_unavailable
from api.jobs import queue
from api.jobs.kinds import KINDS
from network_data import Network
from optimizer.errors import InvalidInputError
from optimizer.jobs import Progress, checked

log = logging.getLogger("shudao.worker")

#: Seconds between two reads of the cancel requests of the jobs in hand.
CANCEL_POLL_S = 0.25
#: Progress is written to the database at most this often (heartbeats aside).
PROGRESS_WRITE_S = 1.0
#: A child asked to stop (SIGTERM) that is still alive after this is killed (SIGKILL).
STOP_GRACE_S = 1.0
#: Nice value of job processes: the server's requests get the CPU first.
CHILD_NICENESS = 10
#: A loop that has not turned for this long is reported stalled (its backoff is at most 30 s).
STALLED_S = 120.0


def worker_name() -> str:
    """host:pid:random, unique per worker."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Outcome(NamedTuple):
    """How a job ended: ``status`` (succeeded, failed or cancelled), its result or error."""

    status: str
    result: dict[str, Any] | None = None
    error: str | None = None


def failure_reason(exc: BaseException, doing: str) -> str:
    """The error stored on a job that failed ``doing`` something: words, never a traceback.

    An invalid input names its field (:class:`~optimizer.errors.InvalidInputError` on a field
    of the input, as it is); other value errors of
    the domain say what was wrong; anything else is an internal error, logged with its
    traceback under an incident id that the stored error quotes.

    Examples
    --------
    >>> failure_reason(ValueError("last_week: got '2200-W25'; the year must be 2000 to 2199"),
    ...                "prepare")
    "could not prepare the job: last_week: got '2200-W25'; the year must be 2000 to 2199"
    >>> failure_reason(KeyError("ledger"), "run").split(" (incident")[0]
    'could not run the job: an internal error stopped it'
    """
    if isinstance(exc, InvalidInputError) and exc.field.startswith("input"):
        return str(exc)
    if isinstance(exc, ValueError) and str(exc):
        return f"could not {doing} the job: {exc}"
    incident = secrets.token_hex(6)
    log.error("incident %s: could not %s a job", incident, doing, exc_info=exc)
    return (
        f"could not {doing} the job: an internal error stopped it (incident {incident}; the "
        "service's log has the details)"
    )


def run_body(
    kind: str,
    job_input: dict[str, Any],
    network: Network,
    progress: Progress,
    context: Any = None,
) -> Outcome:
    """Run one job body and say how it ended; no exception escapes.

    The stored input is restored by its kind's model (:func:`optimizer.jobs.checked`) and run
    with ``context``, what the kind's ``prepare`` read from the database (or None).

    Examples
    --------
    >>> from network_data import load_network
    >>> run_body("route-batch", {"shipments": [{"origin": "Wuhu"}]}, load_network(),
    ...          lambda _: True)
    Outcome(status='failed', result=None, error='input.shipments.0: missing destination, \
volume_m3, weight_kg')
    """
    try:
        result = checked(KINDS[kind].model, job_input).run(network, progress, context)
    except InterruptedError:
        return Outcome("cancelled", error="cancelled on request")
    except Exception as exc:  # a job's failure is recorded, never raised into the worker
        return Outcome("failed", error=failure_reason(exc, "run"))
    return Outcome("succeeded", result=result)


class Backoff:
    """Capped exponential delays after failures: ``first_s``, doubling, at most ``max_s``.

    Examples
    --------
    >>> backoff = Backoff(first_s=0.5, max_s=30.0)
    >>> [backoff.next_s() for _ in range(8)]
    [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    >>> backoff.reset(); backoff.next_s()
    0.5
    """

    def __init__(self, first_s: float = 0.5, max_s: float = 30.0) -> None:
        self.first_s, self.max_s = first_s, max_s
        self._failures = 0

    def next_s(self) -> float:
        """The delay after one more failure."""
        delay_s = min(self.first_s * 2.0**self._failures, self.max_s)
        self._failures += 1
        return delay_s

    def reset(self) -> None:
        """A success: the next failure waits ``first_s`` again."""
        self._failures = 0


@dataclass
class RunnerHealth:
    """How the runner's loop goes; times are UTC."""

    running: bool = False
    last_loop_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures_in_a_row: int = 0
    jobs_in_hand: int = 0

    def ok(self, now: datetime | None = None) -> bool:
        """The loop runs and has turned in the last :data:`STALLED_S` seconds."""
        now = now or datetime.now(UTC)
        return (
            self.running
            and self.last_loop_at is not None
            and (now - self.last_loop_at).total_seconds() < STALLED_S
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``/readyz``."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat().replace("+00:00", "Z") if moment else None

        return {
            "running": self.running,
            "last_loop_at": iso(self.last_loop_at),
            "last_ok_at": iso(self.last_ok_at),
            "last_error": self.last_error,
            "last_error_at": iso(self.last_error_at),
            "failures_in_a_row": self.failures_in_a_row,
            "jobs_in_hand": self.jobs_in_hand,
        }


def _describe(exc: BaseException) -> str:
    """A failed pass in a line for ``/readyz`` (no connection strings, no traceback)."""
    if database_unavailable(exc):
        return "the database did not answer"
    first_line = (str(exc).splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


def _process_context() -> BaseContext:
    """forkserver where there is one: children fork from a clean, single-threaded server
    that has imported the job kinds once; forking the threaded service itself is unsafe."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["api.jobs.worker"])
    return context


def _exit_with_parent() -> None:
    """End this child at once when the process that started it is gone (even by SIGKILL)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="shudao-job-parent").start()


def _child_main(connection: Connection, network: Network) -> None:
    """A job process: run the bodies it is sent, one at a time, until its parent hangs up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.nice(CHILD_NICENESS)
    _exit_with_parent()
    sent_at = 0.0

    def progress(value: float) -> bool:
        nonlocal sent_at
        if time.monotonic() - sent_at >= 0.2:
            connection.send(("progress", value))
            sent_at = time.monotonic()
        return True  # cancel is the parent's: it terminates this process

    while True:
        try:
            kind, job_input, context = connection.recv()
        except EOFError:
            return
        connection.send(("outcome", run_body(kind, job_input, network, progress, context)))


class _Child:
    """A process that runs job bodies one at a time; replaced when it is stopped."""

    def __init__(self, context: BaseContext, network: Network) -> None:
        self.connection, child_end = context.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_child_main, args=(child_end, network), name="shudao-job", daemon=True
        )
        self.process.start()
        child_end.close()

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after :data:`STOP_GRACE_S`)."""
        self.process.terminate()
        self.process.join(STOP_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


class _ChildRun:
    """A job body running in a :class:`_Child`."""

    def __init__(self, child: _Child, kind: str, job_input: dict[str, Any], context: Any) -> None:
        self.child = child
        child.connection.send((kind, job_input, context))

    def poll(self, job: _Job) -> Outcome | None:
        """The outcome once there is one; progress reports update ``job``."""
        try:
            while self.child.connection.poll():
                message, value = self.child.connection.recv()
                if message == "outcome":
                    return Outcome(*value)
                job.progress = float(value)
        except (EOFError, OSError):
            self.child.process.join(STOP_GRACE_S)
            return Outcome(
                "failed",
                error="the job's process ended before the job did (exit code "
                f"{self.child.process.exitcode}, e.g. out of memory); not retried",
            )
        return None

    def stop(self) -> None:
        self.child.stop()


def _no_progress(_: float) -> bool:
    return True


class _DaskRun:
    """A job body running on a Dask cluster (no progress; cancel drops the future)."""

    def __init__(self, future: Any) -> None:
        self.future = future

    def poll(self, job: _Job) -> Outcome | None:
        if not self.future.done():
            return None
        try:
            outcome: Outcome = self.future.result()
        except Exception as exc:  # the cluster lost the task
            return Outcome("failed", error=failure_reason(exc, "run"))
        return outcome

    def stop(self) -> None:
        self.future.cancel()


@dataclass
class _Job:
    """A job this worker holds: claimed, then running, then its outcome being recorded."""

    id: str
    attempt: int
    kind: str | None = None
    run: _ChildRun | _DaskRun | None = None
    outcome: Outcome | None = None
    progress: float = 0.0
    written_progress: float = 0.0
    beat_at: float = field(default_factory=time.monotonic)
    progress_written_at: float = 0.0


class Worker:
    """Runs up to ``slots`` jobs at once until :attr:`stop` is set.

    The lease of every job in hand is renewed every ``lease_seconds / 3``; a worker that dies
    stops renewing it, and any worker's recovery pass requeues (or, after two attempts,
    fails) the job. ``poll_seconds``: how long an idle worker waits before it looks for work.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from network_data import load_network
    >>> from api.db.session import make_engine, make_sessionmaker, migrate
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     engine = make_engine(f"sqlite:///{pathlib.Path(tmp) / 'jobs.db'}")
    ...     migrate(engine)
    ...     worker = Worker(make_sessionmaker(engine), load_network(), slots=2)
    ...     ran = worker.run_once()  # no job queued
    ...     worker.close()
    ...     engine.dispose()
    >>> ran, worker.health.failures_in_a_row
    (False, 0)
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        network: Network,
        *,
        lease_seconds: float = 15.0,
        poll_seconds: float = 0.5,
        dask_scheduler: str | None = None,
        slots: int = 2,
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots: got {slots!r}; expected an integer >= 1")
        self.sessions, self.network = sessions, network
        self.lease_seconds, self.poll_seconds = lease_seconds, poll_seconds
        self.dask_scheduler, self.slots = dask_scheduler, slots
        self.name = worker_name()
        self.stop = threading.Event()
        # A self-pipe: :meth:`wake` writes a byte; the loop waits on it beside its children.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._pipe_open = True
        self._pipe_lock = threading.Lock()
        self.health = RunnerHealth()
        self._dask: Any = None
        self._context: BaseContext | None = None
        self._idle: list[_Child] = []
        self._jobs: dict[str, _Job] = {}
        self._stage = "starting"
        self._recover_at = 0.0
        self._cancel_check_at = 0.0
        self._thread: threading.Thread | None = None
        self._closed = threading.Lock()

    # -- the loop ------------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Run :meth:`run_forever` in a daemon thread (the service's in-process runner)."""
        self._thread = threading.Thread(target=self.run_forever, daemon=True, name="shudao-worker")
        self._thread.start()
        return self._thread

    def run_forever(self) -> None:
        """Turn the loop until :attr:`stop` is set; a failed pass backs off, never ends it."""
        backoff = Backoff()
        self.health.running = True
        try:
            while not self.stop.is_set():
                self.health.last_loop_at = datetime.now(UTC)
                try:
                    self.turn()
                    self._wait()
                except Exception as exc:
                    delay_s = backoff.next_s()
                    self.health.failures_in_a_row += 1
                    self.health.last_error = f"while {self._stage}: {_describe(exc)}"
                    self.health.last_error_at = datetime.now(UTC)
                    log.warning(
                        "job runner %s failed while %s; trying again in %.1f s",
                        self.name, self._stage, delay_s,
                        exc_info=None if database_unavailable(exc) else exc,
                    )  # fmt: skip
                    self.stop.wait(delay_s)
                    continue
                backoff.reset()
                self.health.failures_in_a_row = 0
                self.health.last_ok_at = datetime.now(UTC)
        finally:
            self._release_all()
            self.health.running = False

    def run_once(self) -> bool:
        """Claim at most one job and run it to its recorded outcome; return whether one ran.

        Unlike :meth:`run_forever`, errors are raised.
        """
        self._recover_at = 0.0
        self._recover()
        job = self._claim(None)
        if job is None:
            return False
        while job.id in self._jobs:
            self._start_claimed()
            self._collect()
            self._check_cancels()
            self._beat()
            self._wait()
        return True

    def turn(self) -> None:
        """One pass: outcomes, cancels, heartbeats, recovery, claims, starts."""
        self._collect()
        self._check_cancels()
        self._beat()
        self._recover()
        self._claim_free_slots()
        self._start_claimed()
        self.health.jobs_in_hand = len(self._jobs)

    def _wait(self) -> None:
        """Until a child reports, the next cancel check is due or :meth:`wake` is called;
        ``poll_seconds`` when no job is in hand."""
        children: list[Connection | int] = [
            job.run.child.connection
            for job in self._jobs.values()
            if isinstance(job.run, _ChildRun)
        ]
        if wait([*children, self._wake_r], CANCEL_POLL_S if self._jobs else self.poll_seconds):
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)

    def wake(self) -> None:
        """Look for work now rather than at the next poll (a job was just queued)."""
        with self._pipe_lock, contextlib.suppress(BlockingIOError):  # an unread byte wakes it
            if self._pipe_open:
                os.write(self._wake_w, b"\0")

    # -- the steps of a pass -------------------------------------------------------------

    def _recover(self) -> None:
        now = time.monotonic()
        if now < self._recover_at:
            return
        self._stage = "recovering jobs of silent workers"
        queue.recover(self.sessions, self.lease_seconds)
        self._recover_at = now + self.lease_seconds / 3

    def _claim(self, max_running_per_organisation: int | None) -> _Job | None:
        self._stage = "claiming a job"
        claimed = queue.claim(
            self.sessions, self.name, max_running_per_organisation=max_running_per_organisation
        )
        if claimed is None:
            return None
        job = _Job(*claimed)
        self._jobs[job.id] = job
        return job

    def _claim_free_slots(self) -> None:
        """Fill free slots; the last one only for an organisation with no job running."""
        while len(self._jobs) < self.slots:
            last = self.slots > 1 and len(self._jobs) == self.slots - 1
            if self._claim(1 if last else None) is None:
                return

    def _start_claimed(self) -> None:
        """Prepare each claimed job (what it reads from the database) and start its body."""
        for job in list(self._jobs.values()):
            if job.run is not None or job.outcome is not None:
                continue
            self._stage = f"preparing job {job.id}"
            with self.sessions() as session:
                record = session.get(JobRecord, job.id)
                if record is None:  # jobs are never deleted; a database restored from a backup
                    del self._jobs[job.id]
                    continue
                job_input, context = record.input, None
                try:
                    if record.kind not in KINDS:
                        raise ValueError(
                            f"kind: got {record.kind!r}; this server runs {', '.join(KINDS)}"
                        )
                    job.kind = record.kind
                    prepare = KINDS[job.kind].prepare
                    if prepare is not None:
                        context = prepare(session, record)
                except Exception as exc:
                    if database_unavailable(exc):
                        raise  # not the job's fault: prepared again on a later pass
                    job.outcome = Outcome("failed", error=failure_reason(exc, "prepare"))
                    continue
            self._stage = f"starting job {job.id}"
            job.run = self._launch(record.kind, job_input, context)

    def _launch(self, kind: str, job_input: dict[str, Any], context: Any) -> _ChildRun | _DaskRun:
        if self.dask_scheduler:
            from distributed import Client

            if self._dask is None:
                client = Client(self.dask_scheduler, timeout=30)  # type: ignore[no-untyped-call]
                shared = client.scatter(self.network, broadcast=True)  # type: ignore[no-untyped-call]
                self._dask = (client, shared)
            client, network = self._dask
            return _DaskRun(
                client.submit(run_body, kind, job_input, network, _no_progress, context, pure=False)
            )
        while self._idle and not self._idle[-1].process.is_alive():  # killed while idle
            self._idle.pop().stop()
        if self._idle:
            child = self._idle.pop()
        else:
            self._context = self._context or _process_context()
            child = _Child(self._context, self.network)
        return _ChildRun(child, kind, job_input, context)

    def _collect(self) -> None:
        """Take the outcomes of finished bodies and record them."""
        for job in list(self._jobs.values()):
            if job.run is not None and job.outcome is None:
                job.outcome = job.run.poll(job)
                if job.outcome is not None and isinstance(job.run, _ChildRun):
                    if job.run.child.process.is_alive():
                        self._idle.append(job.run.child)
                    else:
                        job.run.child.stop()
            if job.outcome is not None:
                self._record(job, job.outcome)

    def _record(self, job: _Job, outcome: Outcome) -> None:
        """Write the outcome (and what it means for the ledger); on a database failure the
        outcome is kept and written on a later pass."""
        self._stage = f"recording job {job.id}"
        record = KINDS[job.kind].record if job.kind is not None else None
        if outcome.status == "succeeded" and record is not None:
            with self.sessions() as session:
                stored = session.get(JobRecord, job.id)
                assert stored is not None  # jobs are never deleted
                try:
                    outcome = Outcome(
                        "succeeded", result=record(session, stored, outcome.result or {})
                    )
                except Exception as exc:
                    if database_unavailable(exc):
                        raise
                    session.rollback()
                    outcome = Outcome("failed", error=failure_reason(exc, "record"))
            job.outcome = outcome
        self._stage = f"finishing job {job.id}"
        if not queue.finish(
            self.sessions, job.id, self.name, job.attempt, outcome.status,
            result=outcome.result, error=outcome.error,
        ):  # fmt: skip
            log.warning("job %s was no longer held by %s; outcome dropped", job.id, self.name)
        del self._jobs[job.id]

    def _check_cancels(self) -> None:
        now = time.monotonic()
        pending = [job.id for job in self._jobs.values() if job.outcome is None]
        if not pending or now < self._cancel_check_at:
            return
        self._stage = "reading cancel requests"
        for job_id in queue.cancels_requested(self.sessions, pending):
            job = self._jobs[job_id]
            if job.run is not None:
                job.run.stop()
            job.outcome = Outcome("cancelled", error="cancelled on request")
            self._record(job, job.outcome)
        self._cancel_check_at = now + CANCEL_POLL_S

    def _beat(self) -> None:
        """Renew the leases of the jobs in hand; write progress at most every second."""
        now = time.monotonic()
        for job in list(self._jobs.values()):
            due = now - job.beat_at >= self.lease_seconds / 3
            moved = (
                job.progress != job.written_progress
                and now - job.progress_written_at >= PROGRESS_WRITE_S
            )
            if not (due or moved):
                continue
            self._stage = f"renewing the lease of job {job.id}"
            if queue.heartbeat(self.sessions, job.id, self.name, job.progress):
                if job.progress != job.written_progress:
                    job.written_progress, job.progress_written_at = job.progress, now
                job.beat_at = now
                continue
            log.warning("job %s is no longer held by %s; stopping it", job.id, self.name)
            if job.run is not None and job.outcome is None:
                job.run.stop()
            del self._jobs[job.id]

    # -- stopping ------------------------------------------------------------------------

    def _release_all(self) -> None:
        """Record the outcomes in hand, stop the bodies still running and queue their jobs
        again (best effort: a job left behind is recovered once its lease runs out)."""
        for job in list(self._jobs.values()):
            try:
                if job.outcome is not None:
                    self._record(job, job.outcome)
                    continue
                if job.run is not None:
                    job.run.stop()
                queue.release(self.sessions, job.id, self.name, job.attempt)
            except Exception as exc:
                log.warning("could not release job %s (%s); its lease will run out", job.id, exc)
            finally:
                self._jobs.pop(job.id, None)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the loop (waiting up to ``timeout_s`` for its thread), its jobs and processes.

        A loop still running after ``timeout_s`` keeps its jobs: their leases run out.
        """
        self.stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout_s)
        stopped = self._thread is None or not self._thread.is_alive()
        with self._closed:
            if stopped:
                self._release_all()
            for child in self._idle:
                child.stop()
            self._idle.clear()
            if self._dask is not None:
                self._dask[0].close()
                self._dask = None
        with self._pipe_lock:
            if stopped and self._pipe_open:
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._pipe_open = False
