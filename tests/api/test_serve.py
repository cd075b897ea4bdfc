"""``shudao serve --workers 2``: one listening socket shared, connections spread evenly, restarts,
clean stops."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from api.db.session import make_engine
from api.serve import serving_line
from benchmarks.bench_api import written
from tests.live import SERVE_START_S, ready, serve_command, start_serve, stop_serve


def _workers(parent: int) -> set[int]:
    """Pids of the server worker processes started by ``parent``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


def _wait(condition: object, what: str) -> None:
    deadline = time.monotonic() + SERVE_START_S
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


#: What the supervisor says once both workers serve.
SERVING = f"{serving_line(2, 2)}\n".encode()
#: /proc/net/tcp's codes of the TCP states counted here.
_ESTABLISHED, _LISTEN = "01", "0A"


def _sockets(pid: int, port: int, state: str) -> int:
    """How many sockets on local ``port`` in TCP ``state`` process ``pid`` holds."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    held = 0
    for fd in (Path("/proc") / str(pid) / "fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


def _listening(parent: int, port: int) -> int:
    """How many of ``parent``'s workers hold exactly one listening socket on ``port``."""
    return sum(_sockets(pid, port, _LISTEN) == 1 for pid in _workers(parent))


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "SHUDAO_DATABASE_URL": f"sqlite:///{tmp_path / 'shudao.db'}",
            "SHUDAO_INPROCESS_WORKER": "false"}  # fmt: skip


def test_two_workers_each_listen_restart_and_stop(environment: dict[str, str]) -> None:
    with tempfile.TemporaryFile() as said:
        server, port = start_serve(environment, output=said)
        url = f"http://127.0.0.1:{port}"
        try:
            # Both processes hold the service's one listening socket, and both serve.
            _wait(lambda: _listening(server.pid, port) == 2, "two listening workers")
            _wait(lambda: SERVING in written(said), "two serving workers")
            assert ready(url)
            killed = min(_workers(server.pid))
            os.kill(killed, signal.SIGKILL)
            restarted = f"server worker {killed} exited (-9); starting another\n".encode()
            _wait(lambda: SERVING in written(said).partition(restarted)[2],
                  "a replacement worker serving")  # fmt: skip
            assert _listening(server.pid, port) == 2 and killed not in _workers(server.pid)
            assert ready(url)
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0
            assert not _workers(server.pid)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def test_keep_alive_connections_are_spread_evenly_over_the_workers(
    environment: dict[str, str],
) -> None:
    """Each new connection goes to the worker holding the fewest. With a socket per worker and
    SO_REUSEPORT, the kernel's hash put 36 keep-alive connections 21/15 or 22/14 as often as
    19/17, and the busier worker set the latency tail; 24 connections fell 12/12 one time in
    six."""
    with tempfile.TemporaryFile() as said:
        server, port = start_serve(environment, output=said)
        connections: list[socket.socket] = []
        try:
            _wait(lambda: SERVING in written(said), "two serving workers")
            for _ in range(24):
                connection = socket.create_connection(("127.0.0.1", port))
                connections.append(connection)
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: shudao\r\n\r\n")
                assert connection.recv(4096).startswith(b"HTTP/1.1 200")  # accepted, answered
            held = sorted(_sockets(pid, port, _ESTABLISHED) for pid in _workers(server.pid))
            assert held in ([12, 12], [11, 13]), held
        finally:
            for connection in connections:
                connection.close()
            stop_serve(server)


def test_a_taken_port_stops_the_service_with_a_message(environment: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            serve_command(port), env=environment, capture_output=True, text=True,
            timeout=SERVE_START_S,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}: another process listens on it" in result.stderr
    assert "did not start" in result.stderr


def test_processes_starting_together_migrate_in_turn(database_url: str) -> None:
    """Server and job workers migrate on start; on a fresh database they must not race."""
    code = "import sys; from api.db.session import make_engine, migrate; " \
           "migrate(make_engine(sys.argv[1]))"  # fmt: skip
    starts = [
        subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for process in starts:
        _, errors = process.communicate(timeout=SERVE_START_S)
        assert process.returncode == 0, errors.decode()[-2000:]


def test_a_new_sqlite_file_is_switched_to_wal_once_another_writer_lets_go(tmp_path: Path) -> None:
    """SQLite refuses at once, without waiting out its busy timeout, to switch a file to WAL
    while another connection holds its write lock (as a process migrating it does): the
    engine's connection tries again until the lock is let go. Before, processes starting
    together on a new file failed now and then with "database is locked"."""
    path = tmp_path / "shudao.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.3, writer.execute, ["COMMIT"]).start()
    begun_s = time.monotonic()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("SELECT x FROM t").scalar() == 1
    finally:
        engine.dispose()
        writer.close()
    assert time.monotonic() - begun_s >= 0.3


def test_worker_connections_send_without_nagle_delay() -> None:
    """Connections accepted on a worker's socket have TCP_NODELAY, as uvicorn's own have.

    Without it an answer's body waited for the client's delayed ACK of its headers: a tenth of
    the route plans took 40 ms more with two workers than with one.
    """
    import asyncio

    from api.serve import listen

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(Probe, sock=listen("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                return await asyncio.wait_for(seen, 10)
            finally:
                writer.close()

    assert asyncio.run(accepted_nodelay()) != 0


def test_case6_a_second_service_is_refused_and_a_stop_takes_under_10_s(
    environment: dict[str, str], tmp_path: Path
) -> None:
    """A second ``serve --workers 2`` on a served port started, and requests alternated between
    the two services (200, 401, 200...); now it is refused. SIGTERM during a burst of requests
    stops the service within 10 s."""
    server, port = start_serve(environment)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _listening(server.pid, port) == 2 and ready(url), "two ready workers")
        other = {**environment, "SHUDAO_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
        second = subprocess.Popen(
            serve_command(port), env=other, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        _, errors = second.communicate(timeout=SERVE_START_S)
        assert second.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}: another Shudao service" in errors
        assert _listening(server.pid, port) == 2

        burst = [
            subprocess.Popen(
                ["curl", "-s", "-o", "/dev/null", "--max-time", "20", f"{url}/v1/network/corridors"]
            )
            for _ in range(40)
        ]
        start = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert time.monotonic() - start < 10
        assert not _workers(server.pid)
        for client in burst:
            client.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_case6_workers_stop_when_their_supervisor_is_killed(environment: dict[str, str]) -> None:
    """``kill -9`` of the supervising process left its workers serving; they now stop."""
    server, port = start_serve(environment)
    try:
        _wait(lambda: _listening(server.pid, port) == 2, "two listening workers")
        workers = _workers(server.pid)
        server.kill()
        server.wait()

        def gone() -> bool:
            return not any(Path(f"/proc/{pid}").exists() for pid in workers)

        _wait(gone, "the orphaned workers to stop")
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
