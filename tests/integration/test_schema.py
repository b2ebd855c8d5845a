from __future__ import annotations

from graph.client import GraphClient
from graph.schema import (
    BACKFILL_BATCH,
    BACKFILL_SINCE,
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


def test_needs_stored_before_the_market_indexes_get_their_keys(empty_graph: GraphClient) -> None:
    # A store from before schema 6: needs without the scope keys the market indexes lead with.
    empty_graph.write(
        "UNWIND range(1, $n) AS i CREATE (:Need {id: 'N' + i, village_code: '440223101001', "
        "urgency: CASE i % 2 WHEN 0 THEN 'critical' ELSE 'low' END})",
        n=BACKFILL_BATCH + 5,  # more than one batch
    )
    empty_graph.write("MATCH (v:SchemaVersion) SET v.version = $old", old=BACKFILL_SINCE - 1)
    assert apply_schema(empty_graph) == SCHEMA_VERSION
    rows = empty_graph.read(
        "MATCH (n:Need) RETURN n.province_code AS p, n.city_code AS c, n.county_code AS k, "
        "n.urgency_rank AS u, count(*) AS n ORDER BY u"
    )
    half = (BACKFILL_BATCH + 5) // 2
    assert rows == [
        {"p": "44", "c": "4402", "k": "440223", "u": 0, "n": half},
        {"p": "44", "c": "4402", "k": "440223", "u": 3, "n": BACKFILL_BATCH + 5 - half},
    ]
