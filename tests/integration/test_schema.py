from __future__ import annotations

from graph.client import GraphClient
from graph.schema import (
    CONSTRAINTS,
    INDEXES,
    SCHEMA_VERSION,
    apply_schema,
    describe_schema,
    schema_version,
)

VERSION_NODE = "MATCH (v:SchemaVersion) RETURN v {.*} AS v"


def test_schema_applied_twice_changes_nothing(empty_graph: GraphClient) -> None:
    before = describe_schema(empty_graph)
    version_before = empty_graph.read(VERSION_NODE)
    assert apply_schema(empty_graph) == SCHEMA_VERSION
    assert describe_schema(empty_graph) == before
    assert empty_graph.read(VERSION_NODE) == version_before  # applied_at not rewritten either
    assert len(version_before) == 1


def test_every_keyed_label_has_its_constraint_and_indexes(empty_graph: GraphClient) -> None:
    names = {row["name"] for row in describe_schema(empty_graph)}
    assert {c.name for c in CONSTRAINTS} <= names
    assert {i.name for i in INDEXES} <= names
    assert schema_version(empty_graph) == SCHEMA_VERSION
