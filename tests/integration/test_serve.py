"""api.serve against the real app, Neo4j and Redis: keep-alive connections opened at once are
spread over the workers (each on its own SO_REUSEPORT socket), a worker killed with SIGKILL is
started again, and SIGTERM stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 16


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return sorted(found)


def _healthy(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(f"{url}/api/v1/health", timeout=5).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _established_by_worker(port: int, workers: list[int]) -> dict[int, int]:
    """Established server-side connections on `port`, counted per worker process (socket inodes
    from /proc/net/tcp matched to the descriptors each worker holds)."""
    inodes: set[str] = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(fields[9])
    counts = {}
    for pid in workers:
        held = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                held.add(target[len("socket:[") : -1])
        counts[pid] = len(held & inodes)
    return counts


@pytest.fixture
def served() -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    port = _free_port()
    command = ["-m", "api.serve", "--port", str(port), "--workers", "2", "--log-level", "warning"]
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        _healthy(url)
        yield url, port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_connections_opened_at_once_are_spread_over_the_workers(
    served: tuple[str, int, subprocess.Popen[bytes]],
) -> None:
    url, port, process = served
    workers = _children(process.pid)
    assert len(workers) == 2
    clients = [httpx.Client(base_url=url) for _ in range(CONNECTIONS)]
    try:
        for client in clients:  # each client keeps its one connection open
            assert client.get("/api/v1/health").status_code == 200
        counts = _established_by_worker(port, workers)
        assert sum(counts.values()) == CONNECTIONS
        # By a hash of the addresses: all 16 on one worker has odds of 2 in 65,536.
        assert all(n > 0 for n in counts.values()), counts
    finally:
        for client in clients:
            client.close()


def test_a_killed_worker_is_started_again_and_sigterm_stops_all(
    served: tuple[str, int, subprocess.Popen[bytes]],
) -> None:
    url, _, process = served
    first = _children(process.pid)
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        now = _children(process.pid)
        if len(now) == 2 and first[0] not in now:
            break
        assert time.monotonic() < deadline, f"workers {now} after killing {first[0]}"
        time.sleep(0.3)
    _healthy(url)
    for _ in range(10):  # both sockets answer again, the new worker's included
        assert httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert _children(process.pid) == []
