"""Resumable runs on Dask that write one Parquet file per finished chunk.

A run cuts ``total`` items (samples of a sweep, rows of a shipments table) into chunks of
``chunk_size`` consecutive items, ``[start, stop)``; each chunk is one Dask task. As each task
finishes, the driver writes its table to ``<output>/chunks/chunk-<start>.parquet``: first to a
hidden temporary name in the same directory, then renamed over the final name, so a chunk file
on disk is always whole and a chunk written twice (a task run again after its worker died)
replaces itself. ``<output>/manifest.json`` records the run's settings. Running again with the
same settings skips the chunks already on disk, so an interrupted run continues where it
stopped; other settings are refused (:class:`OtherRunError`) rather than mixed in.

The chunk files read as one dataset in input order, ``pandas.read_parquet(<output>/chunks)``
(the temporary files start with a dot, which readers of Parquet datasets skip).

At most ``max_in_flight`` tasks are submitted at a time (by default twice the cluster's
threads, plus one), so the driver never holds more than a few chunks' inputs and results:
memory stays bounded whatever the size of the run, and the driver is idle while the workers
compute.

Nothing here knows what a chunk computes: :mod:`scenarios.sweep` runs Monte Carlo samples with
it and :func:`optimizer.routing.batch.plan_batch_to_parquet` plans shipments.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import Progress

from optimizer.errors import InvalidInputError

__all__ = [
    "CHUNKS",
    "LOCAL_HTTP_ADDRESS",
    "MANIFEST",
    "QUIET_LOCAL_CLUSTER",
    "ChunkedRun",
    "OtherRunError",
    "chunk_path",
    "chunk_starts",
    "dask_client",
    "local_cluster",
    "prepare_output",
    "run_chunks",
    "write_parquet_atomic",
]

#: The file, in the output directory, holding the settings of the run.
MANIFEST = "manifest.json"
#: The directory, in the output directory, holding one Parquet file per finished chunk.
CHUNKS = "chunks"

#: Where a LocalCluster's scheduler serves HTTP: any free port of the loopback interface.
#: ``dashboard_address=None`` does not turn the server off but puts it on port 8787, which a
#: second cluster on the machine finds taken (a warning, an error under the test suite).
LOCAL_HTTP_ADDRESS = "127.0.0.1:0"

#: ``submit(client, start, stop)``: submit the task of items ``[start, stop)``; its future must
#: give a table (a pandas DataFrame or a pyarrow Table) with one row per item.
Submit = Callable[[Any, int, int], Any]


class OtherRunError(InvalidInputError):
    """The output directory holds a run with other settings; ``changed`` lists them.

    Examples
    --------
    >>> str(OtherRunError("out", ["seed"], what="sweep"))
    'output: out holds a sweep with other settings (seed); use another output directory to \
start afresh'
    """

    def __init__(self, output: str | os.PathLike[str], changed: list[str], *, what: str) -> None:
        self.changed = changed
        held = (
            f"a {what} with other settings ({', '.join(changed)})"
            if changed
            else f"chunk files without {MANIFEST}"
        )
        super().__init__(
            "output",
            str(output),
            "an empty directory or one holding the same run",
            message=f"{output} holds {held}; use another output directory to start afresh",
        )


def prepare_output(output: Path, manifest: Mapping[str, Any], *, what: str = "run") -> None:
    """Create ``output`` and its ``chunks`` directory and record ``manifest`` in it.

    Raises
    ------
    OtherRunError
        If ``output`` already records a manifest with other settings, or holds chunk files
        without a manifest; nothing is written then.

    Examples
    --------
    >>> import tempfile
    >>> output = Path(tempfile.mkdtemp())
    >>> prepare_output(output, {"seed": 1}, what="sweep")
    >>> prepare_output(output, {"seed": 1}, what="sweep")  # the same run: carry on
    >>> prepare_output(output, {"seed": 2}, what="sweep")
    Traceback (most recent call last):
    ...
    optimizer.distributed.OtherRunError: output: ... holds a sweep with other settings (seed); ...
    """
    path = output / MANIFEST
    if path.is_file():
        before = json.loads(path.read_text(encoding="utf-8"))
        if before != manifest:
            keys = [*manifest, *(k for k in before if k not in manifest)]
            changed = sorted(k for k in keys if before.get(k) != manifest.get(k))
            raise OtherRunError(output, changed, what=what)
    elif any((output / CHUNKS).glob("chunk-*.parquet")):  # not ours: no telling what they hold
        raise OtherRunError(output, [], what=what)
    (output / CHUNKS).mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def chunk_starts(total: int, chunk_size: int) -> range:
    """The first item of every chunk.

    Examples
    --------
    >>> list(chunk_starts(25, 10))
    [0, 10, 20]
    """
    if chunk_size < 1:
        raise InvalidInputError("chunk_size", chunk_size, "a whole number >= 1")
    return range(0, total, chunk_size)


def chunk_path(output: Path, start: int, total: int) -> Path:
    """The Parquet file of the chunk starting at item ``start`` of ``total``.

    Starts are zero-padded to at least 7 digits (to the digits of ``total`` beyond that), so
    the files sort in item order.

    Examples
    --------
    >>> chunk_path(Path("out"), 40, 100).as_posix()
    'out/chunks/chunk-0000040.parquet'
    >>> chunk_path(Path("out"), 40, 12_000_000).name
    'chunk-00000040.parquet'
    """
    width = max(7, len(str(total)))
    return output / CHUNKS / f"chunk-{start:0{width}d}.parquet"


def write_parquet_atomic(table: pd.DataFrame | pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` as Parquet: to a hidden temporary file, then renamed.

    A reader sees the old file or the new one, never a part; a rerun replaces the file.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "part.parquet"
    >>> write_parquet_atomic(pd.DataFrame({"row": [0, 1]}), path)
    >>> write_parquet_atomic(pd.DataFrame({"row": [0, 1]}), path)
    >>> pd.read_parquet(path)["row"].tolist(), sorted(p.name for p in path.parent.iterdir())
    ([0, 1], ['part.parquet'])
    """
    partial = path.with_name(f".{path.name}.partial")
    if isinstance(table, pd.DataFrame):
        table.to_parquet(partial, index=False)
    else:
        pq.write_table(table, partial)
    partial.replace(path)


#: Dask settings of the LocalClusters started here. Off: the statistical profiler (it samples
#: every worker's stack each 10 ms). Less often: the system monitor (5 s), the event loop's
#: tick check (1 s) and each worker's memory check (1 s). On 2 cores an idle cluster of 2
#: workers then takes 1 % of a core in the driver (7 % with the defaults) and 0.5 % in each
#: worker (4.5 %): what is left for planning.
QUIET_LOCAL_CLUSTER: dict[str, object] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@contextmanager
def local_cluster(workers: int, **options: Any) -> Iterator[Any]:
    """A ``distributed.LocalCluster`` of ``workers`` processes with one thread each, HTTP on
    :data:`LOCAL_HTTP_ADDRESS` and the settings of :data:`QUIET_LOCAL_CLUSTER`; closed on exit.
    ``options`` go to ``LocalCluster``.

    Examples
    --------
    >>> from distributed import Client
    >>> with local_cluster(1) as cluster, Client(cluster) as client:
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set(QUIET_LOCAL_CLUSTER),
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=LOCAL_HTTP_ADDRESS,
            **options,
        ) as cluster,
    ):
        yield cluster


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A ``distributed.Client`` of the cluster at ``scheduler``; else of a new
    :func:`local_cluster` of ``workers`` processes, closed on exit."""
    from distributed import Client

    if scheduler is not None:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


@dataclass(frozen=True)
class ChunkedRun:
    """What :func:`run_chunks` did: chunks in the run, found on disk, and written now."""

    chunks: int
    resumed: int
    written: int


def run_chunks(
    output: Path,
    manifest: Mapping[str, Any],
    total: int,
    chunk_size: int,
    submit: Submit,
    *,
    what: str = "run",
    description: str | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    client: Any = None,
    max_in_flight: int | None = None,
    progress: bool = False,
    on_chunk: Callable[[int], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ChunkedRun:
    """Run the chunks of ``total`` items missing from ``output`` on Dask, writing each as it
    finishes.

    Parameters
    ----------
    output
        Directory of the run: ``manifest.json`` and ``chunks/chunk-<start>.parquet``.
    manifest
        The settings of the run (JSON values); ``output`` holding other settings is refused.
    total, chunk_size
        Items in the run, and per chunk (the last chunk may hold fewer).
    submit
        ``submit(client, start, stop)`` submits the task of items ``[start, stop)`` and returns
        its future, whose result is a table with one row per item. It is called for the
        missing chunks in increasing ``start`` order, only as earlier tasks finish.
    what, description
        What the run is called in messages ("sweep", "route batch"), and beside its progress
        bar (default: ``what``).
    scheduler, workers, client
        An existing cluster's address; else a LocalCluster of ``workers`` processes; or a
        ``distributed.Client`` to use as it is. No cluster is started when every chunk is on
        disk already.
    max_in_flight
        Tasks submitted and not yet written, at most (default: twice the cluster's threads,
        plus one).
    progress
        Show a progress bar of items.
    on_chunk
        Called with the ``start`` of every chunk written, in order of completion; what it
        raises stops the run (the other tasks are cancelled, the chunks written are kept).
    on_progress
        Called with (items done, ``total``) once at the start, then after every chunk written.

    Returns
    -------
    ChunkedRun

    Raises
    ------
    OtherRunError
        If ``output`` holds a run with other settings.

    Examples
    --------
    >>> import tempfile
    >>> output = Path(tempfile.mkdtemp())
    >>> def submit(client, start, stop):
    ...     return client.submit(lambda: pd.DataFrame({"item": range(start, stop)}))
    >>> run_chunks(output, {"items": 5}, 5, 2, submit, workers=1)
    ChunkedRun(chunks=3, resumed=0, written=3)
    >>> pd.read_parquet(output / "chunks")["item"].tolist()
    [0, 1, 2, 3, 4]
    >>> run_chunks(output, {"items": 5}, 5, 2, submit, workers=1)  # all on disk: nothing to do
    ChunkedRun(chunks=3, resumed=3, written=0)
    """
    starts = chunk_starts(total, chunk_size)
    prepare_output(output, manifest, what=what)
    todo = [s for s in starts if not chunk_path(output, s, total).is_file()]
    resumed = len(starts) - len(todo)
    if not todo:
        if on_progress is not None:
            on_progress(total, total)
        return ChunkedRun(len(starts), resumed, 0)
    own = dask_client(scheduler, workers) if client is None else nullcontext(client)
    with own as using, Progress(disable=not progress) as bar:
        done = total - sum(min(chunk_size, total - s) for s in todo)
        task = bar.add_task(description or what, total=total, completed=done)
        if on_progress is not None:
            on_progress(done, total)
        completed = _completed(using, output, todo, total, chunk_size, submit, max_in_flight)
        with closing(completed) as running:
            for start, rows in running:
                bar.advance(task, rows)
                done += rows
                if on_progress is not None:
                    on_progress(done, total)
                if on_chunk is not None:
                    on_chunk(start)
    return ChunkedRun(len(starts), resumed, len(todo))


def _completed(
    client: Any,
    output: Path,
    todo: list[int],
    total: int,
    chunk_size: int,
    submit: Submit,
    max_in_flight: int | None,
) -> Generator[tuple[int, int], None, None]:
    """Submit the chunks ``todo`` a few at a time and write each as it completes; yield its
    start and row count. Whatever stops the iteration cancels the tasks still running."""
    from distributed import as_completed

    output_of: dict[Any, int] = {}
    waiting = iter(todo)
    running = as_completed()  # type: ignore[no-untyped-call]

    def top_up() -> None:
        limit = max_in_flight or 2 * max(1, sum(client.nthreads().values())) + 1
        while running.count() < limit:  # type: ignore[no-untyped-call]
            start = next(waiting, None)
            if start is None:
                return
            future = submit(client, start, min(start + chunk_size, total))
            output_of[future] = start
            running.add(future)  # type: ignore[no-untyped-call]

    try:
        top_up()
        for future in running:
            start = output_of.pop(future)
            table = future.result()
            write_parquet_atomic(table, chunk_path(output, start, total))
            yield start, len(table)
            top_up()
    finally:
        client.cancel(list(output_of))
