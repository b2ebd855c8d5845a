"""The service script's promises: starting twice is harmless, and each failure is one actionable
line. These run the real script; the failure cases stop before anything starts."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "services.py"


def run_services(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_starting_twice_is_harmless() -> None:
    # `make test` already started the services with this environment: a second start must
    # recognise them and leave them running.
    result = run_services("up")
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert run_services("status").returncode == 0


def test_port_in_use_gives_one_actionable_line(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = run_services(
            "up",
            env={
                "BANGFU_STATE_DIR": str(tmp_path),
                "BANGFU_NEO4J_PORT": str(port),
                "BANGFU_REDIS_PORT": str(free_port()),
            },
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"port {port}" in lines[0] and "BANGFU_NEO4J_PORT" in lines[0]
    assert not (tmp_path / "redis.pid").exists(), "nothing may start when a check fails"


def test_missing_java_gives_one_actionable_line(tmp_path: Path) -> None:
    # A PATH with python but without java.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    result = run_services(
        "up",
        env={
            "PATH": str(bin_dir),
            "BANGFU_STATE_DIR": str(tmp_path / "state"),
            "BANGFU_NEO4J_PORT": str(free_port()),
            "BANGFU_REDIS_PORT": str(free_port()),
        },
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Java 17+ is missing" in lines[0]


def test_download_failure_gives_one_actionable_line(tmp_path: Path) -> None:
    assert shutil.which("mvn"), "Maven is part of this machine kind"
    result = run_services(
        "up",
        env={
            "BANGFU_STATE_DIR": str(tmp_path / "state"),
            "BANGFU_CACHE_DIR": str(tmp_path / "cache"),
            "BANGFU_NEO4J_VERSION": "0.0.404",
            "BANGFU_NEO4J_PORT": str(free_port()),
            "BANGFU_REDIS_PORT": str(free_port()),
        },
    )
    try:
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "downloading Neo4j from Maven Central" in lines[0]
    finally:
        run_services("down", env={"BANGFU_STATE_DIR": str(tmp_path / "state")})
