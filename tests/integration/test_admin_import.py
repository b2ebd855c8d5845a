"""The offline import (graph/admin_import.py) builds the same graph as the driver path.

The village is loaded twice with the same seed: through the driver into the test database
(seed_graph, as `bangfu seed` does), and as CSV through `neo4j-admin database import` into a
fresh store of its own (own state directory and ports, started and stopped with
ops/services.py like tests/integration/test_services.py does). Then every node's properties
(with their Cypher types; ciphertexts compared as plaintext, since each seal draws a fresh nonce)
and every relationship must match, and the repositories must read the same models from both.
40-75 s on the shared 2-core machine, most of it starting the second Neo4j.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from bangfu.settings import Neo4jSettings
from graph.admin_import import (
    ImportFiles,
    ImportRun,
    ImportTool,
    default_neo4j_lib,
    finish_import,
    graph_counts,
    graph_snapshot,
    run_import,
    write_import_files,
)
from graph.client import GraphClient
from graph.pii import PiiVault
from graph.repositories import HouseholdRepository, NeedRepository, PersonRepository
from graph.schema import SCHEMA_VERSION, apply_schema, schema_version
from graph.seeding import seed_graph
from graph.synthetic import Scale, generate
from tests.conftest import wipe

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "ops" / "services.py"
SEED = 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _services(command: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, str(SERVICES), command],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@dataclass(frozen=True)
class Offline:
    graph: GraphClient
    files: ImportFiles
    run: ImportRun
    home: Path


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory, vault: PiiVault) -> Iterator[Offline]:
    state = tmp_path_factory.mktemp("admin-import")
    port = _free_port()
    env = {
        "BANGFU_STATE_DIR": str(state),
        "BANGFU_NEO4J_PORT": str(port),
        "BANGFU_REDIS_PORT": str(_free_port()),
        # The village's store is a few MB.
        "BANGFU_NEO4J_HEAP": "1g",
        "BANGFU_NEO4J_PAGECACHE_MIB": "128",
    }
    # The test's vault seals the CSV, so the repositories below can read both graphs with it.
    files = write_import_files(generate(Scale.VILLAGE, SEED), state / "csv", vault, workers=0)
    home = state / "neo4j"
    # The village needs little: a small heap and off-heap budget start the tool faster.
    tool = ImportTool(home=home, lib=default_neo4j_lib(), heap="512m", max_off_heap="256m")
    run = run_import(files, tool)  # before the first start: Neo4j must not be running
    graph: GraphClient | None = None
    try:
        _services("up", env)
        secrets = dict(
            line.split("=", 1)
            for line in (state / "secrets.env").read_text().splitlines()
            if "=" in line
        )
        graph = GraphClient(
            Neo4jSettings(
                uri=f"bolt://127.0.0.1:{port}",
                password=SecretStr(secrets["BANGFU_NEO4J_PASSWORD"]),
            )
        )
        finish_import(graph, files)
        yield Offline(graph, files, run, home)
    finally:
        if graph is not None:
            graph.close()
        _kill_neo4j(state)
        _services("down", env)


def _kill_neo4j(state: Path) -> None:
    """Kill the throwaway store's Neo4j (ours, by its pid file): a clean shutdown checkpoints a
    store nobody opens again, ~15 s of this test's time."""
    try:
        pid = int((state / "neo4j.pid").read_text())
        os.killpg(pid, signal.SIGKILL)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def driver(graph: GraphClient, vault: PiiVault) -> GraphClient:
    """The same village through the driver, as `bangfu seed` loads it."""
    wipe(graph)
    apply_schema(graph)
    seed_graph(graph, vault, Scale.VILLAGE, SEED)
    return graph


def test_import_writes_the_embedded_store(offline: Offline) -> None:
    # DatabaseManagementServiceBuilder(home) reads exactly these two directories.
    assert (offline.home / "data" / "databases" / "neo4j" / "neostore").exists()
    assert any((offline.home / "data" / "transactions" / "neo4j").iterdir())
    assert offline.run.imported["nodes"] == offline.files.nodes
    assert offline.run.imported["relationships"] == offline.files.relationships
    assert offline.run.peak_rss_mib > 0


def test_counts_per_label_and_type_match_the_driver_path(
    offline: Offline, driver: GraphClient
) -> None:
    labels, types = graph_counts(offline.graph)
    assert (labels, types) == graph_counts(driver)
    # Every label and relationship type the driver path writes is there, plus the schema record.
    assert labels["SchemaVersion"] == 1
    assert sum(labels.values()) == offline.files.nodes + 1
    assert sum(types.values()) == offline.files.relationships
    assert set(types) == {
        "PART_OF",
        "SERVES",
        "IN_VILLAGE",
        "MEMBER_OF",
        "STATIONED_IN",
        "FROM_UNIT",
        "PAIRED_WITH",
        "HAS_NEED",
        "CLAIMED",
        "IN_REGION",
        "BENEFITS",
    }


def test_every_node_and_relationship_matches(
    offline: Offline, driver: GraphClient, vault: PiiVault
) -> None:
    nodes, rels = graph_snapshot(offline.graph, vault)
    expected_nodes, expected_rels = graph_snapshot(driver, vault)
    assert nodes.keys() == expected_nodes.keys()
    differing = {
        key: {
            name: (nodes[key].get(name), expected_nodes[key].get(name))
            for name in nodes[key].keys() | expected_nodes[key].keys()
            if nodes[key].get(name) != expected_nodes[key].get(name)
        }
        for key in nodes
        if nodes[key] != expected_nodes[key]
    }
    assert not differing, f"{len(differing)} nodes differ, e.g. {next(iter(differing.items()))}"
    assert rels == expected_rels
    # The comparison saw the tricky cases: empty lists (set after the import), missing values,
    # dates, and both numeric types.
    households = [v for (label, _), v in nodes.items() if label == "Household"]
    assert any(h["other_causes"] == ([], "LIST<NOTHING> NOT NULL") for h in households)
    assert any("exit_year" not in h for h in households)
    assert any(h["income_per_capita"][1] == "FLOAT NOT NULL" for h in households)
    persons = [v for (label, _), v in nodes.items() if label == "Person"]
    assert all(p["birth_date"][1] == "DATE NOT NULL" for p in persons)
    assert any("phone_enc" not in p for p in persons)


def test_repositories_read_the_same_models(
    offline: Offline, driver: GraphClient, vault: PiiVault
) -> None:
    county = list(generate(Scale.VILLAGE, SEED))[1].tables  # batch 0 holds regions, helpers
    person_row = next(p for p in county["persons"] if p["phone"])
    household_row = next(h for h in county["households"] if h["phone"] and h["other_causes"])
    need_row = next(n for n in county["needs"] if n["claimed_by"] and n["fulfilled_at"])

    persons = PersonRepository(offline.graph, vault)
    person = persons.get(str(person_row["person_id"]))
    assert person == PersonRepository(driver, vault).get(str(person_row["person_id"]))
    assert person.national_id.get_secret_value() == person_row["national_id"]
    assert person.phone is not None and person.phone.get_secret_value() == person_row["phone"]
    # The keyed hash is the lookup key: the unique constraint's index finds the person by it.
    assert persons.find_by_national_id(str(person_row["national_id"])) == person

    household_id = str(household_row["household_id"])
    household = HouseholdRepository(offline.graph, vault).get(household_id)
    assert household == HouseholdRepository(driver, vault).get(household_id)
    assert household.phone is not None
    assert household.phone.get_secret_value() == household_row["phone"]

    need = NeedRepository(offline.graph).get(str(need_row["need_id"]))
    assert need == NeedRepository(driver).get(str(need_row["need_id"]))
    assert need.claimed_by == need_row["claimed_by"]


def test_the_schema_is_applied_after_the_import(offline: Offline) -> None:
    assert schema_version(offline.graph) == SCHEMA_VERSION
