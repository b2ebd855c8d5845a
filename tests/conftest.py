"""Shared fixtures. Integration tests talk to the real Neo4j and Redis that `make test` starts
(its own instance on ports 7688/6380, state in .local/test); nothing here is mocked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.client import GraphClient, close_graph, get_graph
from graph.pii import PiiVault, get_vault
from graph.schema import apply_schema

WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


@pytest.fixture(scope="session")
def graph() -> Iterator[GraphClient]:
    client = get_graph()
    client.verify()
    yield client
    close_graph()


@pytest.fixture(scope="session")
def vault() -> PiiVault:
    return get_vault()


def wipe(graph: GraphClient) -> None:
    # CALL {} IN TRANSACTIONS needs an implicit (auto-commit) transaction.
    with graph.driver.session(database=graph.database) as session:
        session.run(WIPE).consume()


@pytest.fixture
def empty_graph(graph: GraphClient) -> GraphClient:
    """A graph with the schema applied and no data."""
    wipe(graph)
    apply_schema(graph)
    return graph
