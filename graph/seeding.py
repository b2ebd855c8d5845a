"""Seeding the graph from the synthetic generator: schema, then streamed batches, optionally
written to CSV in the same pass."""

from __future__ import annotations

from pathlib import Path

from graph.bulk_load import BulkLoader, LoadStats
from graph.client import GraphClient
from graph.pii import PiiVault
from graph.schema import apply_schema
from graph.synthetic import Scale, generate, write_csv

COUNT_NODES = "MATCH (n) RETURN count(n) AS nodes"
ANY_HOUSEHOLD = "MATCH (h:Household) RETURN h.id AS id LIMIT 1"

COUNT_RELATIONSHIPS = "MATCH ()-[r]->() RETURN count(r) AS relationships"


def seed_graph(
    graph: GraphClient,
    vault: PiiVault,
    scale: Scale,
    seed: int,
    csv_dir: Path | None = None,
    progress: bool = False,
) -> LoadStats:
    apply_schema(graph)
    # An empty graph takes the faster create-only path; anything else is merged, so seeding
    # twice (or after an interrupted seed) never duplicates.
    fresh = graph.read_one(ANY_HOUSEHOLD) is None
    batches = generate(scale, seed, progress=progress)
    if csv_dir is not None:
        batches = write_csv(batches, csv_dir)
    return BulkLoader(graph, vault, fresh=fresh).load(batches)


def graph_size(graph: GraphClient) -> tuple[int, int]:
    """(nodes, relationships) in the database; both come from the count store, so it is cheap."""
    nodes = graph.read_one(COUNT_NODES) or {"nodes": 0}
    rels = graph.read_one(COUNT_RELATIONSHIPS) or {"relationships": 0}
    return int(nodes["nodes"]), int(rels["relationships"])
