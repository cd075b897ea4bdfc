"""Files people hand the ``shudao`` commands (issue 19, case 8): every command reads them with
one reader, so GBK (Excel on a Chinese Windows machine) and UTF-16 with a byte-order mark
work, and a binary, empty or header-only file is an error in words with exit 2, never a
traceback; a scenario file reads data only inside its own folder."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from scenarios.spec import load_scenario

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"

# Each command's data file, with Chinese text that GBK and UTF-16 must carry intact.
SHIPMENTS = (
    "id,origin,destination,weight_kg,volume_m3,ready_at\n"
    "蜀道-1,广安,杜伊斯堡,800,4.2,2026-11-23T08:00:00+08:00\n"
)
LOTS = (
    "id,seller,origin,destination,ready_date,deadline,weight_kg,volume_m3\n"
    "蜀道-1,川渝商贸,成都,杜伊斯堡,2026-11-29,2026-12-31,2000,10\n"
)
PICKUPS = (
    (EXAMPLES / "pickups.csv").read_text(encoding="utf-8").replace("MY-HITECH-1", "绵阳高新-1")
)
SCENARIO = "name: files\ndescription: a demand file in the folder\ndemand: {file: lots.csv}\n"


def _plan_batch(data: Path) -> list[str]:
    return ["plan-batch", str(data), "-o", str(data.parent / "plans.csv"), "--workers", "1"]


def _consolidate(data: Path) -> list[str]:
    return ["consolidate", str(data), "--hub", "CNCTU-RLY", "--from", "2026-12-02",
            "--to", "2026-12-02", "--time-limit", "5", "--workers", "1"]  # fmt: skip


def _pickups(data: Path) -> list[str]:
    return ["pickups", str(data), "--hub", "Chengdu rail port", "--cutoff",
            "2026-12-03T18:00+08:00", "--fleet", str(EXAMPLES / "fleet.csv"),
            "--time-limit", "1", "--seed", "1"]  # fmt: skip


def _scenario_run(data: Path) -> list[str]:
    scenario = data.parent / "files.yaml"
    scenario.write_text(SCENARIO.replace("lots.csv", data.name), encoding="utf-8")
    return ["scenario", "run", str(scenario), "--sample", "1", "--workers", "1", "--json"]


# command -> (how it is called on a data file, the file's valid text, what a run prints)
COMMANDS: dict[str, tuple[Callable[[Path], list[str]], str, str]] = {
    "plan-batch": (_plan_batch, SHIPMENTS, "wrote 1 plans"),
    "consolidate": (_consolidate, LOTS, "1 lots placed"),
    "pickups": (_pickups, PICKUPS, "绵阳高新-1"),
    "scenario run": (_scenario_run, SHIPMENTS, '"name": "files"'),
}
BAD_FILES: dict[str, tuple[Callable[[str], bytes], str]] = {
    # a PNG's first bytes: its signature, then a chunk length with zero bytes
    "binary": (lambda text: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "got binary data"),
    "empty": (lambda text: b"", "got an empty table"),
    "header-only": (lambda text: text.splitlines(keepends=True)[0].encode(), "got no rows"),
    "unclosed quote": (
        lambda text: text.replace(",", ',"', 1).encode(),
        "got malformed CSV on line",
    ),
    "not a workbook": (lambda text: text.encode(), "got a file that is not an Excel workbook"),
}


def _workbook(text: str) -> bytes:
    """The CSV text as the first sheet of an .xlsx workbook, numbers as numbers."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in csv.reader(io.StringIO(text)):
        sheet.append([float(v) if v.replace(".", "", 1).isdigit() else v for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


GOOD_FILES: dict[str, Callable[[str], bytes]] = {
    "GBK": lambda text: text.encode("gbk"),
    "UTF-16": lambda text: text.replace("\n", "\r\n").encode("utf-16"),  # Excel: BOM, CRLF
    "UTF-8 BOM": lambda text: text.encode("utf-8-sig"),
    "xlsx": _workbook,
}
#: Kinds written as an Excel workbook (.xlsx).
EXCEL_KINDS = ("xlsx", "not a workbook")


def _data_file(tmp_path: Path, command: str, kind: str = "") -> Path:
    name = "lots" if command == "scenario run" else "data"
    return tmp_path / f"{name}.{'xlsx' if kind in EXCEL_KINDS else 'csv'}"


@pytest.mark.parametrize("kind", list(BAD_FILES) + list(GOOD_FILES))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_case8_cli_bad_files_exit_2_without_traceback(
    tmp_path: Path, command: str, kind: str
) -> None:
    arguments, text, printed = COMMANDS[command]
    data = _data_file(tmp_path, command, kind)
    if kind in GOOD_FILES:
        data.write_bytes(GOOD_FILES[kind](text))
        result = runner.invoke(app, arguments(data))
        assert result.exit_code == 0, result.output
        assert printed in result.output
        return
    encode, problem = BAD_FILES[kind]
    data.write_bytes(encode(text))
    result = runner.invoke(app, arguments(data))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    first_line = result.output.splitlines()[0]
    assert first_line.startswith("error: ") and f"{data.name}: {problem}" in first_line
    assert len(result.output) < 400


def test_case8_gbk_text_arrives_intact(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(SHIPMENTS.encode("gbk"))
    result = runner.invoke(app, _plan_batch(data))
    assert result.exit_code == 0, result.output
    plans = pd.read_csv(tmp_path / "plans.csv")
    assert list(plans["id"]) == ["蜀道-1"]
    assert list(plans["status"]) == ["planned"]
    assert list(plans["destination_node"]) == ["DEDUI"]  # 杜伊斯堡 is Duisburg


def test_case8_json_rows_in_utf16_are_read(tmp_path: Path) -> None:
    data = tmp_path / "lots.json"
    row = dict(zip(LOTS.splitlines()[0].split(","), LOTS.splitlines()[1].split(","), strict=True))
    data.write_text(json.dumps([row], ensure_ascii=False), encoding="utf-16")
    result = runner.invoke(app, _consolidate(data))
    assert result.exit_code == 0, result.output
    assert "1 lots placed" in result.output


def test_case8_scenario_file_cannot_read_outside_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (tmp_path / "secret.csv").write_text(SHIPMENTS, encoding="utf-8")
    for named in ("../../../../etc/passwd", "/etc/passwd", "../secret.csv"):
        scenario = folder / "escape.yaml"
        scenario.write_text(SCENARIO.replace("lots.csv", named), encoding="utf-8")
        result = runner.invoke(app, ["scenario", "run", str(scenario), "--sample", "1"])
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"error: demand.file: got {named!r}; expected a path inside the scenario file's "
            "folder or the bundled scenarios' data folder\n"
        )
    link = folder / "lots.csv"
    link.symlink_to(tmp_path / "secret.csv")  # a link inside that leads out is refused too
    scenario.write_text(SCENARIO, encoding="utf-8")
    result = runner.invoke(app, ["scenario", "run", str(scenario), "--sample", "1"])
    assert result.exit_code == 2
    assert "demand.file: got 'lots.csv'; expected a path inside" in result.output


def test_case8_scenario_file_may_name_the_bundled_data(tmp_path: Path) -> None:
    bundled = Path(__file__).resolve().parents[1] / "scenarios" / "data" / "warehouses.csv"
    scenario = tmp_path / "bundled.yaml"
    scenario.write_text(
        "name: bundled\ndescription: bundled terms\ndemand: {generate: {weeks: 1}}\n"
        f"analyses:\n  allocation: {{sellers: {bundled.with_name('guangan_sellers.csv')}, "
        f"warehouses: {bundled}}}\n",
        encoding="utf-8",
    )
    assert load_scenario(scenario).analyses.allocation is not None


def billion_laughs() -> str:
    """The issue's scenario: 527 bytes whose 8 levels of aliases stand for 9**9 "lol"s."""
    lols = ", ".join(['"lol"'] * 9)
    levels = ", ".join(f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9))
    return f"name: laughs\ndemand: {{generate: {{}}}}\ndescription: [&a0 [{lols}], {levels}]\n"


def test_case3_cli_scenario_with_yaml_aliases_exits_2_with_a_short_error(tmp_path: Path) -> None:
    scenario = tmp_path / "laughs.yaml"
    scenario.write_text(billion_laughs(), encoding="utf-8")
    result = runner.invoke(app, ["scenario", "run", str(scenario)])
    assert result.exit_code == 2
    assert result.output == (
        "error: (file): line 3, column 15: got the YAML anchor &a0; expected no anchors or "
        "aliases (write each value out)\n"
    )


def test_case8_binary_scenario_file_exits_2(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_bytes(b"\x00\x01\x02 not yaml")
    result = runner.invoke(app, ["scenario", "run", str(scenario)])
    assert result.exit_code == 2
    assert result.output.startswith("error: scenario.yaml: got binary data (a zero byte at offset")


def test_case8_scenario_allocation_file_binary_exits_2(tmp_path: Path) -> None:
    """A scenario's allocation tables go through the one reader too (they were read with
    pandas, so a binary file was a traceback)."""
    bundled = Path(__file__).resolve().parents[1] / "scenarios" / "data" / "warehouses.csv"
    (tmp_path / "sellers.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 10)
    scenario = tmp_path / "binary.yaml"
    scenario.write_text(
        "name: binary\ndescription: a binary sellers file\ndemand: {generate: {weeks: 1}}\n"
        f"analyses:\n  allocation: {{sellers: sellers.csv, warehouses: {bundled}}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["scenario", "run", str(scenario), "--sample", "1"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: analyses.allocation.sellers: sellers.csv: ")
    assert "Traceback" not in result.output
