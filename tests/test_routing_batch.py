"""Route batches on Dask streamed to Parquet (issue 23 item 3): inputs, resume, the manifest,
a killed worker, progress, and ``shudao plan-batch`` to a directory (and its deprecated alias
``plan-batch-dask``)."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from api.cli import app
from benchmarks.bench_routing import random_shipments
from network_data import Network
from optimizer.distributed import OtherRunError, local_cluster
from optimizer.errors import InvalidInputError
from optimizer.routing import plan_routes, plan_summary_row
from optimizer.routing.batch import (
    BATCH_SCHEMA,
    SUMMARY_TYPES,
    batch_table,
    plan_batch_to_parquet,
    plan_record,
)
from optimizer.routing.problem import shipment_from_record


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One worker process for the tests that do not kill it."""
    from distributed import Client

    with local_cluster(1) as cluster, Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def shipments() -> pd.DataFrame:
    """Random shipments of the bundled network, and two rows that cannot be planned."""
    from network_data import load_network

    table = random_shipments(load_network(), 118)
    bad = pd.DataFrame(
        {"id": ["BAD-WEIGHT", "BAD-PLACE"], "origin": ["Linshui", "Atlantis"],
         "destination": ["Duisburg"] * 2, "weight_kg": [-1.0, 800.0], "volume_m3": [4.2, 4.2],
         "ready_at": ["2026-11-23T08:00:00+00:00"] * 2}
    )  # fmt: skip
    return pd.concat([table.iloc[:50], bad, table.iloc[50:]], ignore_index=True)


def _clean(network: Network, table: pd.DataFrame) -> pd.DataFrame:
    """The rows a batch must write: every row planned here, in one process, in order."""
    records = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    return batch_table([plan_record(network, r) for r in records], 0).to_pandas()


def test_the_schema_has_every_column_of_a_plan_summary(network: Network) -> None:
    plan = plan_routes(
        network, shipment_from_record({"origin": "Linshui", "destination": "Duisburg",
                                       "weight_kg": 800, "volume_m3": 4.2}, network)
    )  # fmt: skip
    assert list(plan_summary_row(plan)) == list(SUMMARY_TYPES)
    assert BATCH_SCHEMA.names[:2] == ["row", "id"]


def test_a_table_file_or_frame_gives_the_same_rows(
    tmp_path: Path, network: Network, shipments: pd.DataFrame, client: Any
) -> None:
    """A DataFrame, a CSV file and a Parquet file of small row groups (not a multiple of the
    chunk size) give the rows of a plain loop, in order; the bad rows say why."""
    csv, parquet = tmp_path / "shipments.csv", tmp_path / "shipments.parquet"
    shipments.to_csv(csv, index=False)
    pq.write_table(pa.Table.from_pandas(shipments), parquet, row_group_size=7)
    expected = _clean(network, shipments)
    for source in (shipments, csv, parquet):
        name = source.name if isinstance(source, Path) else "frame"
        run = plan_batch_to_parquet(source, tmp_path / f"out-{name}", chunk_size=16,
                                    client=client)  # fmt: skip
        assert (run.rows, run.chunks, run.resumed) == (120, 8, 0), name
        pd.testing.assert_frame_equal(run.read(), expected, obj=name)
    rows = run.read().set_index("id")
    assert rows.loc["BAD-WEIGHT", "status"] == "invalid"
    assert rows.loc["BAD-WEIGHT", "error"].startswith("weight_kg: got -1.0")
    assert (
        rows.loc["BAD-PLACE", "status"] == "invalid"
        and "Atlantis" in rows.loc["BAD-PLACE", "error"]
    )
    assert run.by_status["invalid"] == 2 and sum(run.by_status.values()) == 120


class _StoppedError(Exception):
    pass


def test_a_rerun_plans_only_the_missing_chunks(
    tmp_path: Path, shipments: pd.DataFrame, client: Any
) -> None:
    def stop(start: int) -> None:
        raise _StoppedError(start)

    with pytest.raises(_StoppedError) as stopped:
        plan_batch_to_parquet(shipments, tmp_path, chunk_size=40, client=client, on_chunk=stop)
    first = stopped.value.args[0]
    written = sorted((tmp_path / "chunks").glob("*"))
    assert [p.name for p in written] == [f"chunk-{first:07d}.parquet"]
    written_at = written[0].stat().st_mtime_ns

    redone: list[int] = []
    heard: list[tuple[int, int]] = []
    run = plan_batch_to_parquet(
        shipments, tmp_path, chunk_size=40, client=client, on_chunk=redone.append,
        on_progress=lambda *p: heard.append(p),
    )  # fmt: skip
    assert sorted(redone) == sorted({0, 40, 80} - {first})  # the first chunk was not planned again
    assert written[0].stat().st_mtime_ns == written_at
    assert (run.chunks, run.resumed, run.rows) == (3, 1, 120)
    assert heard[0] == (40, 120) and heard[-1] == (120, 120)
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)
    assert run.read(columns=["row"])["row"].tolist() == list(range(120))


def test_the_manifest_refuses_another_batch_in_the_same_directory(
    tmp_path: Path, shipments: pd.DataFrame, client: Any
) -> None:
    plan_batch_to_parquet(shipments.iloc[:10], tmp_path, chunk_size=5, client=client)
    manifest = (tmp_path / "manifest.json").read_text()
    with pytest.raises(OtherRunError, match=r"other settings \(chunk_size\)") as refused:
        plan_batch_to_parquet(shipments.iloc[:10], tmp_path, chunk_size=4, client=client)
    assert refused.value.field == "output"
    with pytest.raises(OtherRunError, match=r"\(input_digest, rows\)"):
        plan_batch_to_parquet(shipments.iloc[:12], tmp_path, chunk_size=5, client=client)
    assert (tmp_path / "manifest.json").read_text() == manifest
    assert len(list((tmp_path / "chunks").glob("*.parquet"))) == 2
    (tmp_path / "manifest.json").unlink()  # chunk files of no telling what: not taken as done
    with pytest.raises(OtherRunError, match=r"holds chunk files without manifest\.json"):
        plan_batch_to_parquet(shipments.iloc[:10], tmp_path, chunk_size=5, client=client)


def test_a_batch_made_by_an_older_release_is_not_resumed(
    tmp_path: Path, shipments: pd.DataFrame, client: Any
) -> None:
    """Its rows lack today's columns: the manifest records the columns, so the directory is
    refused rather than a table of two shapes written."""
    plan_batch_to_parquet(shipments.iloc[:10], tmp_path, chunk_size=5, client=client)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["columns"] == BATCH_SCHEMA.names
    del manifest["columns"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(OtherRunError, match=r"other settings \(columns\)"):
        plan_batch_to_parquet(shipments.iloc[:10], tmp_path, chunk_size=5, client=client)


def test_each_row_is_planned_within_its_time_limit(network: Network) -> None:
    """A row's plan searches for at most its ``time_limit_s`` (10 s by default). One stopped
    at it says so (``stopped``) and gives a cost bound that the plan without a limit (the
    verifier) does not beat; one that ran to the end has its cheapest option's cost as bound."""
    row = {"origin": "Chongqing", "destination": "Rotterdam", "weight_kg": 12000,
           "volume_m3": 40, "ready_at": "2026-11-23T08:00:00+00:00"}  # fmt: skip
    full = plan_routes(network, shipment_from_record(row, network), time_limit_s=None)
    whole = plan_record(network, row)
    assert whole["status"] == "planned"
    assert whole["cost_bound_cny"] == whole["cheapest_cost_cny"] == round(full.objective, 2)
    assert plan_record(network, {**row, "time_limit_s": "inf"}) == whole
    stopped = plan_record(network, {**row, "time_limit_s": "1e-9"})
    assert stopped["status"] == "stopped"
    assert stopped["cost_bound_cny"] <= round(full.objective, 2)
    if stopped["cheapest_cost_cny"] is not None:
        assert stopped["cheapest_cost_cny"] >= round(full.objective, 2)
    for bad in ("0", "-3", "soon", "nan"):
        refused = plan_record(network, {**row, "time_limit_s": bad})
        assert refused["status"] == "invalid"
        assert (
            refused["error"] == f"time_limit_s: got '{bad}'; expected seconds > 0 (inf: no limit)"
        )


def test_bad_input_names_the_argument(tmp_path: Path, shipments: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="shipments: the table lacks") as missing:
        plan_batch_to_parquet(shipments.drop(columns=["volume_m3"]), tmp_path / "a")
    assert missing.value.field == "shipments" and "volume_m3" in str(missing.value)
    with pytest.raises(InvalidInputError, match=r"shipments: got '.*shipments\.xlsx'"):
        plan_batch_to_parquet(tmp_path / "shipments.xlsx", tmp_path / "b")
    with pytest.raises(InvalidInputError, match="chunk_size: got 0"):
        plan_batch_to_parquet(shipments, tmp_path / "c", chunk_size=0)
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_killed_worker_loses_and_doubles_no_row(tmp_path: Path, network: Network) -> None:
    """Kill one of two worker processes once the first chunk is written: its tasks run again
    on the other (and on the process its nanny starts again); every row is written once, as
    a run without the kill writes it."""
    from distributed import Client

    table = random_shipments(network, 1000, seed=23)
    killed: list[int] = []
    with local_cluster(2) as cluster, Client(cluster) as dask_client:
        pids = dask_client.run(os.getpid)

        def kill_one(start: int) -> None:
            if not killed:
                busy = [address for address, keys in dask_client.processing().items() if keys]
                assert busy  # a worker with a task running (or queued on it) dies
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(pids[busy[0]])

        run = plan_batch_to_parquet(table, tmp_path, chunk_size=20, client=dask_client,
                                    on_chunk=kill_one)  # fmt: skip
        assert killed and killed[0] not in dask_client.run(os.getpid).values()
    rows = run.read()
    assert rows["row"].tolist() == list(range(1000))
    assert rows["id"].is_unique and set(rows["id"]) == set(table["id"])
    assert len(list((tmp_path / "chunks").iterdir())) == 50  # no temporary file left
    pd.testing.assert_frame_equal(rows, _clean(network, table))


def test_cli_plans_a_csv_to_a_directory_and_resumes(
    tmp_path: Path, shipments: pd.DataFrame
) -> None:
    """``plan-batch`` to a name without a suffix plans on Dask; rerun (here through the
    deprecated ``plan-batch-dask``, which says so on one line of stderr) it resumes."""
    source = tmp_path / "shipments.csv"
    shipments.iloc[:30].to_csv(source, index=False)
    out = tmp_path / "plans"
    options = ["-o", str(out), "--chunk-size", "10", "--workers", "1", "--quiet"]
    result = CliRunner().invoke(app, ["plan-batch", str(source), *options])
    assert result.exit_code == 0, result.output
    assert f"wrote 30 plans to {out / 'chunks'} (planned " in result.output
    assert pd.read_parquet(out / "chunks")["row"].tolist() == list(range(30))
    (out / "chunks" / "chunk-0000010.parquet").unlink()
    again = CliRunner().invoke(app, ["plan-batch-dask", str(source), *options])
    assert again.exit_code == 0, again.output
    assert "2 of 3 chunks were on disk already" in again.stdout
    assert again.stderr == (
        "warning: plan-batch-dask is deprecated and goes in the next release; use "
        "shudao plan-batch SHIPMENTS -o DIR/ (the same options)\n"
    )
    other = CliRunner().invoke(app, ["plan-batch", str(source), *options[:3], "12", *options[4:]])
    assert other.exit_code == 2
    assert f"error: output: {out} holds a route batch with other settings (chunk_size)" in (
        other.output
    )


def test_both_outputs_read_a_gbk_file_alike(tmp_path: Path, shipments: pd.DataFrame) -> None:
    """A GBK file (Excel on a Chinese Windows machine) with Chinese ids and places, to one
    Parquet file and to a directory (a trailing slash; chunks of 5 rows on Dask): the same
    plans, row by row."""
    table = shipments.iloc[45:57].copy()  # the two bad rows among planned ones
    table["id"] = [f"蜀道-{i}" for i in range(len(table))]
    table.iloc[0, table.columns.get_loc("origin")] = "广安"
    source = tmp_path / "shipments.csv"
    source.write_bytes(table.to_csv(index=False).encode("gbk"))
    one_file = tmp_path / "plans.parquet"
    result = CliRunner().invoke(
        app, ["plan-batch", str(source), "-o", str(one_file), "--workers", "1", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        app, ["plan-batch", str(source), "-o", f"{tmp_path / 'plans.d'}/", "--chunk-size", "5",
              "--workers", "1", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 12 plans" in result.output and "invalid 2" in result.output
    chunked = pd.read_parquet(tmp_path / "plans.d" / "chunks")
    whole = pd.read_parquet(one_file)
    assert chunked["row"].tolist() == list(range(12))
    assert chunked["id"].tolist() == whole["id"].tolist() == table["id"].tolist()
    for column in (
        "origin_node",
        "status",
        "options",
        "cheapest_cost_cny",
        "cheapest_summary",
        "error",
    ):
        cells = [[None if pd.isna(v) else v for v in t[column]] for t in (chunked, whole)]
        assert cells[0] == cells[1], column


@pytest.mark.parametrize("output", ["plans.csv", "plans"])
def test_both_outputs_refuse_a_binary_file_alike(tmp_path: Path, output: str) -> None:
    source = tmp_path / "shipments.csv"
    source.write_bytes(b"origin,destination,weight_kg,volume_m3\nLinshui,\x00,1,1\n")
    result = CliRunner().invoke(app, ["plan-batch", str(source), "-o", str(tmp_path / output)])
    assert result.exit_code == 2
    assert result.output == (
        "error: shipments.csv: got binary data (a zero byte at offset 47); expected text in "
        "UTF-8, GBK, or UTF-16 with a byte-order mark\n"
    )
    assert not (tmp_path / output).exists()


def test_a_route_batch_job_allows_a_row_a_minute_at_most(network: Network) -> None:
    """As the API's own route plans: a row asking for more (or for none) is answered with
    the reason, the others are planned."""
    from api.jobs.route_batch import RouteBatchInput

    row = {"origin": "Chongqing", "destination": "Rotterdam", "weight_kg": 12000,
           "volume_m3": 40, "ready_at": "2026-11-23T08:00:00+00:00"}  # fmt: skip
    limits = ["", "60", "61", "inf", "1e-9"]
    batch = RouteBatchInput.model_validate(
        {"shipments": [{**row, "time_limit_s": limit} for limit in limits]}
    )
    rows = batch.run(network, lambda done: True)["rows"]
    assert [r["status"] for r in rows] == ["planned", "planned", "invalid", "invalid", "stopped"]
    expected = "time_limit_s: got '{}'; expected seconds > 0, at most 60"
    assert [rows[2]["error"], rows[3]["error"]] == [expected.format("61"), expected.format("inf")]
