"""Plan many shipments, on several processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import pandas as pd
from rich.progress import Progress

from network_data import Network
from optimizer._compile import routing_data
from optimizer.routing.plan import plan_routes
from optimizer.routing.problem import shipment_from_record
from optimizer.routing.result import plan_summary_row

_Item = TypeVar("_Item")
_Result_T = TypeVar("_Result_T")


def plan_record(network: Network, record: dict[str, Any]) -> dict[str, Any]:
    """Plan one shipments-table row; an invalid row gives ``status`` invalid and ``error``."""
    try:
        shipment = shipment_from_record(record, network)
        row = plan_summary_row(plan_routes(network, shipment, max_options=1))
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
