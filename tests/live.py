"""The service as a real server for tests: uvicorn in a thread, or ``shudao serve`` processes."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import uvicorn
from fastapi import FastAPI

from api.serve import port_lock_path


@contextmanager
def serving(app: FastAPI, start_timeout_s: float = 120.0) -> Iterator[str]:
    """Run ``app`` on a free loopback port until the block ends; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout_s
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


#: How long ``shudao serve`` may take to answer ``/readyz`` (the first start migrates).
SERVE_START_S = 180.0


def free_port() -> int:
    """A loopback port nobody listens on at this moment (another process may take it next)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ready(url: str) -> bool:
    """Whether the service at ``url`` answers ``/readyz`` with 200."""
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def serve_command(port: int) -> list[str]:
    """``shudao serve --workers 2`` on ``port``, as the tests run it."""
    return [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"]


def _serves(server: subprocess.Popen[bytes], port: int) -> bool:
    """Whether ``server``, not another service that took the port first, holds the port and is
    ready."""
    try:
        holder = port_lock_path("127.0.0.1", port).read_text().strip()
    except OSError:
        return False
    return holder == str(server.pid) and ready(f"http://127.0.0.1:{port}")


def _said(errors: IO[bytes]) -> str:
    errors.seek(0)
    return errors.read().decode(errors="replace")[-3000:]


def start_serve(
    environment: dict[str, str], attempts: int = 3, output: IO[bytes] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``shudao serve --workers 2`` on a free port and wait until it is ready: (process,
    port). What it prints goes to ``output`` (nowhere by default).

    Between choosing a free port and the server claiming it, another test's server may take
    it; serve then stops with "cannot listen ... another ...", and this tries again on another
    port. Any other failure to start fails the test with the server's own last words.
    """
    said = ""
    for _ in range(attempts):
        port = free_port()
        # The server keeps writing to the file after it is closed here; only its start matters.
        with tempfile.TemporaryFile() as errors:
            server = subprocess.Popen(
                serve_command(port),
                env=environment,
                stdout=output or subprocess.DEVNULL,
                stderr=errors,
            )
            try:
                deadline = time.monotonic() + SERVE_START_S
                while server.poll() is None and not _serves(server, port):
                    if time.monotonic() > deadline:
                        raise AssertionError(
                            f"shudao serve was not ready within {SERVE_START_S} s:\n{_said(errors)}"
                        )
                    time.sleep(0.2)
            except BaseException:
                stop_serve(server)
                raise
            if server.poll() is None:
                return server, port
            said = _said(errors)
        if f"cannot listen on 127.0.0.1:{port}: another" not in said:
            raise AssertionError(
                f"shudao serve exited ({server.returncode}) while starting:\n{said}"
            )
    raise AssertionError(f"shudao serve found its port taken {attempts} times; last:\n{said}")


def stop_serve(server: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """SIGTERM ``server``; kill it if it has not stopped within ``timeout_s``."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
