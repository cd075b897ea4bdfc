"""Rates with a date: tariff validity, FX age and the dated passage status, in plans and data."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from network_data import Network, load_network
from network_data.errors import NetworkValidationError
from optimizer import validity
from optimizer.errors import InvalidInputError
from optimizer.model import RoutePlan, Shipment
from optimizer.routing import plan_routes
from scenarios.changes import apply_changes
from scenarios.spec import load_scenario

#: The mode:rail:CN rows of tariffs.csv (TAR-RAIL-CN), quoted again as a contract.
CONTRACT_HEADER = (
    "scope,unit,break_from,rate,rate_per_km,min_charge,currency,quoted_on,valid_from,valid_to,"
    "source\n"
)
RAIL_CN_ROWS = [
    "mode:rail:CN,container:20GP,0,650,1.5,0,CNY",
    "mode:rail:CN,container:40GP,0,1000,2.3,0,CNY",
    "mode:rail:CN,container:40HQ,0,1050,2.4,0,CNY",
    "mode:rail:CN,wm,0,60,0.08,60.08,CNY",
]


def contract(tmp_path: Path, quoted_on: str, valid_from: str, valid_to: str) -> Network:
    rates = tmp_path / "rates.csv"
    rows = "".join(f"{row},{quoted_on},{valid_from},{valid_to},contract\n" for row in RAIL_CN_ROWS)
    rates.write_text(CONTRACT_HEADER + rows, encoding="utf-8")
    return load_network(tariffs=rates)


def rail_lcl(ready: datetime) -> Shipment:
    """800 kg / 4.2 m3 by the Land-Sea Corridor train: one rail leg, LCL, priced in CNY."""
    return Shipment("CNCKG-RLY", "CNQZH", 800, 4.2, ready_at=ready, allowed_modes={"rail"})


def sea_to_rotterdam(ready: datetime, **more: object) -> Shipment:
    return Shipment(
        "Chongqing", "Rotterdam", 5000, 20, ready_at=ready, allowed_modes={"sea", "road"}, **more
    )


# --- rates outside their validity -----------------------------------------------------------


def test_no_rate_warning_inside_the_validity(tmp_path: Path) -> None:
    network = contract(tmp_path, "2026-11-20", "2026-12-01", "2027-05-31")
    plan = plan_routes(network, rail_lcl(datetime(2026, 12, 10, 8, tzinfo=UTC)))
    (leg,) = plan.options[0].legs
    assert date(2026, 12, 1) <= leg.depart.date() <= date(2027, 5, 31)
    # One leg, priced in CNY by the contract's LCL row: nothing is out of date.
    assert [(r.scope, r.unit) for r in validity.leg_rates(network, leg)] == [("mode:rail:CN", "wm")]
    assert plan.warnings == ()


def test_a_rate_past_its_validity_is_a_warning_in_words(tmp_path: Path) -> None:
    network = contract(tmp_path, "2026-11-20", "2026-12-01", "2027-05-31")
    plan = plan_routes(network, rail_lcl(datetime(2027, 6, 10, 8, tzinfo=UTC)))
    depart = plan.options[0].legs[0].depart.date()
    # ready 16:00 in Chongqing on the 10th: the 22:00 train of the 12th is the first whose 48 h
    # cut-off comes after it (TT-RAIL)
    assert depart == date(2027, 6, 12)
    # 2026-11-20 to 2027-06-12 is 204 days, 6.7 months of 30.44 days
    assert plan.warnings == (
        "rail rates (the default for rail legs from CN) quoted 2026-11-20 and valid to "
        "2027-05-31, 7 months before this departure (2027-06-12): ask the carrier for a "
        "current rate",
    )


def test_a_rate_not_yet_valid_is_a_warning(tmp_path: Path) -> None:
    network = contract(tmp_path, "2026-11-20", "2027-01-01", "2027-06-30")
    plan = plan_routes(network, rail_lcl(datetime(2026, 12, 10, 8, tzinfo=UTC)))
    assert plan.warnings == (
        "rail rates (the default for rail legs from CN) are valid from 2027-01-01, after this "
        "departure (2026-12-12): ask the carrier for the rate on 2026-12-12",
    )


def test_one_warning_per_stale_scope_however_many_legs(network: Network) -> None:
    # Mianyang -> Chengdu -> Qinzhou by rail: both legs are priced by the China rail default.
    plan = plan_routes(
        network,
        Shipment("CNMYG-RLY", "CNQZH", 800, 4.2, allowed_modes={"rail"},
                 ready_at=datetime(2026, 12, 10, 8, tzinfo=UTC)),
        max_options=None,
    )  # fmt: skip
    scoped = [
        leg
        for option in plan.options
        for leg in option.legs
        if any(r.scope == "mode:rail:CN" for r in validity.leg_rates(network, leg))
    ]
    assert len(scoped) >= 2
    about_cn = [
        w for w in plan.warnings if w.startswith("rail rates (the default for rail legs from CN)")
    ]
    assert len(about_cn) == 1
    # quoted 2025-06-30, valid 91 days (VALID-RAIL) to 2025-09-28
    assert "quoted 2025-06-30 and valid to 2025-09-28" in about_cn[0]


def test_rates_from_one_sheet_share_one_warning(network: Network) -> None:
    """Linshui to Duisburg: eleven warnings before, nine of them about rates. Rates quoted on
    the same day now share one warning, which names every scope the sheet priced once; a
    date with one scope keeps the single-scope words."""
    plan = plan_routes(
        network,
        Shipment("Linshui", "Duisburg", 800, 4.2, ready_at=datetime(2026, 12, 7, 8, tzinfo=UTC)),
    )
    stale = {
        (rate.scope, rate.quoted_on)
        for option in plan.options
        for leg in option.legs
        for rate in validity.leg_rates(network, leg)
        if not rate.valid_from <= leg.depart.date() <= rate.valid_to
    }
    quoted = sorted({day for _, day in stale})
    about_rates = [w for w in plan.warnings if "ask the carrier" in w]
    assert len(about_rates) == len(quoted) < len(stale)
    for day in quoted:
        scopes = [scope for scope, on in stale if on == day]
        [warning] = [w for w in about_rates if f"quoted {day}" in w]
        if len(scopes) > 1:
            assert warning.startswith(f"rates quoted {day} and valid to ")
            assert warning.count("rates") == len(scopes) + 2  # "rates quoted", "current rates"
            assert warning.endswith("ask the carriers for current rates")


def test_bundled_rates_are_valid_by_their_kind(network: Network) -> None:
    # SOURCES.md, Tariffs: valid_from = quoted_on, valid_to = quoted_on + N - 1 days
    days = {
        ("VALID-SEA", "container"): 14, ("VALID-SEA", "wm"): 30, ("VALID-AIR", "kg"): 7,
        ("VALID-EXPRESS", "express_kg"): 30, ("VALID-RAIL", None): 91, ("VALID-ROAD", None): 14,
        ("VALID-FEE", None): 365,
    }  # fmt: skip
    modes = {"VALID-SEA": "sea", "VALID-AIR": "air", "VALID-EXPRESS": "air", "VALID-ROAD": "road"}
    table = pd.read_csv(
        Path(__file__).parents[1] / "network_data/data/tariffs.csv", dtype=str,
        keep_default_na=False,
    )  # fmt: skip
    corridors = pd.concat([network.corridors, network.planned.corridors])["mode"]
    for row in table.itertuples():
        (key,) = [k for k in row.source.split(";") if k.startswith("VALID-")]
        if key != "VALID-FEE":  # documents and declarations: any mode, or customs
            mode = (
                row.scope.split(":")[1] if row.scope.startswith("mode:") else corridors[row.scope]
            )
            assert mode in (("rail", "inland_water") if key == "VALID-RAIL" else (modes[key],))
        unit = row.unit.split(":")[0]
        n = days.get((key, unit), days.get((key, None)))
        assert row.valid_from == row.quoted_on
        assert date.fromisoformat(row.valid_to) - date.fromisoformat(row.quoted_on) == timedelta(
            days=n - 1
        ), row


# --- FX -------------------------------------------------------------------------------------


def test_fx_far_from_the_departure_is_a_warning(network: Network) -> None:
    plan = plan_routes(network, sea_to_rotterdam(datetime(2026, 12, 10, 8, tzinfo=UTC)))
    # The sea rate is in USD; fx.csv is as of 2025-06-30, 528 days (17 months) before.
    assert validity.fx_warnings(network, plan) == [
        "FX rates (CNY per USD) are as of 2025-06-30, 17 months before this departure "
        "(2026-12-10): prices converted from USD may be off by the rates' move in between"
    ]
    # 90 days before the departure is close enough (FX_MAX_AGE_DAYS = 91), 91 days is not.
    for as_of, expected in (("2026-09-11", 0), ("2026-09-10", 1)):
        dated = replace(network, fx=network.fx.assign(as_of=as_of))
        assert len(validity.fx_warnings(dated, plan)) == expected
    # A plan priced only in CNY has no FX warning.
    rail = plan_routes(network, rail_lcl(datetime(2026, 12, 10, 8, tzinfo=UTC)))
    assert validity.fx_warnings(network, rail) == []


# --- validation -----------------------------------------------------------------------------


def test_bad_validity_rows_are_reported_with_file_and_line(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(
        CONTRACT_HEADER
        + f"{RAIL_CN_ROWS[0]},2026-11-20,2026-12-01,2026-11-01,contract\n"
        + f"{RAIL_CN_ROWS[1]},2026-11-20,2026-12-01,2027-02-30,contract\n"
        + f"{RAIL_CN_ROWS[3]},2026-11-20,,2027-05-31,contract\n",
        encoding="utf-8",
    )
    with pytest.raises(NetworkValidationError) as caught:
        load_network(tariffs=rates)
    assert [str(p) for p in caught.value.problems] == [
        "rates.csv line 4 (scope mode:rail:CN): valid_from is missing",
        "rates.csv line 2 (scope mode:rail:CN): valid_from 2026-12-01 is after valid_to "
        "2026-11-01; a period must end on or after its first day",
        "rates.csv line 3 (scope mode:rail:CN): valid_to '2027-02-30' is not a YYYY-MM-DD date",
    ]


def test_a_contract_file_needs_the_validity_columns(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "scope,unit,break_from,rate,rate_per_km,min_charge,currency,quoted_on,source\n"
        f"{RAIL_CN_ROWS[3]},2026-11-20,contract\n",
        encoding="utf-8",
    )
    with pytest.raises(
        NetworkValidationError, match=r"rates\.csv: missing columns: valid_from, valid_to"
    ):
        load_network(tariffs=rates)


def test_bad_passage_status_rows_are_reported(data_copy: Path) -> None:
    (data_copy / "passage_status.csv").write_text(
        "passage,valid_from,valid_to,status,note,source\n"
        "suez,2000-01-01,2023-12-14,open,before,PASS-OPEN\n"
        "suez,2023-12-01,,avoided,overlaps,PASS-RS-2023\n"
        "kiel,2024-01-01,,closed,unknown,PASS-RS-2023\n",
        encoding="utf-8",
    )
    with pytest.raises(NetworkValidationError) as caught:
        load_network(data_copy)
    problems = [str(p) for p in caught.value.problems]
    assert (
        "passage_status.csv line 4 (passage kiel): status 'closed' is not one of open, avoided"
        in problems
    )
    assert any(
        p.startswith("passage_status.csv line 4 (passage kiel): passage 'kiel' is not defined")
        for p in problems
    )
    assert (
        "passage_status.csv line 3 (passage suez): valid_from 2023-12-01 falls in the period of "
        "line 2 (2000-01-01 to 2023-12-14); periods of one passage must not overlap"
    ) in problems


# --- passage status -------------------------------------------------------------------------


def test_passage_status_on_two_dates(network: Network) -> None:
    before = validity.passage_status_on(network, "suez", date(2023, 6, 1))
    after = validity.passage_status_on(network, "suez", date(2026, 12, 10))
    assert before is not None and (before.status, before.valid_to) == ("open", date(2023, 12, 14))
    assert after is not None and (after.status, after.valid_from) == ("avoided", date(2026, 3, 1))
    assert (
        validity.passage_status_on(network, "bab-el-mandeb", date(2023, 12, 15)).status == "avoided"
    )  # type: ignore[union-attr]
    assert validity.passage_status_on(network, "cape", date(2026, 12, 10)) is None


def cheapest_corridors(plan: RoutePlan) -> list[str]:
    cheapest = min(plan.options, key=lambda option: option.cost_cny)
    return [leg.corridor_id or "" for leg in cheapest.legs]


def passages_used(plan: RoutePlan) -> set[str]:
    return {p for option in plan.options for leg in option.legs for p in leg.passages}


def test_default_plan_follows_the_status_on_the_ready_date(network: Network) -> None:
    # 2023-06-01: Suez open. The dataset is dated 2026-11-22 and plans start within a year of
    # it, so the network is given an earlier date to plan then (the tariffs warn, below).
    in_2023 = replace(network, date="2023-05-22")
    plan = plan_routes(in_2023, sea_to_rotterdam(datetime(2023, 6, 1, 8, tzinfo=UTC)))
    assert cheapest_corridors(plan) == ["ROAD-CNCKG-CNQZH", "SEA-CNQZH-NLRTM"]
    assert "suez" in passages_used(plan)
    assert not any("left out" in w for w in plan.warnings)
    assert any(
        w.startswith(
            "sea rates for Qinzhou Port (rail-sea terminal) → Rotterdam are valid from 2025-02-28"
        )
        for w in plan.warnings
    )

    # 2026-12-10: the main carriers avoid Suez and Bab-el-Mandeb, so the default goes round the
    # Cape (10-14 days longer, CF4) and says why.
    ready = datetime(2026, 12, 10, 8, tzinfo=UTC)
    plan = plan_routes(network, sea_to_rotterdam(ready))
    assert cheapest_corridors(plan) == ["ROAD-CNCKG-CNQZH", "SEA-CNQZH-NLRTM-CAPE"]
    assert passages_used(plan).isdisjoint({"suez", "bab-el-mandeb"})
    assert plan.shipment.avoid == frozenset()  # the plan keeps the shipment as asked
    assert plan.warnings[0].startswith(
        "sea routes through the Suez Canal and the Bab-el-Mandeb strait are left out: the main "
        "container carriers avoid them on 2026-12-10 (since 2026-03-01: "
    )
    assert plan.warnings[0].endswith("name suez, bab-el-mandeb in use_passages to see them")

    # A shipment may still ask for them, and is told the carriers do not sail there.
    asked = plan_routes(
        network, sea_to_rotterdam(ready, use_passages=frozenset({"suez", "bab-el-mandeb"}))
    )
    assert cheapest_corridors(asked) == ["ROAD-CNCKG-CNQZH", "SEA-CNQZH-NLRTM"]
    assert asked.warnings[0].startswith(
        "options through the Bab-el-Mandeb strait and the Suez Canal sail where the main "
        "container carriers do not on 2026-12-10"
    )
    # A rail plan does not hear about Suez.
    rail = plan_routes(network, rail_lcl(ready))
    assert not any("Suez" in w for w in rail.warnings)


def test_reopening_scenario_sails_through_suez_without_a_passage_warning(network: Network) -> None:
    reopened = apply_changes(network, load_scenario("red_sea_reopening").changes).network
    ready = datetime(2026, 12, 10, 8, tzinfo=UTC)
    plan = plan_routes(reopened, sea_to_rotterdam(ready))
    assert cheapest_corridors(plan) == ["ROAD-CNCKG-CNQZH", "SEA-CNQZH-NLRTM"]
    assert not any("Suez" in w for w in plan.warnings)


def test_use_passages_names_passages_not_avoided(network: Network) -> None:
    ready = datetime(2026, 12, 10, 8, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match="use_passages: got 'kiel'; expected a passage"):
        plan_routes(network, sea_to_rotterdam(ready, use_passages=frozenset({"kiel"})))
    with pytest.raises(InvalidInputError, match="use_passages: got 'suez'; expected passages"):
        sea_to_rotterdam(ready, use_passages=frozenset({"suez"}), avoid=frozenset({"suez"}))


# --- shown to people ------------------------------------------------------------------------


def test_plan_json_and_cli_table_carry_the_warnings(network: Network) -> None:
    args = ["plan", "--from", "CNCKG-RLY", "--to", "CNQZH", "--weight-kg", "800", "--volume-m3",
            "4.2", "--modes", "rail", "--ready", "2026-12-10T08:00+00:00"]  # fmt: skip
    expected = (
        "rail rates (the default for rail legs from CN) quoted 2025-06-30 and valid to "
        "2025-09-28, 17 months before this departure (2026-12-12): ask the carrier for a "
        "current rate"
    )
    document = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert document["warnings"] == [expected]
    table = CliRunner().invoke(app, args).stdout
    assert table.startswith("Warning: rail rates (the default for rail legs from CN) quoted")
    assert table.index("Warning:") < table.index("Option 1")
