"""Plan many shipments: on several processes (:func:`plan_batch`), or any number of them on
Dask, streamed to Parquet and resumable (:func:`plan_batch_to_parquet`)."""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.progress import Progress

from network_data import Network, load_network
from optimizer._compile import routing_data
from optimizer.distributed import CHUNKS, chunk_starts, dask_client, run_chunks
from optimizer.errors import InvalidInputError
from optimizer.inputs import read_table_chunks
from optimizer.routing.plan import plan_routes
from optimizer.routing.problem import shipment_from_record, time_limit_from_record
from optimizer.routing.result import plan_summary_row

_Item = TypeVar("_Item")
_Result_T = TypeVar("_Result_T")


def plan_record(
    network: Network, record: dict[str, Any], most_time_limit_s: float = math.inf
) -> dict[str, Any]:
    """Plan one shipments-table row within its time limit (column ``time_limit_s``, 10 s by
    default, at most ``most_time_limit_s``: :func:`time_limit_from_record`); an invalid row
    gives ``status`` invalid and ``error``."""
    try:
        shipment = shipment_from_record(record, network)
        limit_s = time_limit_from_record(record, most_time_limit_s)
        row = plan_summary_row(plan_routes(network, shipment, max_options=1, time_limit_s=limit_s))
    except ValueError as exc:
        row = {"status": "invalid", "error": str(exc)}
    return {"id": record.get("id", ""), **row}


_WORKER_NETWORK: list[Network] = []


def _worker_init(network: Network) -> None:
    _WORKER_NETWORK[:] = [network]
    routing_data(network)


def _worker_chunk(
    function: Callable[[Network, _Item], _Result_T], items: list[_Item]
) -> list[_Result_T]:
    return [function(_WORKER_NETWORK[0], item) for item in items]


def map_on_network(
    network: Network,
    function: Callable[[Network, _Item], _Result_T],
    items: Sequence[_Item],
    *,
    workers: int | None = None,
    chunk_size: int = 50,
    on_done: Callable[[int], None] | None = None,
) -> list[_Result_T]:
    """``[function(network, item) for item in items]`` in ``workers`` processes (default: all).

    ``function`` must be a module-level function (it is pickled); ``on_done`` hears how many
    items each finished chunk held. Results keep the order of ``items``.

    Examples
    --------
    >>> from network_data import load_network
    >>> map_on_network(load_network(), lambda network, node: network.find_node(node),
    ...                ["Chengdu", "Duisburg"], workers=1)
    ['CNCTU', 'DEDUI']
    """
    chunks = [list(items[i : i + chunk_size]) for i in range(0, len(items), chunk_size)]
    workers = (os.cpu_count() or 1) if workers is None else workers
    results: list[_Result_T] = []
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            results.extend(function(network, item) for item in chunk)
            if on_done:
                on_done(len(chunk))
        return results
    # fork shares the loaded network and compiled kernels and needs no __main__ guard in the
    # caller's script; spawn is the fallback where fork does not exist.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_init, initargs=(network,)
    ) as pool:
        for done in pool.map(_worker_chunk, [function] * len(chunks), chunks):
            results.extend(done)
            if on_done:
                on_done(len(done))
    return results


def plan_batch(
    network: Network,
    shipments: pd.DataFrame,
    *,
    workers: int | None = None,
    progress: bool = False,
    chunk_size: int = 50,
) -> pd.DataFrame:
    """Plan every row of ``shipments`` (columns of :func:`shipment_from_record`).

    Rows are planned in ``workers`` processes (default: every core) in chunks; an invalid row
    gets ``status`` = ``invalid`` and its message in ``error`` instead of stopping the batch.
    The result has one row per shipment, in input order.

    Examples
    --------
    >>> import pandas as pd
    >>> from network_data import load_network
    >>> table = pd.DataFrame({"origin": ["Linshui", "Nowhere"], "destination": ["Duisburg"] * 2,
    ...     "weight_kg": [800, 800], "volume_m3": [4.2, 4.2],
    ...     "ready_at": ["2026-11-23T08:00:00+00:00"] * 2})
    >>> result = plan_batch(load_network(), table, workers=1)
    >>> list(result["status"])
    ['planned', 'invalid']
    """
    records: list[dict[str, Any]] = [
        {str(key): value for key, value in record.items()}
        for record in shipments.to_dict("records")
    ]
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("planning", total=len(records))
        rows = map_on_network(
            network, plan_record, records, workers=workers, chunk_size=chunk_size,
            on_done=lambda count: bar.advance(task, count),
        )  # fmt: skip
    return pd.DataFrame(rows)


# --- any number of shipments, on Dask, to Parquet ---------------------------------------------

#: Columns a shipments table needs; the others (``id``, ``ready_at``, ``cargo_class``, ...) are
#: optional (:func:`shipment_from_record`).
REQUIRED_COLUMNS = ("origin", "destination", "weight_kg", "volume_m3")
#: Arrow type of every column of :func:`plan_summary_row`, in its order.
SUMMARY_TYPES: dict[str, pa.DataType] = {
    "origin_node": pa.string(),
    "destination_node": pa.string(),
    "status": pa.string(),
    "options": pa.int64(),
    "cheapest_cost_cny": pa.float64(),
    "cheapest_arrival": pa.string(),
    "cheapest_summary": pa.string(),
    "fastest_arrival": pa.string(),
    "fastest_cost_cny": pa.float64(),
    "greenest_co2e_kg": pa.float64(),
    "cost_bound_cny": pa.float64(),
    "infeasible_reason": pa.string(),
    "error": pa.string(),
}
#: The rows :func:`plan_batch_to_parquet` writes: the input row number (from 0), the
#: shipment's ``id`` (``""`` when the input has none) and its plan summary.
BATCH_SCHEMA = pa.schema([("row", pa.int64()), ("id", pa.string()), *SUMMARY_TYPES.items()])
#: Rows per Dask task and per Parquet file, by default: about 4 s of planning on one core.
BATCH_CHUNK_ROWS = 1000


def _id_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def batch_table(rows: Sequence[dict[str, Any]], first_row: int) -> pa.Table:
    """Rows of :func:`plan_record` as a table of :data:`BATCH_SCHEMA`, numbered from
    ``first_row``.

    Examples
    --------
    >>> table = batch_table([{"id": 7, "status": "invalid", "error": "weight_kg: got ''"}], 40)
    >>> table.to_pylist()[0]["row"], table.to_pylist()[0]["id"], table.schema == BATCH_SCHEMA
    (40, '7', True)
    """
    columns: dict[str, list[Any]] = {
        "row": list(range(first_row, first_row + len(rows))),
        "id": [_id_text(row.get("id")) for row in rows],
    }
    for name in SUMMARY_TYPES:
        columns[name] = [row.get(name) for row in rows]
    return pa.table(columns, schema=BATCH_SCHEMA)


@cache
def cached_network(network_dir: str | None = None, tariffs: str | None = None) -> Network:
    """The network of ``network_dir`` and ``tariffs`` (None: bundled), loaded and compiled
    once a process: what :func:`plan_chunk` plans on. ``client.run(cached_network)`` warms
    every worker of a cluster before a batch.

    Examples
    --------
    >>> cached_network() is cached_network()
    True
    """
    network = load_network(network_dir, tariffs=tariffs)
    routing_data(network)
    return network


def dataset_version(network_dir: str | None = None, tariffs: str | None = None) -> str:
    """The version of :func:`cached_network` (loading it in this process if need be).

    Examples
    --------
    >>> dataset_version() == load_network().version
    True
    """
    return cached_network(network_dir, tariffs).version


def plan_chunk(
    shipments: pd.DataFrame,
    first_row: int,
    network_dir: str | None,
    tariffs: str | None,
    version: str,
) -> pa.Table:
    """Plan the rows of ``shipments`` (rows ``first_row`` onwards of a batch) on the network
    of ``network_dir`` and ``tariffs``, which must be dataset ``version``.

    The Dask task of :func:`plan_batch_to_parquet`: a worker process loads and compiles the
    network on its first chunk and keeps it for the next ones.

    Examples
    --------
    >>> table = pd.DataFrame({"id": ["A"], "origin": ["Linshui"], "destination": ["Duisburg"],
    ...     "weight_kg": [800], "volume_m3": [4.2], "ready_at": ["2026-11-23T08:00:00+00:00"]})
    >>> version = load_network().version
    >>> plan_chunk(table, 10, None, None, version).select(["row", "id", "status"]).to_pylist()
    [{'row': 10, 'id': 'A', 'status': 'planned'}]
    """
    network = cached_network(network_dir, tariffs)
    if network.version != version:
        raise RuntimeError(
            f"this worker read dataset {network.version} from {network_dir or 'the package'}, "
            f"the batch plans on {version}: give the workers the same dataset files"
        )
    records = shipments.to_dict("records")
    return batch_table([plan_record(network, {str(k): v for k, v in r.items()}) for r in records],
                       first_row)  # fmt: skip


@dataclass(frozen=True)
class _Shipments:
    """A shipments table read in chunks of rows: a DataFrame, a Parquet file or a CSV file."""

    source: pd.DataFrame | Path
    name: str
    rows: int
    columns: tuple[str, ...]
    digest: str

    def chunks(self, chunk_size: int) -> Iterator[tuple[int, pd.DataFrame]]:
        """(first row, rows) of every ``chunk_size`` rows, in order; only the chunk in hand
        (and for Parquet, the record batch it comes from) is in memory."""
        if isinstance(self.source, pd.DataFrame):
            for start in range(0, self.rows, chunk_size):
                yield start, self.source.iloc[start : start + chunk_size]
        elif self.source.suffix.lower() == ".parquet":
            yield from _parquet_chunks(self.source, chunk_size)
        else:  # read as every command reads a CSV file: cells as written, empty as ""
            start = 0
            for table in read_table_chunks(self.source, chunk_size):
                if table.rows:
                    yield start, table.frame()
                    start += len(table.rows)


def _parquet_chunks(path: Path, chunk_size: int) -> Iterator[tuple[int, pd.DataFrame]]:
    file = pq.ParquetFile(path)
    start, held = 0, 0
    pending: list[pa.RecordBatch] = []
    for batch in file.iter_batches(batch_size=chunk_size):
        pending.append(batch)
        held += batch.num_rows
        while held >= chunk_size:
            table = pa.Table.from_batches(pending)
            yield start, table.slice(0, chunk_size).to_pandas()
            start += chunk_size
            rest = table.slice(chunk_size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield start, pa.Table.from_batches(pending, schema=file.schema_arrow).to_pandas()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()[:16]


def _open_shipments(source: str | os.PathLike[str] | pd.DataFrame) -> _Shipments:
    """Count and fingerprint a shipments table and check it has the required columns."""
    allowed = "a DataFrame, a .parquet file or a .csv file of shipments"
    if isinstance(source, pd.DataFrame):
        hashed = pd.util.hash_pandas_object(source, index=False).to_numpy().tobytes()
        header = "\x1f".join(map(str, source.columns)).encode()
        digest = hashlib.sha256(header + hashed).hexdigest()[:16]
        shipments = _Shipments(source, "the table", len(source),
                               tuple(map(str, source.columns)), digest)  # fmt: skip
    else:
        path = Path(source)
        suffix = path.suffix.lower()
        if not path.is_file() or suffix not in (".parquet", ".csv"):
            raise InvalidInputError("shipments", str(path), allowed)
        if suffix == ".parquet":
            try:
                metadata = pq.ParquetFile(path).metadata
            except (OSError, ValueError, pa.ArrowException) as exc:
                raise InvalidInputError(
                    "shipments", str(path), allowed, message=f"{path.name} cannot be read ({exc})"
                ) from None
            rows, columns = metadata.num_rows, tuple(metadata.schema.to_arrow_schema().names)
        else:  # the whole file is read once: a problem anywhere is found before any planning
            rows, columns = 0, ()
            for part in read_table_chunks(path, 100_000):
                rows, columns = rows + len(part.rows), part.columns
        shipments = _Shipments(path.resolve(), path.name, rows, columns, _file_digest(path))
    missing = [c for c in REQUIRED_COLUMNS if c not in shipments.columns]
    if missing:
        raise InvalidInputError(
            "shipments", shipments.name, f"the columns {', '.join(REQUIRED_COLUMNS)}",
            message=f"{shipments.name} lacks the columns {', '.join(missing)}",
        )  # fmt: skip
    if not shipments.rows:
        raise InvalidInputError("shipments", shipments.name, "at least one row",
                                message=f"{shipments.name} has no rows")  # fmt: skip
    return shipments


@dataclass(frozen=True)
class BatchRun:
    """What :func:`plan_batch_to_parquet` wrote.

    Attributes
    ----------
    output_dir
        The batch's directory; the rows are in its ``chunks`` directory (:attr:`parts_dir`).
    rows
        Rows on disk, one per input row.
    chunks, resumed
        Chunks of the batch, and those found on disk already (written by an earlier run).
    by_status
        Rows by status (``planned``, ``no_option``, ``stopped``, ``invalid``: see
        :func:`optimizer.routing.plan_summary_row`), most frequent first.
    elapsed_s
        Wall time of the call.
    """

    output_dir: Path
    rows: int
    chunks: int
    resumed: int
    by_status: dict[str, int]
    elapsed_s: float

    @property
    def parts_dir(self) -> Path:
        """The directory of Parquet files holding the rows, one dataset in input order."""
        return self.output_dir / CHUNKS

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The rows (all of them: for a large batch, choose ``columns``, or read the files
        of :attr:`parts_dir` one by one)."""
        return pd.read_parquet(self.parts_dir, columns=columns)


def plan_batch_to_parquet(
    shipments: str | os.PathLike[str] | pd.DataFrame,
    output_dir: str | os.PathLike[str],
    *,
    chunk_size: int = BATCH_CHUNK_ROWS,
    network_dir: str | os.PathLike[str] | None = None,
    tariffs: str | os.PathLike[str] | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    client: Any = None,
    max_in_flight: int | None = None,
    progress: bool = False,
    on_chunk: Callable[[int], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BatchRun:
    """Plan every row of a shipments table of any size on Dask, streaming the rows to Parquet;
    rerun to resume.

    The table is read ``chunk_size`` rows at a time and each chunk is one Dask task
    (:func:`plan_chunk`; a few in flight at a time, see :func:`optimizer.distributed.run_chunks`).
    Every worker process loads and compiles the network once, from ``network_dir`` (the driver
    does not load it): the workers of a cluster elsewhere need the same dataset files at that
    path (the bundled dataset needs nothing). Each finished chunk is written at once to
    ``<output_dir>/chunks/chunk-<first row>.parquet`` (whole or not at all), so memory stays
    bounded by a few chunks whatever the size of the table. A worker that dies has its tasks
    run again on the others and their files replace themselves: no row is lost or doubled. A
    run stopped (Ctrl-C, a crash of the driver) leaves the chunks it finished; running it
    again with the same table, chunk size and dataset plans only the others. (A row without
    ``ready_at`` is ready when its chunk is planned: give ``ready_at`` when the rows of a
    resumed batch must be comparable.)

    Parameters
    ----------
    shipments
        A DataFrame, or a ``.parquet`` or ``.csv`` file, with the columns of
        :func:`shipment_from_record`: ``origin``, ``destination``, ``weight_kg``,
        ``volume_m3`` and optional ones (``id``, ``ready_at``, ...). A CSV file is read as
        every command reads one (:func:`optimizer.inputs.read_table_chunks`: UTF-8, GBK or
        UTF-16 with a byte-order mark, comma- or tab-separated), a chunk at a time.
    output_dir
        Directory of the batch: ``manifest.json`` (the table's digest, rows, chunk size and
        dataset version) and ``chunks/``.
    chunk_size
        Rows per task and per Parquet file.
    network_dir, tariffs
        The dataset to plan on (None: the bundled one), as for :func:`load_network`.
    scheduler, workers, client
        An existing cluster's address; else a LocalCluster of ``workers`` processes with one
        thread each; or a ``distributed.Client`` to use as it is.
    max_in_flight
        Tasks submitted at a time, at most (default: twice the cluster's threads, plus one).
    progress
        Show a progress bar of rows.
    on_chunk
        Called with the first row of every chunk written, in order of completion.
    on_progress
        Called with (rows done, rows in all) at the start and after every chunk written.

    Returns
    -------
    BatchRun
        Where the rows are, how many, and their counts by status. Each row has the input's row
        number (``row``, from 0), its ``id`` and the plan summary (:data:`BATCH_SCHEMA`); an
        invalid input row has ``status`` ``invalid`` and the reason in ``error``.

    Raises
    ------
    InvalidInputError
        Naming ``shipments`` (not a table, a required column missing, no rows),
        ``chunk_size``, or ``output`` (the directory holds another batch:
        :class:`~optimizer.distributed.OtherRunError`); a CSV file that cannot be read is a
        :class:`~optimizer.inputs.TableError` naming the file (and the line).
    NetworkValidationError
        If the dataset at ``network_dir`` is invalid (raised by the worker that reads it).

    Examples
    --------
    >>> import tempfile
    >>> table = pd.DataFrame({"id": ["A", "B", "C"], "origin": ["Linshui", "Nowhere", "Wuhu"],
    ...     "destination": ["Duisburg", "Duisburg", "Rotterdam"], "weight_kg": [800, 800, 500],
    ...     "volume_m3": [4.2, 4.2, 2], "ready_at": ["2026-11-23T08:00:00+00:00"] * 3})
    >>> output = Path(tempfile.mkdtemp()) / "plans"
    >>> run = plan_batch_to_parquet(table, output, chunk_size=2, workers=1)
    >>> run.rows, run.chunks, run.by_status
    (3, 2, {'planned': 2, 'invalid': 1})
    >>> run.read(columns=["row", "id", "status"]).to_dict("list")
    {'row': [0, 1, 2], 'id': ['A', 'B', 'C'], 'status': ['planned', 'invalid', 'planned']}
    >>> plan_batch_to_parquet(table, output, chunk_size=2, workers=1).resumed  # all on disk
    2
    """
    began = time.perf_counter()
    output = Path(output_dir)
    chunk_starts(1, chunk_size)  # checks chunk_size before anything is read or written
    table = _open_shipments(shipments)
    network_path = None if network_dir is None else str(Path(network_dir).resolve())
    tariffs_path = None if tariffs is None else str(Path(tariffs).resolve())
    own = dask_client(scheduler, workers) if client is None else nullcontext(client)
    with own as using:
        # A worker reads the dataset's version (and keeps the network for its first chunk):
        # the driver never loads the network.
        version = using.submit(dataset_version, network_path, tariffs_path, pure=False).result()
        manifest = {
            "what": "route batch",
            "input_digest": table.digest,
            "rows": table.rows,
            "chunk_size": chunk_size,
            "dataset": version,
            "columns": BATCH_SCHEMA.names,
        }
        reader = table.chunks(chunk_size)

        def submit(client: Any, start: int, stop: int) -> Any:
            for first, rows in reader:
                if first == start:
                    return client.submit(
                        plan_chunk, rows, first, network_path, tariffs_path, version, pure=False
                    )
            raise RuntimeError(f"the shipments table has no row {start}")  # pragma: no cover

        counts = run_chunks(
            output, manifest, table.rows, chunk_size, submit, what="route batch",
            client=using, max_in_flight=max_in_flight, progress=progress, on_chunk=on_chunk,
            on_progress=on_progress,
        )  # fmt: skip
    statuses = pq.read_table(output / CHUNKS, columns=["status"]).column("status")
    if len(statuses) != table.rows:  # pragma: no cover - a file removed while running
        raise RuntimeError(f"{output / CHUNKS} holds {len(statuses)} rows, not {table.rows}")
    by_status = {
        str(item["values"]): int(item["counts"])
        for item in sorted(pc.value_counts(statuses).to_pylist(), key=lambda i: -i["counts"])
    }
    return BatchRun(output, table.rows, counts.chunks, counts.resumed, by_status,
                    time.perf_counter() - began)  # fmt: skip
