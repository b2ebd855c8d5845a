"""Constraints and indexes for every keyed label, applied idempotently with a recorded version.

Bump SCHEMA_VERSION whenever the statements below change.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.client import GraphClient
from graph.labels import Label, Rel

SCHEMA_VERSION = 8


@dataclass(frozen=True)
class Constraint:
    name: str
    label: Label
    key: str


@dataclass(frozen=True)
class Index:
    name: str
    label: Label
    key: str | tuple[str, ...]  # a tuple is a composite index, in this order

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else self.key


# Browsing the market across a county, a city or the province (graph/repositories/needs.py) reads
# composite indexes led by the status, the scope's code and, when filtered, the category, then
# the sort keys and the id: the index hands rows over in page order, so a page reads its own
# rows and no more (PROFILE on the province: 22 index entries for a city's first page, where
# walking the created_at index and filtering read ~30,000). A need carries the prefixes of its
# village code at these levels as properties (DERIVE_NEED_KEYS), since an index cannot hold a
# substring. Region codes: province 2 characters, city 4, county 6, town 9, village 12.
MARKET_SCOPE_KEYS: dict[int, str] = {2: "province_code", 4: "city_code", 6: "county_code"}
# Sort choice -> the properties a page is ordered by (then the id) and the direction.
MARKET_SORTS: dict[str, tuple[tuple[str, ...], str]] = {
    "newest": (("created_at",), "DESC"),
    "oldest": (("created_at",), "ASC"),
    "urgency": (("urgency_rank", "created_at"), "ASC"),
    "amount": (("amount",), "DESC"),
}


def market_index_keys(scope_key: str, by_category: bool, sort: str) -> tuple[str, ...]:
    order, _ = MARKET_SORTS[sort]
    return ("status", scope_key, *(("category",) if by_category else ()), *order, "id")


# Every write of a need's fields ends with this (seeding, imports, the API), so the sort and
# scope keys the browse indexes read always agree with the fields they come from.
DERIVE_NEED_KEYS = (
    """
SET n.urgency_rank = CASE n.urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1
                     WHEN 'normal' THEN 2 ELSE 3 END"""
    + "".join(
        f",\n    n.{key} = substring(n.village_code, 0, {length})"
        for length, key in MARKET_SCOPE_KEYS.items()
    )
    + "\n"
)

# Needs stored before schema 6 lack some of the scope keys: filled in batches when the schema
# is applied.
BACKFILL_NEED_KEYS = (
    """
MATCH (n:Need) WHERE n.county_code IS NULL AND n.village_code IS NOT NULL
WITH n LIMIT $batch"""
    + DERIVE_NEED_KEYS
    + "RETURN count(*) AS written"
)
BACKFILL_BATCH = 20_000
BACKFILL_SINCE = 6


def _market_indexes() -> tuple[Index, ...]:
    # Newest and oldest walk one index in opposite directions.
    sort_names = {"newest": "created", "urgency": "urgency", "amount": "amount"}
    return tuple(
        Index(
            f"need_market_{scope_key.removesuffix('_code')}_{'category_' if by_category else ''}"
            f"{name}",
            Label.NEED,
            market_index_keys(scope_key, by_category, sort),
        )
        for scope_key in MARKET_SCOPE_KEYS.values()
        for by_category in (False, True)
        for sort, name in sort_names.items()
    )


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
    Constraint("need_event_id", Label.NEED_EVENT, "id"),
    Constraint("transfer_request_id", Label.TRANSFER_REQUEST, "id"),
    Constraint("idempotency_record_key", Label.IDEMPOTENCY_RECORD, "key"),
    Constraint("helper_lock_helper_id", Label.HELPER_LOCK, "helper_id"),
    Constraint("job_id", Label.JOB, "id"),
    Constraint("job_chunk_key", Label.JOB_CHUNK, "key"),
    Constraint("region_stats_code", Label.REGION_STATS, "code"),
    Constraint("user_id", Label.USER, "id"),
    Constraint("user_username", Label.USER, "username"),
    Constraint("audit_event_seq", Label.AUDIT_EVENT, "seq"),
    # Concurrent first appends MERGE the one chain node; the constraint keeps it one.
    Constraint("audit_chain_name", Label.AUDIT_CHAIN, "name"),
    # Scoring merges alerts on this id; the constraint keeps concurrent chunks from doubling one.
    Constraint("risk_alert_id", Label.RISK_ALERT, "id"),
    Constraint("assignment_proposal_id", Label.ASSIGNMENT_PROPOSAL, "id"),
    # Imports MERGE department records on a keyed hash of their natural key, and record each
    # file once by content hash (re-importing it changes nothing).
    Constraint("dept_record_key", Label.DEPT_RECORD, "key"),
    Constraint("import_file_sha256", Label.IMPORT_FILE, "sha256"),
    # Recommendations shown are merged per (need, helper) pair by this key.
    Constraint("shown_pair_key", Label.SHOWN_PAIR, "key"),
    # Project parts are merged on their ids (graph/repositories/projects.py).
    Constraint("project_milestone_id", Label.PROJECT_MILESTONE, "id"),
    Constraint("project_fund_id", Label.PROJECT_FUND, "id"),
    Constraint("project_income_id", Label.PROJECT_INCOME, "id"),
    Constraint("project_flag_id", Label.PROJECT_FLAG, "id"),
    # Concurrent first changes MERGE a project's lock node; the constraint keeps it one.
    Constraint("project_lock_project_id", Label.PROJECT_LOCK, "project_id"),
    # Cross-checks MERGE findings on a deterministic key: re-running one adds nothing.
    Constraint("finding_key", Label.FINDING, "key"),
    Constraint("exit_proposal_id", Label.EXIT_PROPOSAL, "id"),
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
    # Sort keys of browsing: wide scopes walk these in order (graph/repositories/needs.py).
    Index("need_created_at", Label.NEED, "created_at"),
    Index("need_amount", Label.NEED, "amount"),
    Index("need_urgency_rank", Label.NEED, "urgency_rank"),
    Index("helper_kind", Label.HELPER, "kind"),
    Index("cadre_village_code", Label.CADRE, "village_code"),
    Index("project_county_code", Label.PROJECT, "county_code"),
    Index("job_chunk_job_id", Label.JOB_CHUNK, "job_id"),
    # bangfu.jobs.resend looks for queued and running jobs every 10 minutes among all of them.
    Index("job_state", Label.JOB, "state"),
    # A holder's claims page asks which of its needs have a request it has not answered;
    # requests only accumulate (one per ask), so find them by the helper asked.
    Index("transfer_request_from_helper_id", Label.TRANSFER_REQUEST, "from_helper_id"),
    # Auditors look events up by subject, by actor and by time (api/routes/audit.py).
    Index("audit_event_subject_id", Label.AUDIT_EVENT, "subject_id"),
    Index("audit_event_actor_id", Label.AUDIT_EVENT, "actor_id"),
    Index("audit_event_at", Label.AUDIT_EVENT, "at"),
    # Officials list their region's alerts (village-code prefix) by status.
    Index("risk_alert_village_code", Label.RISK_ALERT, "village_code"),
    Index("risk_alert_status", Label.RISK_ALERT, "status"),
    # Department records are matched to people (and people to records) by the ID hash, and
    # removed by import job when a failed import is rolled back. (No index on `source`: each
    # costs every one of millions of inserts, and cross-checks reach records through people.)
    Index("dept_record_national_id_hash", Label.DEPT_RECORD, "national_id_hash"),
    Index("dept_record_import_job", Label.DEPT_RECORD, "import_job"),
    Index("household_import_job", Label.HOUSEHOLD, "import_job"),
    Index("person_import_job", Label.PERSON, "import_job"),
    Index("need_import_job", Label.NEED, "import_job"),
    # A project's parts are found by its id; the scan replaces flags county by county and
    # officials read them by region prefix.
    Index("project_milestone_project_id", Label.PROJECT_MILESTONE, "project_id"),
    Index("project_fund_project_id", Label.PROJECT_FUND, "project_id"),
    Index("project_income_project_id", Label.PROJECT_INCOME, "project_id"),
    Index("project_flag_county_code", Label.PROJECT_FLAG, "county_code"),
    Index("project_flag_region_code", Label.PROJECT_FLAG, "region_code"),
    # Field workers and officials list their region's verification tasks and exit proposals.
    Index("finding_village_code", Label.FINDING, "village_code"),
    Index("finding_status", Label.FINDING, "status"),
    Index("exit_proposal_village_code", Label.EXIT_PROPOSAL, "village_code"),
    *_market_indexes(),
)

# Labels and property keys cannot be parameters in Cypher; these come only from the enums above.
_CONSTRAINT_TEMPLATE = (
    "CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
)
_INDEX_TEMPLATE = "CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON ({keys})"

# Tokens (label, relationship type and property key names) are created on first use in an
# internal transaction of their own. When 200 claims hit a fresh database at once they all race
# to create `lock_version` and deadlock on it; creating every token up front removes that.
LOCK_PROPERTIES = (
    "lock_version",
    "claimed_by",
    "claimed_at",
    "last_progress_at",
    "updated_at",
    "claims_total",
    "claims_completed",
    "claims_released",
    "head_seq",
    "head_hash",
    "lock_token",
)
CREATE_LABEL = "CALL db.createLabel($name)"
CREATE_RELATIONSHIP_TYPE = "CALL db.createRelationshipType($name)"
CREATE_PROPERTY = "CALL db.createProperty($name)"

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
        _INDEX_TEMPLATE.format(
            name=i.name, label=i.label.value, keys=", ".join(f"n.{k}" for k in i.keys)
        )
        for i in INDEXES
    ]
    return statements


def apply_schema(graph: GraphClient) -> int:
    """Create what is missing, wait until indexes are online, record the version; return it."""
    for statement in schema_statements():
        # Schema changes cannot share a transaction with data writes: one each.
        graph.write(statement)
    for label in Label:
        graph.write(CREATE_LABEL, name=label.value)
    for rel in Rel:
        graph.write(CREATE_RELATIONSHIP_TYPE, name=rel.value)
    for key in LOCK_PROPERTIES:
        graph.write(CREATE_PROPERTY, name=key)
    if (schema_version(graph) or 0) < BACKFILL_SINCE:
        _backfill_need_keys(graph)
    graph.write(AWAIT_INDEXES, seconds=300, timeout_s=310)
    rows = graph.write(RECORD_VERSION, version=SCHEMA_VERSION)
    return int(rows[0]["version"])


def _backfill_need_keys(graph: GraphClient) -> None:
    written = BACKFILL_BATCH
    while written:
        rows = graph.write(BACKFILL_NEED_KEYS, batch=BACKFILL_BATCH, timeout_s=300)
        written = int(rows[0]["written"])


def schema_version(graph: GraphClient) -> int | None:
    row = graph.read_one(READ_VERSION)
    return None if row is None else int(row["version"])


def describe_schema(graph: GraphClient) -> list[dict[str, object]]:
    return graph.read(SHOW_SCHEMA)
