"""Constraints and indexes for every keyed label, applied idempotently with a recorded version.

Bump SCHEMA_VERSION whenever the statements below change.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.client import GraphClient
from graph.labels import Label

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Constraint:
    name: str
    label: Label
    key: str


@dataclass(frozen=True)
class Index:
    name: str
    label: Label
    key: str


CONSTRAINTS = (
    Constraint("region_code", Label.REGION, "code"),
    Constraint("household_id", Label.HOUSEHOLD, "id"),
    Constraint("person_id", Label.PERSON, "id"),
    Constraint("person_national_id_hash", Label.PERSON, "national_id_hash"),
    Constraint("need_id", Label.NEED, "id"),
    Constraint("helper_id", Label.HELPER, "id"),
    Constraint("cadre_id", Label.CADRE, "id"),
    Constraint("project_id", Label.PROJECT, "id"),
    Constraint("schema_version_name", Label.SCHEMA_VERSION, "name"),
)

# Region scope is a code prefix (village codes start with their town's, county's ... code), so a
# range index on the denormalised village_code serves "everything in region X" as STARTS WITH.
INDEXES = (
    Index("region_level", Label.REGION, "level"),
    Index("household_village_code", Label.HOUSEHOLD, "village_code"),
    Index("household_status", Label.HOUSEHOLD, "status"),
    Index("person_phone_hash", Label.PERSON, "phone_hash"),
    Index("need_village_code", Label.NEED, "village_code"),
    Index("need_status", Label.NEED, "status"),
    Index("need_category", Label.NEED, "category"),
    Index("helper_kind", Label.HELPER, "kind"),
    Index("cadre_village_code", Label.CADRE, "village_code"),
    Index("project_county_code", Label.PROJECT, "county_code"),
)

# Labels and property keys cannot be parameters in Cypher; these come only from the enums above.
_CONSTRAINT_TEMPLATE = (
    "CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
)
_INDEX_TEMPLATE = "CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{key})"

RECORD_VERSION = """
MERGE (v:SchemaVersion {name: 'graph'})
SET v.applied_at = CASE WHEN v.version = $version THEN v.applied_at ELSE datetime() END,
    v.version = $version
RETURN v.version AS version
"""

AWAIT_INDEXES = "CALL db.awaitIndexes($seconds)"

READ_VERSION = "MATCH (v:SchemaVersion {name: 'graph'}) RETURN v.version AS version"

SHOW_SCHEMA = """
SHOW INDEXES YIELD name, type, labelsOrTypes, properties, owningConstraint
WHERE type <> 'LOOKUP'
RETURN name, type, labelsOrTypes, properties, owningConstraint ORDER BY name
"""


def schema_statements() -> list[str]:
    statements = [
        _CONSTRAINT_TEMPLATE.format(name=c.name, label=c.label.value, key=c.key)
        for c in CONSTRAINTS
    ]
    statements += [
        _INDEX_TEMPLATE.format(name=i.name, label=i.label.value, key=i.key) for i in INDEXES
    ]
    return statements


def apply_schema(graph: GraphClient) -> int:
    """Create what is missing, wait until indexes are online, record the version; return it."""
    for statement in schema_statements():
        # Schema changes cannot share a transaction with data writes: one each.
        graph.write(statement)
    graph.write(AWAIT_INDEXES, seconds=300, timeout_s=310)
    rows = graph.write(RECORD_VERSION, version=SCHEMA_VERSION)
    return int(rows[0]["version"])


def schema_version(graph: GraphClient) -> int | None:
    row = graph.read_one(READ_VERSION)
    return None if row is None else int(row["version"])


def describe_schema(graph: GraphClient) -> list[dict[str, object]]:
    return graph.read(SHOW_SCHEMA)
