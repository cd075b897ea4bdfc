"""Parcel batches: the cheapest channel per parcel within a promise, as a function, a CLI
command and a job; and cargo class ``express`` wherever a cargo class is accepted."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.cli import app
from api.jobs.parcel_batch import ParcelBatchInput
from api.jobs.route_batch import RouteBatchInput
from api.jobs.worker import run_body
from api.schemas.route_plans import ShipmentIn
from network_data import Network
from optimizer.errors import InvalidInputError
from optimizer.first_mile.problem import VehicleType
from optimizer.jobs import checked
from optimizer.model import Shipment, freight_class
from optimizer.parcels import (
    ParcelChannels,
    batch_result,
    cheapest_channels,
    parcels_table,
    price_parcels,
)
from optimizer.parcels.kernel import OFFERED
from optimizer.routing import plan_routes

runner = CliRunner()
CHANNELS = ParcelChannels.bundled()
SHIP_ON = date(2026, 12, 7)
HEADER = "id,country,postcode,weight_kg,length_cm,width_cm,height_cm,pieces,contents,origin"
DAY = "\n".join(
    [
        HEADER,
        "LA-1,US,90001,2,30,20,15,1,,Chengdu",  # ePacket 179, the line 187, DHL 632.46
        "HAM-1,DE,,0.4,20,15,5,1,,",  # rail 29 (24 days), small packet 41 (21), ePacket 48 (14)
        "NBO-1,KE,,3,40,30,20,2,,Dazhou",  # over the post's 2 kg: DHL only
        "MIL-1,IT,,1,20,15,10,1,liquids,",  # every channel refuses liquids
        "TYO-1,JP,,0.8,25,20,10,1,lithium_in_equipment,Mianyang",  # ePacket 800 g x 0.05 + 13 + 3
    ]
)


def test_the_batch_picks_per_parcel_and_its_total_is_the_sum(tmp_path: Path) -> None:
    rows = [dict(zip(HEADER.split(","), line.split(","), strict=True))
            for line in DAY.splitlines()[1:]]  # fmt: skip
    table = price_parcels(CHANNELS, rows, ship_on=SHIP_ON)
    choice = cheapest_channels(table, promise_days=14)
    # Within 14 days the rail (24) and the small packet (21) are too slow for Hamburg.
    assert choice.channel == ("POST-EPACKET", "POST-EPACKET", "EXP-DHL", "", "POST-EPACKET")
    # Tokyo: 800 g x 0.050 = 40 + 13 per item, and China Post from Mianyang to Chengdu
    # max(2 x 0.8, 3) = 3: 56.
    assert list(choice.cost_cny[[0, 1, 4]]) == [179.0, 48.0, 56.0]
    # Nairobi: 40 x 30 x 20 / 5000 = 4.8 -> 5.0 kg, zone 9: 660 + 4 x 147 + 5 x 146 = 1,978
    # a piece; 2 pieces 3,956, fuel 24.5 % 969.22, Dazhou pickup max(4 x 3 x 2, 200) = 200.
    assert choice.cost_cny[2] == 3956 + 969.22 + 200
    assert choice.total_cny == round(179 + 48 + 56 + 3956 + 969.22 + 200, 2)
    assert choice.reason[3].startswith("no channel delivers within 14 days: liquids: refused by")
    # Without a promise the cheapest wins however slow: rail for Hamburg.
    assert cheapest_channels(table).channel[1] == "RAIL-EU"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([None, 5.0, 10.0, 20.0]))
def test_choice_is_the_cheapest_offered_within_the_promise(
    seed: int, promise: float | None
) -> None:
    rng = np.random.default_rng(seed)
    countries = ["US", "DE", "GB", "JP", "KE", "BR", "IT", "PL", "AU", "IR"]
    rows = [
        {"id": str(i), "country": str(rng.choice(countries)), "postcode": "60601",
         "weight_kg": round(float(rng.uniform(0.05, 6)), 3), "length_cm": 30,
         "width_cm": float(rng.uniform(5, 40)), "height_cm": 10}
        for i in range(12)
    ]  # fmt: skip
    table = price_parcels(CHANNELS, rows, ship_on=SHIP_ON)
    choice = cheapest_channels(table, promise)
    for i, channel in enumerate(choice.channel):
        fits = (table.priced.code[i] == OFFERED) & (
            table.priced.days_max[i] <= (promise if promise is not None else np.inf)
        )
        if channel:
            assert choice.cost_cny[i] == table.priced.cost_cny[i][fits].min()
        else:
            assert not fits.any() and choice.reason[i]
    assert choice.total_cny == round(float(np.nansum(choice.cost_cny)), 2)


def test_the_cli_prints_channel_totals_the_choice_and_the_total(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    source.write_text(DAY + "\n", encoding="utf-8")
    out = tmp_path / "chosen.csv"
    args = ["parcels", str(source), "--promise-days", "14", "--ship-on", "2026-12-07"]
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "POST-EPACKET         3        283.00" in result.output
    assert "LA-1        POST-EPACKET      179.00 CNY  14 days at most" in result.output
    assert "total 5,408.22 CNY for 4 of 5 parcels (1 no channel serves)" in result.output
    assert out.read_text(encoding="utf-8").splitlines()[1] == "LA-1,POST-EPACKET,179.0,14.0,"
    document = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert document["total_cny"] == 5408.22 and document["unserved"] == 1


def test_the_cli_names_the_bad_row_and_column(tmp_path: Path) -> None:
    source = tmp_path / "day.csv"
    source.write_text(HEADER + "\nA1,US,90001,2,30,20,15,1,,\nA2,US,,heavy,30,20,15,1,,\n")
    result = runner.invoke(app, ["parcels", str(source)])
    assert result.exit_code == 2
    assert "A2.weight_kg: got 'heavy'; expected a number > 0 and <= 1,000" in result.output
    result = runner.invoke(app, ["parcels", str(source), "--promise-days", "0"])
    assert result.exit_code == 2
    assert "--promise-days: got 0.0; expected a number in [1, 365]" in result.output
    source.write_text(HEADER + "\n,US,90001,2,30,20,15,1,batteries,\n")
    result = runner.invoke(app, ["parcels", str(source)])
    assert result.exit_code == 2 and "day.csv row 1.id: got ''" in result.output


@pytest.mark.parametrize(
    ("cell", "column", "allowed"),
    [
        ("country=USA", "country", "an ISO 3166-1 code such as US"),
        ("pieces=1.5", "pieces", "an integer from 1 to 10,000"),
        ("contents=battery", "contents", "some of lithium_alone, lithium_in_equipment"),
        ("origin=Shanghai", "origin", "a pilot-zone city: Chengdu, Chongqing"),
        ("length_cm=0", "length_cm", "a number > 0 and <= 1,000"),
    ],
)
def test_bad_rows_are_refused_naming_row_and_column(cell: str, column: str, allowed: str) -> None:
    good = {"id": "A", "country": "US", "weight_kg": "1", "length_cm": "10", "width_cm": "10",
            "height_cm": "10"}  # fmt: skip
    name, value = cell.split("=")
    with pytest.raises(InvalidInputError) as caught:
        parcels_table([good, {**good, name: value}])
    assert caught.value.field == f"parcels.1.{column}"
    assert allowed in str(caught.value)


def test_the_job_holds_the_same_table_as_the_cli() -> None:
    job = checked(ParcelBatchInput, {"csv": DAY, "promise_days": 14, "ship_on": "2026-12-07"})
    result = job.run(None, lambda share: True)
    assert result["total_cny"] == 5408.22
    assert [row["channel"] for row in result["rows"]] == [
        "POST-EPACKET", "POST-EPACKET", "EXP-DHL", "", "POST-EPACKET"
    ]  # fmt: skip
    assert result["chosen"] == [
        {"channel": "EXP-DHL", "parcels": 1, "cost_cny": 5125.22},
        {"channel": "POST-EPACKET", "parcels": 3, "cost_cny": 283.0},
    ]
    table = price_parcels(CHANNELS, job.parcels or [], ship_on=SHIP_ON)
    assert result == batch_result(table, cheapest_channels(table, 14))


def test_the_job_refuses_a_bad_row_at_submission_and_defaults_to_today() -> None:
    with pytest.raises(InvalidInputError) as caught:
        checked(ParcelBatchInput, {"csv": HEADER + "\nA,US,,1,10,10,-1,1,,\n"})
    assert caught.value.field == "input.parcels.0.height_cm"
    job = checked(ParcelBatchInput, {"csv": DAY})
    assert job.ship_on == datetime.now(UTC).date() and job.promise_days is None


# --- cargo class express ---------------------------------------------------------------------

EXPRESS = {"origin": "Chengdu", "destination": "Budapest", "weight_kg": 120, "volume_m3": 0.8,
           "ready_at": "2026-11-23T08:00:00+00:00"}  # fmt: skip


def test_express_moves_as_general_cargo_on_freight_legs(network: Network) -> None:
    ready = datetime(2026, 11, 23, 8, tzinfo=UTC)
    plans = [
        plan_routes(network, Shipment("Chengdu", "Budapest", weight_kg=120, volume_m3=0.8,
                                      ready_at=ready, cargo_class=cargo))
        for cargo in ("general", "express")
    ]  # fmt: skip
    general, express = ([(o.cost_cny, o.arrival) for o in p.options] for p in plans)
    assert express and express == general


def test_the_route_plan_schema_accepts_express() -> None:
    assert ShipmentIn.model_validate({**EXPRESS, "cargo_class": "express"}).cargo_class == (
        "express"
    )


def test_the_plan_command_accepts_express() -> None:
    result = runner.invoke(app, ["plan", "--from", "Chengdu", "--to", "Budapest", "--weight-kg",
                                 "120", "--volume-m3", "0.8", "--cargo", "express",
                                 "--ready", "2026-11-23T08:00:00+00:00", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["options"]


def test_a_route_batch_row_and_job_accept_express(network: Network) -> None:
    text = "origin,destination,weight_kg,volume_m3,ready_at,cargo_class\n" + (
        "Chengdu,Budapest,120,0.8,2026-11-23T08:00:00+00:00,express\n"
    )
    job = checked(RouteBatchInput, {"csv": text})
    result = job.run(network, lambda share: True)
    assert result["by_status"] == {"planned": 1}, result


def test_the_worker_runs_a_stored_parcel_batch(network: Network) -> None:
    stored = checked(ParcelBatchInput, {"csv": DAY, "promise_days": 14, "ship_on": "2026-12-07"})
    outcome = run_body("parcel-batch", stored.stored(), network, lambda share: True)
    assert outcome.status == "succeeded" and outcome.result is not None
    assert outcome.result["total_cny"] == 5408.22
    cancelled = run_body("parcel-batch", stored.stored(), network, lambda share: False)
    assert cancelled.status == "cancelled"


cells = st.one_of(
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 2000),
    st.sampled_from(["", "US", "de", "2", "0.5", "lithium_alone", "liquids|powders", "重庆"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["id", "country", "postcode", "weight_kg", "length_cm", "width_cm",
                        "height_cm", "pieces", "contents", "origin"]), cells)  # fmt: skip
def test_the_validator_accepts_good_cells_or_names_the_bad_one(column: str, cell: object) -> None:
    good = {"id": "A", "country": "US", "postcode": "", "weight_kg": 1.0, "length_cm": 10,
            "width_cm": 10, "height_cm": 10, "pieces": 1, "contents": "",
            "origin": "Chengdu"}  # fmt: skip
    try:
        table = parcels_table([good, {**good, column: cell}])
    except InvalidInputError as error:
        assert error.field == f"parcels.1.{column}"
        assert "expected" in str(error)
        return
    row = table.iloc[1]
    assert len(row["country"]) == 2 and row["country"].isupper()
    assert 0 < row["weight_kg"] <= 1000 and row["pieces"] >= 1
    assert row["long_cm"] >= row["mid_cm"] >= row["short_cm"] > 0


def test_a_truck_for_general_cargo_collects_express_parcels() -> None:
    van = VehicleType("van", 1_800, 16, cargo_classes=frozenset({"general"}))
    assert van.carries("express") and not van.carries("battery")
    assert freight_class("express") == "general"
