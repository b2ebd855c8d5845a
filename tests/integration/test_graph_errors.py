"""A clear error when Neo4j is down or refuses the credentials, from the client and the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from pydantic import SecretStr

from bangfu.errors import GraphUnavailableError
from bangfu.settings import get_settings
from graph.client import GraphClient


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_client_reports_neo4j_down_in_plain_words() -> None:
    settings = get_settings().neo4j.model_copy(
        update={"uri": f"bolt://127.0.0.1:{unused_port()}", "connection_timeout_s": 1.0}
    )
    client = GraphClient(settings)
    with pytest.raises(GraphUnavailableError) as info:
        client.read("RETURN 1 AS one")
    assert "not reachable" in info.value.message and "make up" in info.value.message
    client.close()


def test_client_reports_wrong_password_without_echoing_it() -> None:
    settings = get_settings().neo4j.model_copy(update={"password": SecretStr("wrong-password-42")})
    client = GraphClient(settings)
    with pytest.raises(GraphUnavailableError) as info:
        client.verify()
    assert "BANGFU_NEO4J_PASSWORD" in info.value.message
    assert "wrong-password-42" not in info.value.message
    client.close()


def test_cli_prints_one_line_and_no_traceback_when_neo4j_is_down() -> None:
    env = {
        **os.environ,
        "BANGFU_NEO4J_URI": f"bolt://127.0.0.1:{unused_port()}",
        "BANGFU_NEO4J_CONNECTION_TIMEOUT_S": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Neo4j is not reachable")
