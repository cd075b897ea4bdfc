"""Every fenced example in README runs as written, so README cannot drift from the code.

Shell blocks run in README order in one working directory, as a reader would type them after
`make run`: ``.venv/bin/shudao`` commands through bash and the real CLI, curl commands as httpx
requests against a live server on a fresh SQLite database, with the demo key that
``shudao admin demo`` wrote. Python blocks run as strict doctests. A command the test does
not run, or runs shortened, is listed below with the reason; the coverage test fails on any
block, command, variable or check that these rules do not account for.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2
import pandas as pd
import pyogrio
import pytest

from api.main import create_app
from api.settings import Settings
from network_data import Network
from tests.live import serving

REPO = Path(__file__).parents[1]
README = REPO / "README.md"
SHUDAO = ".venv/bin/shudao"
README_HOST = "localhost:8000"  # where README's curl examples send requests
#: What README's commands read by relative path: linked into the working directory, so
#: their outputs (plans.parquet, out/, ...) land there and not in the repository.
LINKED = (".venv", "docs", "scenarios")

#: Commands the test deliberately does not run, with the reason.
NOT_RUN = {
    "make run": "starts the service and blocks; the `shell` fixture does what it does instead"
    " (`shudao admin demo` on a fresh database, then the service on a free port), the network"
    " block runs its `network summary` and `network map`, and test_make_runs_printed_example"
    " the curl example it prints",
    "make test": "runs the whole suite, this test included (13 minutes on 2 cores)",
}
#: SHUDAO_README_AS_WRITTEN=1 runs them as written (about 45 minutes more on 2 cores).
AS_WRITTEN = os.environ.get("SHUDAO_README_AS_WRITTEN") == "1"
#: Commands run with a smaller demand than written, and why; the same options otherwise.
SHORTENED = {
    f"{SHUDAO} scenario run carbon_price --baseline baseline --json": (
        f"{SHUDAO} scenario run carbon_price --baseline baseline --json --sample 300",
        "the full demand (about 9,300 shipments, planned twice) takes about 3 minutes on 2 cores",
    ),
    f"{SHUDAO} scenario sweep border_congestion --samples 1000 -o sweep/": (
        f"{SHUDAO} scenario sweep border_congestion --samples 2 -o sweep/",
        "1,000 samples of 200 shipments take about 40 minutes on 2 cores (10 took 48 s)",
    ),
}
#: README's shell variables that no README line sets: what a reader copies from an answer.
CAPTURED: dict[str, tuple[str, str, Callable[[Any], str]]] = {
    "ID": ("POST", "/v1/route-plans", lambda body: body["id"]),
    "JOB": ("POST", "/v1/jobs", lambda body: body["id"]),
    "BOOKING": ("GET", "/v1/bookings", lambda body: body["items"][0]["id"]),
}
CLI_TIMEOUT_S = 5400 if AS_WRITTEN else 600


@dataclass(frozen=True)
class Block:
    """One fenced block of README: its language, the line of its opening fence, its text."""

    lang: str
    line: int
    text: str


def readme_blocks() -> list[Block]:
    """Every fenced block of README, in order."""
    blocks: list[Block] = []
    opened: tuple[str, int] | None = None
    body: list[str] = []
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        fence = re.fullmatch(r"\s*```\s*(\S*)\s*", line)
        if fence and opened is None:
            opened, body = (fence.group(1), number), []
        elif fence:
            assert opened is not None and not fence.group(1), f"README line {number}"
            blocks.append(Block(opened[0], opened[1], "\n".join(body) + "\n"))
            opened = None
        elif opened is not None:
            body.append(line)
    assert opened is None, f"README: the block opened on line {opened[1]} is never closed"
    return blocks


def shell_commands(text: str) -> list[str]:
    """Split a shell block into its commands as bash reads them: at a newline or `;` outside
    quotes, joining backslash-continued lines and leaving comments out."""
    commands: list[str] = []
    current: list[str] = []
    quote_char: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if quote_char:
            current.append(char)
            if char == quote_char:
                quote_char = None
            elif char == "\\" and quote_char == '"':
                current.append(text[i + 1])
                i += 1
        elif char in "'\"":
            quote_char = char
            current.append(char)
        elif char == "\\":
            if text[i + 1] != "\n":  # a backslash-newline continues the line
                current.append(text[i : i + 2])
            i += 1
        elif char == "#" and (not current or current[-1].isspace()):
            while i + 1 < len(text) and text[i + 1] != "\n":
                i += 1
        elif char in "\n;":
            commands.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    assert quote_char is None, f"unclosed {quote_char} in {text!r}"
    commands.append("".join(current).strip())
    return [command for command in commands if command]


def normalised(command: str) -> str:
    """``command`` with its runs of white space as one space, to look it up in the tables."""
    return " ".join(command.split())


def kind_of(command: str) -> str:
    """How the test runs a command: not at all, as an assignment, as curl or as the CLI."""
    if normalised(command) in NOT_RUN:
        return "not run"
    if re.match(r"[A-Za-z_]\w*=", command):
        return "assignment"
    if command.startswith("curl "):
        return "curl"
    if command.startswith(f"{SHUDAO} "):
        return "cli"
    return "unknown"


# --- curl, translated to httpx -------------------------------------------------------------


@dataclass(frozen=True)
class CurlRequest:
    """What curl would send for one command line."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None


def parse_curl(argv: list[str], cwd: Path) -> CurlRequest:
    """The request of a curl command line, for the options README uses; any other option
    fails, so that an example is never translated into something curl would not send."""
    method: str | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    data: list[str] = []
    get = False
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-s", "--silent"):
            continue
        if arg in ("-X", "--request"):
            method = next(args)
        elif arg in ("-H", "--header"):
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif arg in ("-d", "--data"):
            value = next(args)
            if value.startswith("@"):  # curl drops the file's line breaks
                value = re.sub(r"[\r\n]", "", (cwd / value[1:]).read_text(encoding="utf-8"))
            data.append(value)
        elif arg == "--data-urlencode":
            name, sep, content = next(args).partition("=")
            data.append(f"{name}={quote(content, safe='')}" if sep else quote(name, safe=""))
        elif arg in ("-G", "--get"):
            get = True
        else:
            assert not arg.startswith("-"), f"curl option {arg} is not translated: {argv}"
            assert url is None, f"two URLs in {argv}"
            url = arg if "://" in arg else f"http://{arg}"
    assert url is not None, f"no URL in {argv}"
    body = "&".join(data)
    if get and data:
        url += ("&" if "?" in url else "?") + body
    if data and not get:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return CurlRequest(
        method or ("POST" if data and not get else "GET"),
        url,
        headers,
        body.encode() if data and not get else None,
    )


# --- the session a reader has open -----------------------------------------------------------


@dataclass
class Shell:
    """A reader's terminal after `make run`: working directory, environment, variables set so
    far, and the live service."""

    workdir: Path
    env: dict[str, str]
    base_url: str
    http: httpx2.Client
    demo_output: str
    variables: dict[str, str] = field(default_factory=dict)

    def bash(self, script: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
        """Run ``script`` in bash with the variables set so far (unset ones are an error)."""
        return subprocess.run(
            ["bash", "-c", "set -u\n" + script],
            cwd=self.workdir,
            env={**self.env, **self.variables},
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def argv(self, command: str) -> list[str]:
        """The words of ``command`` after bash's quoting and expansion."""
        words = self.bash(f"printf '%s\\0' {command}")
        assert words.returncode == 0, f"{command}: {words.stderr}"
        return words.stdout.split("\0")[:-1]

    def curl(self, command: str) -> CurlRequest:
        """The request a curl command sends, with the variables set so far."""
        return parse_curl(self.argv(command), self.workdir)

    def send(self, request: CurlRequest, host: str = README_HOST) -> httpx2.Response:
        """Send ``request`` to the live service in place of ``host``."""
        url = urlsplit(request.url)
        assert url.netloc == host, f"{request.url} is not on {host}"
        target = self.base_url + url.path + (f"?{url.query}" if url.query else "")
        return self.http.request(
            request.method, target, headers=request.headers, content=request.content
        )


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory, network: Network) -> Iterator[Shell]:
    """What `make run` leaves: a fresh database with the demo key, its file in the working
    directory, and the service answering (on a free port instead of 8000)."""
    workdir = tmp_path_factory.mktemp("readme")
    for name in LINKED:
        (workdir / name).symlink_to(REPO / name)
    database_url = f"sqlite:///{workdir / 'shudao.db'}"
    env = {**os.environ, "SHUDAO_DATABASE_URL": database_url}
    app = create_app(Settings(database_url=database_url), network=network)
    with serving(app) as base_url, httpx2.Client(timeout=60) as http:
        port = urlsplit(base_url).port
        demo = subprocess.run(
            [SHUDAO, "admin", "demo", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert demo.returncode == 0, demo.stderr
        yield Shell(workdir, env, base_url, http, demo.stdout)


# --- what README says comes back -------------------------------------------------------------


#: The keys of a JSON object, each to None, to its own shape, or to [shape of its items].
Shape = dict[str, "Shape | list[Shape] | None"]


def documented_shape(text: str) -> Shape:
    """The keys README's `--json prints {...}` sentence lists, nested: a key maps to None, to
    the shape of an object, or to a one-element list of the shape of its items."""
    tokens: list[str] = re.findall(r'"[^"]*"|[{}\[\]:,]', text)
    position = 0

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = tokens[position]
        assert expected is None or token == expected, f"{expected} expected, {token} found"
        position += 1
        return token

    def shape() -> Shape:
        take("{")
        keys: Shape = {}
        while True:
            name = take().strip('"')
            keys[name] = None
            if tokens[position] == ":":
                take(":")
                if tokens[position] == "[":
                    take("[")
                    keys[name] = [shape()]
                    take("]")
                else:
                    keys[name] = shape()
            if take() == "}":
                return keys

    return shape()


def assert_shape(document: object, shape: Shape, where: str = "document") -> None:
    """``document`` has exactly the keys of ``shape``, at every level and in every item."""
    assert isinstance(document, dict), where
    assert set(document) == set(shape), f"{where}: {sorted(document)} != {sorted(shape)}"
    for key, inner in shape.items():
        if isinstance(inner, list):
            for i, item in enumerate(document[key]):
                assert_shape(item, inner[0], f"{where}.{key}[{i}]")
        elif inner is not None:
            assert_shape(document[key], inner, f"{where}.{key}")


def _plan_json_shape() -> Shape:
    """The shape README gives for `shudao plan --json`."""
    text = README.read_text(encoding="utf-8")
    start = text.index("`--json` prints `") + len("`--json` prints `")
    return documented_shape(text[start : text.index("`", start)])


KPIS = {"total_cost", "cost_per_t", "mean_days", "p90_days", "co2e_kg", "unserved", "mode_split"}


def _check_plan_table(out: str, shell: Shell) -> None:
    """README: a readable table of the Pareto-best options."""
    assert "Option 1 (" in out and "total CNY" in out, out


def _check_plan_json(out: str, shell: Shell) -> None:
    """README: "the JSON document below", in the currency asked for."""
    document = json.loads(out)
    assert_shape(document, _plan_json_shape())
    assert document["currency"] == "USD" and document["options"]


def _check_consolidation(out: str, shell: Shell) -> None:
    """Every lot of the example placed, and plan.json holds departure -> boxes -> lots."""
    assert "8 lots placed" in out and "0 unplaced" in out, out
    plan = json.loads((shell.workdir / "plan.json").read_text(encoding="utf-8"))
    assert plan["departures"] and len(plan["placements"]) == 8


def _check_allocation(out: str, shell: Shell) -> None:
    """allocation.json holds the flows and the lanes used."""
    allocation = json.loads((shell.workdir / "allocation.json").read_text(encoding="utf-8"))
    assert allocation["flows"] and allocation["lanes"], out


def _check_pickups(out: str, shell: Shell) -> None:
    """README: each road leg a line and each stop a point."""
    routes = json.loads((shell.workdir / "routes.geojson").read_text(encoding="utf-8"))
    assert routes["type"] == "FeatureCollection"
    assert {f["geometry"]["type"] for f in routes["features"]} == {"Point", "LineString"}


def _check_scenario_report(out: str, shell: Shell) -> None:
    """README: report.html and Parquet per shipment, for the scenario and its baseline."""
    written = {path.name for path in (shell.workdir / "out").iterdir()}
    assert {"report.html", "shipments.parquet", "baseline_shipments.parquet"} <= written, out


def _check_scenario_json(out: str, shell: Shell) -> None:
    """README: `{"scenario": KPIS, "baseline": KPIS}`, with `like_with_like` beside them."""
    document = json.loads(out)
    assert set(document) == {"scenario", "baseline", "like_with_like"}
    for run in ("scenario", "baseline"):
        assert set(document[run]) >= KPIS, sorted(document[run])


def _check_sweep(out: str, shell: Shell) -> None:
    """Each chunk in Parquet, and percentiles of each KPI printed."""
    assert (shell.workdir / "sweep" / "samples.parquet").is_file()
    assert all(kpi in out for kpi in KPIS - {"mode_split"}), out


def _check_summary_json(out: str, shell: Shell) -> None:
    """README: counts by mode, kind and status; what is planned."""
    summary = json.loads(out)
    assert {"corridors_by_mode", "nodes_by_kind", "nodes_by_status"} <= set(summary)
    assert summary["not_operating"], out[:300]


def _check_gpkg(out: str, shell: Shell) -> None:
    """README: layers nodes, corridors."""
    layers = pyogrio.list_layers(shell.workdir / "network.gpkg")
    assert {str(name) for name, _ in layers} == {"nodes", "corridors"}


def _check_geojson(out: str, shell: Shell) -> None:
    """A GeoJSON file of the network's features."""
    document = json.loads((shell.workdir / "network.geojson").read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection" and document["features"]


def _check_map(out: str, shell: Shell) -> None:
    """A PNG image."""
    assert (shell.workdir / "network.png").read_bytes().startswith(b"\x89PNG\r\n")


def _check_batch(out: str, shell: Shell) -> None:
    """One row per shipment of the example file, each planned, with the documented columns."""
    plans = pd.read_parquet(shell.workdir / "plans.parquet")
    shipments = pd.read_csv(REPO / "docs/examples/shipments.csv")
    assert list(plans["id"]) == list(shipments["id"])
    assert set(plans["status"]) == {"planned"}
    assert {"status", "options", "infeasible_reason", "error"} <= set(plans.columns)


#: Checks on what a CLI command prints or writes, keyed by a part of the command that names
#: it; each names exactly one command of README (test_every_example_is_covered). A command
#: without one must exit 0.
CLI_CHECKS: dict[str, Callable[[str, Shell], None]] = {
    "--from Linshui --to Duisburg": _check_plan_table,
    "--currency USD --json": _check_plan_json,
    "--deadline 2027-01-31": _check_plan_table,
    "plan-batch docs/examples/shipments.csv": _check_batch,
    "consolidate docs/examples/lots.csv": _check_consolidation,
    "allocate docs/examples/sellers.csv": _check_allocation,
    "pickups docs/examples/pickups.csv": _check_pickups,
    "scenarios/red_sea_closure.yaml": _check_scenario_report,
    "carbon_price --baseline baseline --json": _check_scenario_json,
    "sweep border_congestion": _check_sweep,
    "network summary --json": _check_summary_json,
    "--format gpkg": _check_gpkg,
    "--format geojson": _check_geojson,
    "network map": _check_map,
}


def _geometry_points(feature: dict[str, Any]) -> list[list[float]]:
    """The coordinates of a Point or LineString feature."""
    geometry = feature["geometry"]
    return [geometry["coordinates"]] if geometry["type"] == "Point" else geometry["coordinates"]


def _check_created_plan(answer: httpx2.Response, shell: Shell) -> None:
    """README: 201 with the plan, its id, time, inputs and dataset version, in USD."""
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    assert {"id", "created_at", "request", "dataset_version"} <= set(plan)
    assert plan["currency"] == "USD" and plan["options"]
    assert plan["request"]["avoid"] == ["suez"]


def _check_plan_list(answer: httpx2.Response, shell: Shell) -> None:
    """README: newest first, so the plan just made comes first."""
    assert answer.json()["items"][0]["id"] == shell.variables["ID"]


def _check_one_plan(answer: httpx2.Response, shell: Shell) -> None:
    """The plan asked for."""
    assert answer.json()["id"] == shell.variables["ID"]


def _check_nodes(answer: httpx2.Response, shell: Shell) -> None:
    """Rail terminals inside the box 100-110 E, 20-35 N only."""
    features = answer.json()["features"]
    assert features
    for feature in features:
        assert feature["properties"]["kind"] == "rail_terminal"
        ((lon, lat),) = _geometry_points(feature)
        assert 100 <= lon <= 110 and 20 <= lat <= 35, feature["properties"]


def _check_corridors(answer: httpx2.Response, shell: Shell) -> None:
    """Rail corridors only."""
    features = answer.json()["features"]
    assert features and {f["properties"]["mode"] for f in features} == {"rail"}


def _check_search(answer: httpx2.Response, shell: Shell) -> None:
    """README: the search lists first what a plan would take the query for: Chengdu."""
    first = answer.json()[0]
    assert first["name_zh"] == "成都" and first["name_en"] == "Chengdu", first


def _check_job_submitted(answer: httpx2.Response, shell: Shell) -> None:
    """202 with the job queued."""
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "queued"


def _check_job(answer: httpx2.Response, shell: Shell) -> None:
    """README: queued/running/succeeded/..."""
    job = answer.json()
    assert job["id"] == shell.variables["JOB"] and job["kind"] == "route-batch", job
    assert job["status"] in ("queued", "running", "succeeded"), job


def _check_cancel(answer: httpx2.Response, shell: Shell) -> None:
    """README: cancel, or 409 once the job has ended (a one-row batch may be done already)."""
    if answer.status_code == 409:
        assert "only a queued or running job can be cancelled" in answer.json()["detail"]
    else:
        job = answer.json()
        assert job["status"] == "cancelled" or job["cancel_requested"], job


def _check_proposed(answer: httpx2.Response, shell: Shell) -> None:
    """The allocation job's proposals, at the demo's Duisburg warehouse."""
    bookings = answer.json()["items"]
    assert bookings and {b["status"] for b in bookings} == {"proposed"}
    assert {b["warehouse_name"] for b in bookings} == {"Duisburg logport"}


def _check_confirmed(answer: httpx2.Response, shell: Shell) -> None:
    """The proposal is now a confirmed booking."""
    booking = answer.json()
    assert booking["id"] == shell.variables["BOOKING"] and booking["status"] == "confirmed"


def _check_ready(answer: httpx2.Response, shell: Shell) -> None:
    """README: database and network ready (and the job runner turning)."""
    ready = answer.json()
    assert ready["ready"] is True and all(ready["checks"].values()), ready


def _check_metrics(answer: httpx2.Response, shell: Shell) -> None:
    """Prometheus text."""
    assert answer.headers["content-type"].startswith("text/plain")
    assert "# TYPE " in answer.text


#: Checks on the answers to curl commands, by method and path (after expansion); each is
#: used by at least one command. Every answer must be 2xx unless its check says otherwise.
HTTP_CHECKS: dict[tuple[str, str], Callable[[httpx2.Response, Shell], None]] = {
    ("POST", r"/v1/route-plans"): _check_created_plan,
    ("GET", r"/v1/route-plans"): _check_plan_list,
    ("GET", r"/v1/route-plans/[^/]+"): _check_one_plan,
    ("GET", r"/v1/network/nodes"): _check_nodes,
    ("GET", r"/v1/network/corridors"): _check_corridors,
    ("GET", r"/v1/network/search"): _check_search,
    ("POST", r"/v1/jobs"): _check_job_submitted,
    ("GET", r"/v1/jobs/[^/]+"): _check_job,
    ("DELETE", r"/v1/jobs/[^/]+"): _check_cancel,
    ("GET", r"/v1/bookings"): _check_proposed,
    ("POST", r"/v1/bookings/[^/]+/confirm"): _check_confirmed,
    ("GET", r"/readyz"): _check_ready,
    ("GET", r"/metrics"): _check_metrics,
}
#: Answers allowed not to be 2xx: README says when.
NOT_2XX = {("DELETE", r"/v1/jobs/[^/]+"): {409}}


def _http_check(method: str, path: str) -> Callable[[httpx2.Response, Shell], None] | None:
    """The check of a request, if any."""
    for (check_method, pattern), check in HTTP_CHECKS.items():
        if method == check_method and re.fullmatch(pattern, path):
            return check
    return None


def _wait_for_job(shell: Shell, timeout_s: float = 120) -> None:
    """Poll `GET /v1/jobs/$JOB` until the job ends, as a reader does before reading what it
    made (README says so under the allocation example); it must have succeeded."""
    deadline = time.monotonic() + timeout_s
    headers = {"Authorization": f"Bearer {shell.variables['KEY']}"}
    while True:
        job = shell.http.get(f"{shell.base_url}/v1/jobs/{shell.variables['JOB']}", headers=headers)
        status = job.json()["status"]
        if status not in ("queued", "running"):
            assert status == "succeeded", job.text
            return
        assert time.monotonic() < deadline, f"the job did not end: {job.text}"
        time.sleep(0.2)


def run_curl(shell: Shell, command: str) -> None:
    """Send a curl command's request and check the answer; capture what README's later
    commands name ($ID, $JOB, $BOOKING)."""
    request = shell.curl(command)
    method, path = request.method, urlsplit(request.url).path
    if (method, path) == ("GET", "/v1/bookings"):
        _wait_for_job(shell)
    answer = shell.send(request)
    allowed = next(
        (codes for (m, p), codes in NOT_2XX.items() if m == method and re.fullmatch(p, path)),
        set(),
    )
    assert answer.is_success or answer.status_code in allowed, (
        f"{command}\nanswered {answer.status_code}: {answer.text[:500]}"
    )
    check = _http_check(method, path)
    if check is not None:
        check(answer, shell)
    for name, (capture_method, capture_path, capture) in CAPTURED.items():
        if (method, path) == (capture_method, capture_path):
            shell.variables[name] = capture(answer.json())


def run_cli(shell: Shell, command: str) -> None:
    """Run a `.venv/bin/shudao` command through bash, as written (or shortened, saying so)."""
    key = normalised(command)
    if key in SHORTENED and not AS_WRITTEN:
        command = SHORTENED[key][0]
    done = shell.bash(command, timeout_s=CLI_TIMEOUT_S)
    assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stderr[-3000:]}"
    for part, check in CLI_CHECKS.items():
        if part in key:
            check(done.stdout, shell)


def run_assignment(shell: Shell, command: str) -> None:
    """Set a variable as bash would, for the commands after it."""
    name = command.split("=", 1)[0]
    done = shell.bash(f'{command}\nprintf %s "${name}"')
    assert done.returncode == 0 and done.stdout, f"{command}: {done.stderr}"
    shell.variables[name] = done.stdout


BLOCKS = readme_blocks()
SHELL_BLOCKS = [block for block in BLOCKS if block.lang == "sh"]
PYTHON_BLOCKS = [block for block in BLOCKS if block.lang == "python"]


def _block_id(block: Block) -> str:
    return f"line-{block.line}"


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=_block_id)
def test_python_example(block: Block) -> None:
    """Each Python block is a doctest and passes with no option flags (exact output).

    pytest's --doctest-glob=README.md runs them too; here they are counted with the rest.
    """
    test = doctest.DocTestParser().get_doctest(
        block.text, {}, f"README.md line {block.line}", str(README), block.line
    )
    assert test.examples, "a Python block without >>> examples would not be checked"
    runner = doctest.DocTestRunner(optionflags=doctest.REPORT_NDIFF)
    output: list[str] = []
    result = runner.run(test, out=output.append)
    assert result.failed == 0, "".join(output)


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=_block_id)
def test_shell_example(block: Block, shell: Shell) -> None:
    """Each shell block runs as written, in README order, in one reader's session."""
    runners = {"assignment": run_assignment, "curl": run_curl, "cli": run_cli}
    for command in shell_commands(block.text):
        kind = kind_of(command)
        if kind != "not run":
            runners[kind](shell, command)


def test_make_runs_printed_example(shell: Shell) -> None:
    """`make run` prints the demo key and a curl example (README's first block); it works."""
    printed = re.search(r"^try: (curl .*)$", shell.demo_output, re.MULTILINE)
    assert printed is not None, shell.demo_output
    host = urlsplit(shell.base_url).netloc
    answer = shell.send(shell.curl(printed.group(1)), host=host)
    assert answer.status_code == 201, answer.text
    assert answer.json()["options"]


def test_every_example_is_covered() -> None:
    """Every block is Python or shell, every shell command is one the test runs or one of
    NOT_RUN, every variable is set by README or captured, and every rule and check is used: a
    new example cannot go untested, nor a table here go stale."""
    assert {block.lang for block in BLOCKS} == {"sh", "python"}, "a new kind of block"
    commands = [command for block in SHELL_BLOCKS for command in shell_commands(block.text)]
    kinds = {command: kind_of(command) for command in commands}
    assert "unknown" not in kinds.values(), [c for c, k in kinds.items() if k == "unknown"]
    keys = [normalised(command) for command in commands]
    for table in (NOT_RUN, SHORTENED):
        for command in table:
            assert keys.count(command) == 1, f"{command!r} is not (once) in README"
    cli_keys = [normalised(command) for command in commands if kinds[command] == "cli"]
    for part in CLI_CHECKS:
        matched = [key for key in cli_keys if part in key]
        assert len(matched) == 1, f"CLI check {part!r} matches {matched}"
    assigned = {command.split("=", 1)[0] for command in commands if kinds[command] == "assignment"}
    used = set(re.findall(r"\$\{?([A-Za-z_]\w*)", "\n".join(commands)))
    assert used <= assigned | set(CAPTURED), used - assigned - set(CAPTURED)
    assert set(CAPTURED) <= used, "a captured variable README no longer names"
    requests = set()
    for command in commands:
        if kinds[command] == "curl":
            argv = [re.sub(r"\$\{?(\w+)\}?", "x", word) for word in shlex.split(command)]
            request = parse_curl(argv, REPO)
            requests.add((request.method, urlsplit(request.url).path))
    for method, pattern in HTTP_CHECKS:
        assert any(m == method and re.fullmatch(pattern, p) for m, p in requests), (
            f"no README request for the check of {method} {pattern}"
        )
