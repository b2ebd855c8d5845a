"""Candidate retrieval and matching state: what the ranker needs, read in one query per request.

Records carry plain values and numpy matrices of embeddings; the scoring itself is matching/'s.

Embeddings are stored on the node as `embedding`: the float32 little-endian vector, base64-encoded
into a string (256 dimensions: 1,368 characters), with `embedding_model` (the encoder's version)
and `embedding_source` (a hash of the text it was computed from, so a changed text is
re-embedded). Not a list of floats: reading 2,000 embeddings through GraphClient.read takes 73 ms
as strings, 1,124 ms as float lists and 3,498 ms as byte arrays (measured on the 2-core machine),
because the driver's `record.data()` walks lists and byte arrays element by element in Python; a
float list is also stored as doubles (2 KB per need against 1.4 KB).

History (reliability and speed) is a nightly snapshot on the Helper: `history_taken` (needs it
holds or held, i.e. CLAIMED relationships), `history_completed` (of those fulfilled, confirmed or
closed) and `history_days` (their mean days from publication to fulfilment), written by
`refresh_helper_history`. Releases delete the CLAIMED relationship, so they come from the live
lifecycle counter `claims_released` and are added to the claims taken. Open claims are counted live.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from neo4j import ManagedTransaction
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from bangfu.errors import ConflictError, InvalidInputError, NotFoundError
from graph.client import GraphClient
from graph.models import ShownOutcome, ShownPair

EMBEDDING_DTYPE = np.dtype("<f4")
OPEN = "open"
# Needs worth an embedding: the ones a helper can still be matched with, or that await review.
EMBEDDED_STATUSES = ("pending_review", "open")
HELD_STATUSES = ("claimed", "in_progress")

HELPER_COLUMNS = """h.id AS id, h.kind AS kind, h.name AS name, h.capabilities AS capabilities,
       h.service_regions AS service_regions, h.capacity AS capacity,
       CASE WHEN h.history_at IS NULL
            THEN COUNT { (h)-[:CLAIMED]->(held:Need) WHERE held.status IN $held_statuses }
            ELSE COUNT { (h)-[:CLAIMED]->() } - coalesce(h.history_completed, 0)
       END AS open_claims,
       coalesce(h.history_taken, 0) + coalesce(h.claims_released, 0) AS taken,
       coalesce(h.history_completed, 0) AS completed,
       h.history_days AS fulfil_days,
       h.embedding AS embedding, h.embedding_model AS embedding_model"""

NEED_FIELDS = """
n {.id, .household_id, .village_code, .category, .kind, .urgency, .status, .created_at,
   .amount, .title, .text, .embedding, .embedding_model} AS n
"""

NEED_FOR_MATCHING = (
    """
MATCH (n:Need {id: $id})
WHERE any(prefix IN $prefixes WHERE n.village_code STARTS WITH prefix)
RETURN """
    + NEED_FIELDS
)

# Helpers that serve the need's village or a region above it ($region_codes: the village's code
# and its town's, county's, city's and province's) and offer the category, plus the units paired
# with the household directly or through a cadre they sent (结对帮扶), with or without the category.
#
# Open claims: the CLAIMED degree (kept by Neo4j per node, read without expanding) minus the
# completed claims of the nightly history snapshot. Counting claims by status instead expands up
# to 2,521 relationships per helper and took p50 156 ms / p95 634 ms per need at province scale,
# against p50 4.3 ms / p95 9.1 ms this way. Needs fulfilled since the snapshot still count as
# open until the next refresh, so the estimate errs on the full side; a claim itself checks the
# live count (matching/claims.py). A helper without a snapshot yet is counted live.
HELPERS_FOR_NEED = (
    """
MATCH (n:Need {id: $id})
OPTIONAL MATCH (hh:Household {id: n.household_id})
CALL (n, hh) {
  MATCH (r:Region) WHERE r.code IN $region_codes
  MATCH (r)<-[:SERVES]-(h:Helper)
  WHERE n.category IN h.capabilities
  RETURN h, false AS paired
  UNION
  MATCH (hh)<-[:PAIRED_WITH]-(h:Helper)
  RETURN h, true AS paired
  UNION
  MATCH (hh)<-[:PAIRED_WITH]-(:Cadre)-[:FROM_UNIT]->(h:Helper)
  RETURN h, true AS paired
}
WITH h, max(paired) AS paired
RETURN """
    + HELPER_COLUMNS
    + """, paired
ORDER BY id
"""
)

HELPER_FOR_MATCHING = (
    """
MATCH (h:Helper {id: $id})
RETURN """
    + HELPER_COLUMNS
    + """, false AS paired
"""
)

# Open needs of the helper's categories in $regions (its service regions cut to the caller's
# scope), plus the open needs of households it is paired with, whatever their category.
# Two shapes, chosen by the width of the regions (measured at province scale, 30 helpers each,
# warm, on the shared 2-core machine): below the province, one prefix seek on the village-code
# index per region (village-level units p50 7 ms, town 13 ms, county 47 ms, city ~190 ms); for a
# province-wide helper, whose prefix "44" would read every need, a walk of the urgency_rank
# index that stops at $cap (p50 ~250 ms, against ~450 ms seeking each category and sorting all
# 100k+ candidates; the same needs come back). Above $cap candidates the most urgent and
# longest-waiting $cap are kept: urgency and waiting are what set apart needs of one category
# for one helper; numpy scores the rest.
NEEDS_FOR_HELPER_HEAD = """
MATCH (h:Helper {id: $helper_id})
WITH h, [(h)-[:PAIRED_WITH]->(x:Household) | x.id]
        + [(h)<-[:FROM_UNIT]-(:Cadre)-[:PAIRED_WITH]->(x:Household) | x.id] AS paired_ids
"""

NEEDS_OF_PAIRED = """
  UNION
  UNWIND paired_ids AS household_id
  MATCH (:Household {id: household_id})-[:HAS_NEED]->(n:Need {status: 'open'})
  WHERE any(code IN $regions WHERE n.village_code STARTS WITH code)
  RETURN n
"""

NEEDS_FOR_HELPER_TAIL = """
WITH n, n.household_id IN paired_ids AS paired
ORDER BY CASE n.urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,
         n.created_at, n.id
LIMIT $cap
RETURN n {.id, .household_id, .village_code, .category, .urgency, .status, .created_at,
          .embedding, .embedding_model} AS n, paired
"""

NEEDS_FOR_HELPER_BY_REGION = (
    NEEDS_FOR_HELPER_HEAD
    + """
CALL (paired_ids) {
  UNWIND $regions AS code
  MATCH (n:Need) USING INDEX n:Need(village_code)
  WHERE n.village_code STARTS WITH code AND n.status = 'open' AND n.category IN $categories
  RETURN n
"""
    + NEEDS_OF_PAIRED
    + "}"
    + NEEDS_FOR_HELPER_TAIL
)

# Province-wide: walk the urgency_rank index in order (critical first) and stop once $cap open
# needs of the helper's categories are found; ties are ordered by waiting time within a rank.
NEEDS_FOR_HELPER_BY_URGENCY = (
    NEEDS_FOR_HELPER_HEAD
    + """
CALL (paired_ids) {
  MATCH (n:Need) USING INDEX n:Need(urgency_rank)
  WHERE n.urgency_rank >= 0 AND n.status = 'open' AND n.category IN $categories
    AND any(code IN $regions WHERE n.village_code STARTS WITH code)
  WITH n ORDER BY n.urgency_rank, n.created_at, n.id LIMIT $cap
  RETURN n
"""
    + NEEDS_OF_PAIRED
    + "}"
    + NEEDS_FOR_HELPER_TAIL
)

# Regions at or above this code length are searched by prefix; shorter (the province) by urgency.
PREFIX_SEEK_MIN_LENGTH = 4
COUNTY_CODE_LENGTH = 6

NEED_DETAILS = """
MATCH (n:Need) WHERE n.id IN $ids
RETURN n {.id, .household_id, .village_code, .category, .kind, .urgency, .status, .created_at,
          .amount, .title, .text} AS n
"""

# --- embeddings ----------------------------------------------------------------------------------

NEED_TEXTS = """
MATCH (n:Need)
WHERE n.id > $after AND n.status IN $statuses
RETURN n.id AS id, n.title AS title, n.text AS text, n.embedding_model AS model,
       n.embedding_source AS source
ORDER BY n.id LIMIT $limit
"""

HELPER_TEXTS = """
MATCH (h:Helper)
WHERE h.id > $after
RETURN h.id AS id, h.name AS title, h.description AS text, h.embedding_model AS model,
       h.embedding_source AS source
ORDER BY h.id LIMIT $limit
"""

HELPER_TEXTS_OF = """
MATCH (h:Helper) WHERE h.id IN $ids
RETURN h.id AS id, h.name AS title, h.description AS text, h.embedding_model AS model,
       h.embedding_source AS source
ORDER BY h.id
"""

NEED_TEXTS_OF = """
MATCH (n:Need) WHERE n.id IN $ids AND n.status IN $statuses
RETURN n.id AS id, n.title AS title, n.text AS text, n.embedding_model AS model,
       n.embedding_source AS source
ORDER BY n.id
"""

SAVE_NEED_EMBEDDINGS = """
UNWIND $rows AS r
MATCH (n:Need {id: r.id})
SET n.embedding = r.embedding, n.embedding_model = r.model, n.embedding_source = r.source
RETURN count(*) AS written
"""

SAVE_HELPER_EMBEDDINGS = """
UNWIND $rows AS r
MATCH (h:Helper {id: r.id})
SET h.embedding = r.embedding, h.embedding_model = r.model, h.embedding_source = r.source
RETURN count(*) AS written
"""

# --- history -------------------------------------------------------------------------------------

HELPER_IDS_AFTER = "MATCH (h:Helper) WHERE h.id > $after RETURN h.id AS id ORDER BY id LIMIT $limit"

REFRESH_HISTORY = """
UNWIND $ids AS helper_id
MATCH (h:Helper {id: helper_id})
CALL (h) {
  OPTIONAL MATCH (h)-[:CLAIMED]->(n:Need)
  WITH n, n.status IN ['fulfilled', 'confirmed', 'closed'] AS done
  RETURN count(n) AS taken,
         count(CASE WHEN done THEN 1 END) AS completed,
         avg(CASE WHEN done THEN duration.inDays(
               n.created_at, coalesce(n.fulfilled_at, date(n.updated_at))).days END) AS days
}
SET h.history_taken = taken, h.history_completed = completed, h.history_days = days,
    h.history_at = $at
RETURN count(*) AS written
"""

# --- regions (assignment) ------------------------------------------------------------------------

# One county (or a region below it) at a time: a prefix seek on the village-code index reads
# only that county's needs. Paging the whole province by id instead re-read all 389,802 needs
# for every page (5.6 s a page, 67 s in all).
OPEN_NEEDS_IN_REGION = """
MATCH (n:Need)
WHERE n.village_code STARTS WITH $region_code AND n.status = 'open'
OPTIONAL MATCH (hh:Household {id: n.household_id})
RETURN n {.id, .household_id, .village_code, .category, .urgency, .created_at, .embedding,
          .embedding_model} AS n,
       [(hh)<-[:PAIRED_WITH]-(u:Helper) | u.id]
         + [(hh)<-[:PAIRED_WITH]-(:Cadre)-[:FROM_UNIT]->(u:Helper) | u.id] AS paired_with
"""

COUNTIES_UNDER = """
MATCH (r:Region {level: 'county'}) WHERE r.code STARTS WITH $region_code
RETURN r.code AS code ORDER BY code
"""

COUNT_OPEN_NEEDS_IN_REGION = """
MATCH (n:Need)
WHERE n.village_code STARTS WITH $region_code AND n.status = 'open'
RETURN count(n) AS open_needs
"""

# Helpers serving the region, a region above it or one inside it.
HELPERS_FOR_REGION = (
    """
MATCH (h:Helper)-[:SERVES]->(r:Region)
WHERE r.code STARTS WITH $region_code OR $region_code STARTS WITH r.code
WITH DISTINCT h
RETURN """
    + HELPER_COLUMNS
    + """, false AS paired
ORDER BY id
"""
)

REGION_EXISTS = "MATCH (r:Region {code: $code}) RETURN r.code AS code, r.name AS name"

# --- proposals -----------------------------------------------------------------------------------

CREATE_PROPOSAL = """
MATCH (r:Region {code: $region_code})
CREATE (p:AssignmentProposal)
SET p = $props
CREATE (p)-[:PROPOSAL_FOR]->(r)
RETURN p.id AS id
"""

# A queued proposal is computed by attempts (`begin_proposal_attempt`): a redelivered or resent
# task starts a new one, and only the latest attempt may write. Each write first takes the
# proposal's lock, so the attempt it then reads is the latest committed: an attempt superseded
# while it computed writes nothing. Synchronous proposals have no attempt ($attempt null).
_CURRENT_ATTEMPT = """
MATCH (p:AssignmentProposal {id: $id})
SET p.lock_version = coalesce(p.lock_version, 0) + 1
WITH p
WHERE $attempt IS NULL OR p.attempt = $attempt
"""

ADD_PROPOSAL_ITEMS = (
    _CURRENT_ATTEMPT
    + """
UNWIND $items AS item
MATCH (n:Need {id: item.need_id})
CREATE (p)-[:PROPOSES {helper_id: item.helper_id, score: item.score}]->(n)
RETURN count(*) AS written
"""
)

FINISH_PROPOSAL = (
    _CURRENT_ATTEMPT
    + """
SET p.status = $status, p.summary = $summary
RETURN count(p) AS finished
"""
)

# Items are written in chunks of 5,000 in their own transactions; a retry starts clean, deleting
# what an earlier attempt left a batch at a time.
CLEAR_PROPOSAL_ITEMS = (
    _CURRENT_ATTEMPT
    + """
MATCH (p)-[x:PROPOSES]->()
WITH x LIMIT $limit
DELETE x
RETURN count(*) AS deleted
"""
)

PROPOSAL_TO_COMPUTE = """
MATCH (p:AssignmentProposal {id: $id})
RETURN p.region_code AS region_code, p.status AS status, p.params AS params
"""

BEGIN_PROPOSAL_ATTEMPT = """
MATCH (p:AssignmentProposal {id: $id}) WHERE p.status = 'computing'
SET p.attempt = $attempt, p.attempt_at = $now
RETURN p.attempt AS attempt
"""

PROPOSAL_ATTEMPT = "MATCH (p:AssignmentProposal {id: $id}) RETURN p.attempt AS attempt"

# Queued proposals no attempt has touched since $before: their message was lost
# (workers/dispatch.py), or their worker died and the broker has not redelivered it.
STALLED_PROPOSALS = """
MATCH (p:AssignmentProposal {status: 'computing'})
WHERE coalesce(p.attempt_at, p.created_at) < $before
RETURN p.id AS id ORDER BY p.created_at, p.id LIMIT $limit
"""

FAIL_PROPOSAL = """
MATCH (p:AssignmentProposal {id: $id}) WHERE p.status = 'computing'
SET p.status = 'failed'
"""

GET_PROPOSAL = """
MATCH (p:AssignmentProposal {id: $id})
WHERE any(prefix IN $prefixes WHERE p.region_code STARTS WITH prefix)
CALL (p) {
  MATCH (p)-[x:PROPOSES]->(:Need)
  RETURN count(x) AS total, count(DISTINCT x.helper_id) AS helpers_used
}
CALL (p) {
  OPTIONAL MATCH (p)-[x:PROPOSES]->(n:Need)
  WITH x, n ORDER BY n.id SKIP $skip LIMIT $limit
  RETURN collect(CASE WHEN n IS NULL THEN null
                 ELSE {need_id: n.id, helper_id: x.helper_id, score: x.score,
                       outcome: x.outcome} END) AS items
}
OPTIONAL MATCH (p)-[:PROPOSAL_FOR]->(r:Region)
RETURN p {.*} AS p, r.name AS region_name, total, helpers_used, items
"""

# The proposals of the caller's scope, newest first. Proposals are made by hand (one per
# official's request), a few per region and month, so walking the label and sorting is cheap;
# the item count is the summary's `assigned` (no walk over a province proposal's ~190k items).
LIST_PROPOSALS = """
CALL () {
  MATCH (p:AssignmentProposal)
  WHERE any(prefix IN $prefixes WHERE p.region_code STARTS WITH prefix)
  RETURN count(p) AS total
}
CALL () {
  MATCH (p:AssignmentProposal)
  WHERE any(prefix IN $prefixes WHERE p.region_code STARTS WITH prefix)
  WITH p ORDER BY p.created_at DESC, p.id DESC SKIP $skip LIMIT $limit
  OPTIONAL MATCH (p)-[:PROPOSAL_FOR]->(r:Region)
  RETURN collect(p {.*, region_name: r.name}) AS items
}
RETURN total, items
"""

# One page of a proposal's items as a person reads them: the need as helpers see it in the
# market (title, category, village; no household, names, IDs or phones: the page blanks ID- and
# phone-shaped text in the title too), the helper's name, the score and, after acceptance, what
# became of the item.
PROPOSAL_ITEM_CARDS = """
MATCH (p:AssignmentProposal {id: $id})
WHERE any(prefix IN $prefixes WHERE p.region_code STARTS WITH prefix)
MATCH (p)-[x:PROPOSES]->(n:Need)
WITH x, n ORDER BY n.id SKIP $skip LIMIT $limit
OPTIONAL MATCH (h:Helper {id: x.helper_id})
OPTIONAL MATCH (v:Region {code: n.village_code})
RETURN n.id AS need_id, n.title AS title, n.category AS category, n.urgency AS urgency,
       n.village_code AS village_code, v.name AS village_name, x.helper_id AS helper_id,
       h.name AS helper_name, x.score AS score, x.outcome AS outcome
ORDER BY need_id
"""

# Accepting a proposal: taken once (the status moves on under the node's lock), then its items
# are claimed chunk by chunk by a worker; each item records what became of it.
LOCK_PROPOSAL = """
MATCH (p:AssignmentProposal {id: $id})
WHERE any(prefix IN $prefixes WHERE p.region_code STARTS WITH prefix)
SET p.lock_version = coalesce(p.lock_version, 0) + 1
RETURN p.status AS status
"""

BEGIN_ACCEPTANCE = """
MATCH (p:AssignmentProposal {id: $id})
SET p.status = 'accepting', p.accepted_by = $by, p.accepted_at = $now, p.acceptance_job = $job_id
"""

OPEN_PROPOSAL_ITEMS = """
MATCH (:AssignmentProposal {id: $id})-[x:PROPOSES]->(n:Need)
WHERE x.outcome IS NULL
RETURN n.id AS need_id ORDER BY need_id
"""

PROPOSAL_ITEMS_OF = """
MATCH (:AssignmentProposal {id: $id})-[x:PROPOSES]->(n:Need)
WHERE n.id IN $need_ids
RETURN n.id AS need_id, x.helper_id AS helper_id, x.score AS score, x.outcome AS outcome
ORDER BY need_id
"""

SET_ITEM_OUTCOMES = """
MATCH (p:AssignmentProposal {id: $id})
UNWIND $rows AS r
MATCH (p)-[x:PROPOSES]->(:Need {id: r.need_id})
SET x.outcome = r.outcome
RETURN count(*) AS written
"""

FINISH_ACCEPTANCE = """
MATCH (p:AssignmentProposal {id: $id})
CALL (p) {
  MATCH (p)-[x:PROPOSES]->(:Need)
  RETURN sum(CASE x.outcome WHEN 'claimed' THEN 1 ELSE 0 END) AS claimed,
         sum(CASE WHEN x.outcome IS NOT NULL AND x.outcome <> 'claimed' THEN 1 ELSE 0 END)
           AS skipped
}
SET p.status = 'accepted', p.claimed = claimed, p.skipped = skipped
RETURN claimed, skipped
"""

# --- recommendations shown ------------------------------------------------------------------------

# One node per (need, helper) pair, not per showing: the learner needs each pair once with its
# latest factor values; `times` and `best_rank` keep how prominently it was shown.
RECORD_SHOWN = """
UNWIND $rows AS r
MERGE (s:ShownPair {key: r.need_id + '|' + r.helper_id})
ON CREATE SET s.need_id = r.need_id, s.helper_id = r.helper_id, s.first_shown_at = r.shown_at,
              s.times = 0, s.best_rank = r.rank
SET s.values = r.values, s.surface = r.surface, s.last_shown_at = r.shown_at,
    s.times = s.times + 1,
    s.best_rank = CASE WHEN r.rank < s.best_rank THEN r.rank ELSE s.best_rank END
RETURN count(*) AS written
"""

SHOWN_OUTCOMES = """
MATCH (s:ShownPair) WHERE s.key > $after
WITH s ORDER BY s.key LIMIT $limit
MATCH (n:Need {id: s.need_id})
RETURN s.key AS key, s.need_id AS need_id, s.helper_id AS helper_id, s.values AS values,
       n.status AS status, n.claimed_by AS holder_id,
       EXISTS { (n)<-[:EVENT_OF]-(:NeedEvent {action: 'release', helper_id: s.helper_id}) }
         AS released_by_helper
ORDER BY key
"""

# --- screening -----------------------------------------------------------------------------------

# The need under review and the other live needs of its household and village.
SCREENING_CONTEXT = """
MATCH (n:Need {id: $id})
WHERE any(prefix IN $prefixes WHERE n.village_code STARTS WITH prefix)
CALL (n) {
  MATCH (other:Need)
  WHERE other.village_code = n.village_code AND other.id <> n.id
    AND other.status IN ['pending_review', 'open', 'claimed', 'in_progress']
  RETURN collect(other {.id, .household_id, .village_code, .category, .kind, .urgency,
                        .status, .created_at, .amount, .title, .text}) AS others
}
RETURN n {.id, .household_id, .village_code, .category, .kind, .urgency, .status,
          .created_at, .amount, .title, .text} AS n, others
"""


# --- records ------------------------------------------------------------------------------------


class ProposalNotAcceptableError(ConflictError):
    code = "proposal_not_acceptable"
    message_zh = "该分配方案不能接受"


class MatchNeed(BaseModel):
    """A need as ranking and screening see it (no embedding: that travels in a matrix)."""

    model_config = ConfigDict(frozen=True)

    id: str
    household_id: str
    village_code: str
    category: str
    kind: str | None = None
    urgency: str
    status: str
    created_at: date
    amount: float = 0.0
    title: str = ""
    text: str = ""
    paired: bool = False
    paired_with: tuple[str, ...] = ()


class MatchHelper(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    name: str
    capabilities: tuple[str, ...]
    service_regions: tuple[str, ...]
    capacity: int
    open_claims: int
    taken: float
    completed: float
    fulfil_days: float | None
    paired: bool


class Embedded(BaseModel):
    """Records with their embeddings as rows of one matrix; a row is zero (and `has_embedding`
    False) where the node has none, or one of another model than `model`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    model: str | None
    vectors: NDArray[np.float32]
    has_embedding: NDArray[np.bool_]


class NeedWithEmbedding(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    need: MatchNeed
    embedding: NDArray[np.float32] | None
    embedding_model: str | None


class HelperCandidates(BaseModel):
    model_config = ConfigDict(frozen=True)

    helpers: list[MatchHelper]
    embeddings: Embedded


class NeedCandidates(BaseModel):
    model_config = ConfigDict(frozen=True)

    needs: list[MatchNeed]
    embeddings: Embedded


class TextRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    text: str
    model: str | None
    source: str | None


class EmbeddingRow(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    vector: NDArray[np.float32]
    model: str
    source: str


class ProposalItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    need_id: str
    helper_id: str
    score: float
    # After acceptance: 'claimed', or the error code of the check that refused the claim.
    outcome: str | None = None


class ProposalHeader(BaseModel):
    """A stored proposal without its items: what a list of proposals shows."""

    model_config = ConfigDict(frozen=True)

    id: str
    region_code: str
    region_name: str | None = None
    status: str
    created_at: datetime
    created_by: str
    summary: dict[str, Any]  # empty while a worker computes it
    accepted_by: str | None = None
    accepted_at: datetime | None = None
    claimed: int | None = None  # set when the acceptance finished
    skipped: int | None = None


class StoredProposal(ProposalHeader):
    items: list[ProposalItem]  # one page, in need id order
    items_total: int
    helpers_used: int


class ProposalListing(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[ProposalHeader]
    total: int


class ProposalItemCard(BaseModel):
    """A proposal's item as the pages show it (PROPOSAL_ITEM_CARDS): de-identified need."""

    model_config = ConfigDict(frozen=True)

    need_id: str
    title: str
    category: str
    urgency: str
    village_code: str
    village_name: str | None
    helper_id: str
    helper_name: str | None
    score: float
    outcome: str | None


class ScreeningContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    need: MatchNeed
    others: list[MatchNeed]


# --- conversions --------------------------------------------------------------------------------


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _proposal_header(p: dict[str, Any]) -> ProposalHeader:
    accepted_at = p.get("accepted_at")
    return ProposalHeader(
        id=p["id"],
        region_code=p["region_code"],
        region_name=p.get("region_name"),
        status=p["status"],
        created_at=_native(p["created_at"]),
        created_by=p["created_by"],
        summary=json.loads(p.get("summary") or "{}"),
        accepted_by=p.get("accepted_by"),
        accepted_at=_native(accepted_at) if accepted_at is not None else None,
        claimed=p.get("claimed"),
        skipped=p.get("skipped"),
    )


def _need(row: dict[str, Any], paired: bool = False, paired_with: Sequence[str] = ()) -> MatchNeed:
    return MatchNeed(
        id=row["id"],
        household_id=row.get("household_id") or "",
        village_code=row["village_code"],
        category=row["category"],
        kind=row.get("kind"),
        urgency=row.get("urgency") or "normal",
        status=row.get("status") or OPEN,
        created_at=_native(row["created_at"]),
        amount=float(row.get("amount") or 0.0),
        title=row.get("title") or "",
        text=row.get("text") or "",
        paired=paired,
        paired_with=tuple(sorted(set(paired_with))),
    )


def _helper(row: dict[str, Any]) -> MatchHelper:
    days = row.get("fulfil_days")
    return MatchHelper(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        capabilities=tuple(row.get("capabilities") or ()),
        service_regions=tuple(row.get("service_regions") or ()),
        capacity=int(row.get("capacity") or 0),
        open_claims=max(0, int(row.get("open_claims") or 0)),
        taken=float(row.get("taken") or 0),
        completed=float(row.get("completed") or 0),
        fulfil_days=None if days is None else float(days),
        paired=bool(row.get("paired")),
    )


def decode_embedding(raw: Any) -> NDArray[np.float32] | None:
    if not raw or not isinstance(raw, str):
        return None
    return np.frombuffer(base64.b64decode(raw), dtype=EMBEDDING_DTYPE).astype(np.float32)


def encode_embedding(vector: NDArray[np.float32]) -> str:
    return base64.b64encode(np.ascontiguousarray(vector, dtype=EMBEDDING_DTYPE).tobytes()).decode()


def stack_embeddings(
    raws: Sequence[Any], models: Sequence[str | None], model: str | None
) -> Embedded:
    """One matrix of the embeddings made by `model` (the others count as missing)."""
    vectors = [
        decode_embedding(raw) if (model is not None and m == model) else None
        for raw, m in zip(raws, models, strict=True)
    ]
    dim = next((v.shape[0] for v in vectors if v is not None), 0)
    matrix = np.zeros((len(vectors), dim), dtype=np.float32)
    has = np.zeros(len(vectors), dtype=bool)
    for i, v in enumerate(vectors):
        if v is not None and v.shape[0] == dim:
            matrix[i] = v
            has[i] = True
    return Embedded(model=model, vectors=matrix, has_embedding=has)


def village_prefixes(village_code: str) -> list[str]:
    """The village's code and the codes of the town, county, city and province above it."""
    return [village_code[:n] for n in (2, 4, 6, 9, 12) if n <= len(village_code)]


class MatchingRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    # --- ranking ---------------------------------------------------------------------------------

    def need(self, need_id: str, prefixes: Sequence[str]) -> NeedWithEmbedding:
        """A need inside the caller's regions (NotFound outside them), with its embedding."""
        row = self.graph.read_one(NEED_FOR_MATCHING, id=need_id, prefixes=list(prefixes))
        if row is None:
            raise NotFoundError(f"need {need_id} not found", message_zh="未找到该需求")
        n = row["n"]
        return NeedWithEmbedding(
            need=_need(n),
            embedding=decode_embedding(n.get("embedding")),
            embedding_model=n.get("embedding_model"),
        )

    def helpers_for_need(self, need: MatchNeed, model: str | None) -> HelperCandidates:
        rows = self.graph.read(
            HELPERS_FOR_NEED,
            id=need.id,
            region_codes=village_prefixes(need.village_code),
            held_statuses=list(HELD_STATUSES),
        )
        return HelperCandidates(
            helpers=[_helper(r) for r in rows],
            embeddings=stack_embeddings(
                [r["embedding"] for r in rows], [r["embedding_model"] for r in rows], model
            ),
        )

    def helper(self, helper_id: str, model: str | None) -> tuple[MatchHelper, Embedded]:
        row = self.graph.read_one(
            HELPER_FOR_MATCHING, id=helper_id, held_statuses=list(HELD_STATUSES)
        )
        if row is None:
            raise NotFoundError(f"helper {helper_id} not found", message_zh="未找到该帮扶主体")
        return _helper(row), stack_embeddings([row["embedding"]], [row["embedding_model"]], model)

    def needs_for_helper(
        self,
        helper_id: str,
        regions: Sequence[str],
        categories: Sequence[str],
        cap: int,
        model: str | None,
    ) -> NeedCandidates:
        """Open candidate needs for a helper in `regions` (see NEEDS_FOR_HELPER_BY_REGION),
        at most `cap`, without their texts (`need_details` fetches those for the few shown)."""
        near = [r for r in regions if len(r) >= PREFIX_SEEK_MIN_LENGTH]
        wide = [r for r in regions if len(r) < PREFIX_SEEK_MIN_LENGTH]
        rows: list[dict[str, Any]] = []
        for query, part in (
            (NEEDS_FOR_HELPER_BY_REGION, near),
            (NEEDS_FOR_HELPER_BY_URGENCY, wide),
        ):
            if part:
                rows += self.graph.read(
                    query, helper_id=helper_id, regions=part, categories=list(categories), cap=cap
                )
        seen: set[str] = set()
        unique = []
        for r in rows:
            if r["n"]["id"] not in seen:
                seen.add(r["n"]["id"])
                unique.append(r)
        return NeedCandidates(
            needs=[_need(r["n"], paired=bool(r["paired"])) for r in unique],
            embeddings=stack_embeddings(
                [r["n"].get("embedding") for r in unique],
                [r["n"].get("embedding_model") for r in unique],
                model,
            ),
        )

    def need_details(self, need_ids: Sequence[str]) -> dict[str, MatchNeed]:
        rows = self.graph.read(NEED_DETAILS, ids=list(need_ids))
        return {r["n"]["id"]: _need(r["n"]) for r in rows}

    # --- embeddings ------------------------------------------------------------------------------

    def need_texts(self, after: str, limit: int) -> list[TextRow]:
        rows = self.graph.read(
            NEED_TEXTS, after=after, limit=limit, statuses=list(EMBEDDED_STATUSES)
        )
        return [TextRow.model_validate(r) for r in rows]

    def helper_texts(self, after: str, limit: int) -> list[TextRow]:
        return [
            TextRow.model_validate(r)
            for r in self.graph.read(HELPER_TEXTS, after=after, limit=limit)
        ]

    def need_texts_of(self, need_ids: Sequence[str]) -> list[TextRow]:
        rows = self.graph.read(NEED_TEXTS_OF, ids=list(need_ids), statuses=list(EMBEDDED_STATUSES))
        return [TextRow.model_validate(r) for r in rows]

    def helper_texts_of(self, helper_ids: Sequence[str]) -> list[TextRow]:
        return [
            TextRow.model_validate(r)
            for r in self.graph.read(HELPER_TEXTS_OF, ids=list(helper_ids))
        ]

    def _save(self, query: str, rows: Sequence[EmbeddingRow], what: str) -> None:
        if not rows:
            return
        payload = [
            {
                "id": r.id,
                "embedding": encode_embedding(r.vector),
                "model": r.model,
                "source": r.source,
            }
            for r in rows
        ]
        self.graph.write_counted(query, len(payload), what, rows=payload, timeout_s=120)

    def save_need_embeddings(self, rows: Sequence[EmbeddingRow]) -> None:
        self._save(SAVE_NEED_EMBEDDINGS, rows, "need embeddings")

    def save_helper_embeddings(self, rows: Sequence[EmbeddingRow]) -> None:
        self._save(SAVE_HELPER_EMBEDDINGS, rows, "helper embeddings")

    # --- history ---------------------------------------------------------------------------------

    def refresh_helper_history(self, at: datetime, chunk: int = 500) -> int:
        """Recompute every helper's history snapshot, `chunk` helpers per transaction."""
        after, done = "", 0
        while True:
            ids = [r["id"] for r in self.graph.read(HELPER_IDS_AFTER, after=after, limit=chunk)]
            if not ids:
                return done
            self.graph.write_counted(
                REFRESH_HISTORY, len(ids), "helper history", ids=ids, at=at, timeout_s=300
            )
            done += len(ids)
            after = ids[-1]

    # --- regions (assignment) --------------------------------------------------------------------

    def region_name(self, region_code: str) -> str:
        row = self.graph.read_one(REGION_EXISTS, code=region_code)
        if row is None:
            raise NotFoundError(f"region {region_code} not found", message_zh="未找到该地区")
        return str(row["name"])

    def count_open_needs(self, region_code: str) -> int:
        row = self.graph.read_one(COUNT_OPEN_NEEDS_IN_REGION, region_code=region_code)
        return int(row["open_needs"]) if row else 0

    def open_needs_in_region(self, region_code: str, model: str | None) -> NeedCandidates:
        """Every open need under `region_code`, read county by county above county level."""
        if len(region_code) < COUNTY_CODE_LENGTH:
            parts = [r["code"] for r in self.graph.read(COUNTIES_UNDER, region_code=region_code)]
        else:
            parts = [region_code]
        needs: list[MatchNeed] = []
        raws: list[Any] = []
        models: list[str | None] = []
        for code in parts:
            for r in self.graph.read(OPEN_NEEDS_IN_REGION, region_code=code, timeout_s=120):
                n = r["n"]
                needs.append(_need(n, paired_with=r["paired_with"]))
                raws.append(n.get("embedding"))
                models.append(n.get("embedding_model"))
        return NeedCandidates(needs=needs, embeddings=stack_embeddings(raws, models, model))

    def helpers_for_region(self, region_code: str, model: str | None) -> HelperCandidates:
        rows = self.graph.read(
            HELPERS_FOR_REGION,
            region_code=region_code,
            held_statuses=list(HELD_STATUSES),
            timeout_s=120,
        )
        return HelperCandidates(
            helpers=[_helper(r) for r in rows],
            embeddings=stack_embeddings(
                [r["embedding"] for r in rows], [r["embedding_model"] for r in rows], model
            ),
        )

    # --- proposals -------------------------------------------------------------------------------

    def save_proposal(
        self,
        proposal_id: str,
        region_code: str,
        created_by: str,
        created_at: datetime,
        summary: dict[str, Any],
        items: Sequence[ProposalItem],
    ) -> None:
        """Store a computed proposal and its items; it reads 'writing' until the last chunk
        landed."""
        self.create_proposal(proposal_id, region_code, created_by, created_at, "writing", {})
        self.save_proposal_items(proposal_id, summary, items)

    def create_proposal(
        self,
        proposal_id: str,
        region_code: str,
        created_by: str,
        created_at: datetime,
        status: str,
        params: dict[str, Any],
    ) -> None:
        props = {
            "id": proposal_id,
            "region_code": region_code,
            "created_by": created_by,
            "created_at": created_at,
            "status": status,
            "params": json.dumps(params),
        }
        rows = self.graph.write(CREATE_PROPOSAL, region_code=region_code, props=props)
        if not rows:
            raise NotFoundError(f"region {region_code} not found", message_zh="未找到该地区")

    def save_proposal_items(
        self,
        proposal_id: str,
        summary: dict[str, Any],
        items: Sequence[ProposalItem],
        attempt: str | None = None,
        chunk: int = 5_000,
    ) -> bool:
        """Write a proposal's items and summary, then mark it proposed. Items a crashed earlier
        attempt left behind are removed first, so a retry never doubles one. False, with
        nothing written, when `attempt` was superseded by a later one."""
        deleted = 1
        while deleted:
            deleted = self.graph.write(
                CLEAR_PROPOSAL_ITEMS, id=proposal_id, attempt=attempt, limit=10_000
            )[0]["deleted"]
        payload = [i.model_dump() for i in items]
        for start in range(0, len(payload), chunk):
            part = payload[start : start + chunk]
            try:
                self.graph.write_counted(
                    ADD_PROPOSAL_ITEMS,
                    len(part),
                    "proposal items",
                    id=proposal_id,
                    attempt=attempt,
                    items=part,
                    timeout_s=120,
                )
            except InvalidInputError:
                if self._superseded(proposal_id, attempt):
                    return False
                raise
        rows = self.graph.write(
            FINISH_PROPOSAL,
            id=proposal_id,
            attempt=attempt,
            status="proposed",
            summary=json.dumps(summary, ensure_ascii=False, default=str),
        )
        return bool(rows[0]["finished"])

    def _superseded(self, proposal_id: str, attempt: str | None) -> bool:
        if attempt is None:
            return False
        row = self.graph.read_one(PROPOSAL_ATTEMPT, id=proposal_id)
        return row is not None and row["attempt"] != attempt

    def begin_proposal_attempt(self, proposal_id: str) -> str | None:
        """Start computing a queued proposal; the attempt's id, or None when it is no longer
        'computing'. A later attempt supersedes this one (see _CURRENT_ATTEMPT)."""
        rows = self.graph.write(
            BEGIN_PROPOSAL_ATTEMPT, id=proposal_id, attempt=uuid.uuid4().hex, now=datetime.now(UTC)
        )
        return str(rows[0]["attempt"]) if rows else None

    def stalled_proposals(self, before: datetime, limit: int = 100) -> list[str]:
        """Queued proposals no attempt has touched since `before` (STALLED_PROPOSALS)."""
        return [
            str(r["id"]) for r in self.graph.read(STALLED_PROPOSALS, before=before, limit=limit)
        ]

    def proposal_to_compute(self, proposal_id: str) -> tuple[str, str, dict[str, Any]]:
        """(region code, status, parameters) of a proposal queued for a worker to compute."""
        row = self.graph.read_one(PROPOSAL_TO_COMPUTE, id=proposal_id)
        if row is None:
            raise NotFoundError(
                f"assignment proposal {proposal_id} not found", message_zh="未找到该分配方案"
            )
        return str(row["region_code"]), str(row["status"]), json.loads(row["params"] or "{}")

    def fail_proposal(self, proposal_id: str) -> None:
        self.graph.write(FAIL_PROPOSAL, id=proposal_id)

    def proposal(
        self, proposal_id: str, prefixes: Sequence[str], skip: int = 0, limit: int = 100
    ) -> StoredProposal:
        row = self.graph.read_one(
            GET_PROPOSAL, id=proposal_id, prefixes=list(prefixes), skip=skip, limit=limit
        )
        if row is None:
            raise NotFoundError(
                f"assignment proposal {proposal_id} not found", message_zh="未找到该分配方案"
            )
        header = _proposal_header(row["p"] | {"region_name": row["region_name"]})
        return StoredProposal(
            **header.model_dump(),
            items=[ProposalItem.model_validate(i) for i in row["items"] if i],
            items_total=int(row["total"]),
            helpers_used=int(row["helpers_used"]),
        )

    def proposals(self, prefixes: Sequence[str], skip: int, limit: int) -> ProposalListing:
        """Proposals whose region lies in `prefixes`, newest first (LIST_PROPOSALS)."""
        row = self.graph.read_one(LIST_PROPOSALS, prefixes=list(prefixes), skip=skip, limit=limit)
        if row is None:
            return ProposalListing(items=[], total=0)
        return ProposalListing(
            items=[_proposal_header(p) for p in row["items"]], total=int(row["total"])
        )

    def proposal_item_cards(
        self, proposal_id: str, prefixes: Sequence[str], skip: int, limit: int
    ) -> list[ProposalItemCard]:
        """One page of a proposal's items, in need id order, de-identified (empty outside the
        scope: the caller reads the proposal itself first, which is NotFound there)."""
        rows = self.graph.read(
            PROPOSAL_ITEM_CARDS, id=proposal_id, prefixes=list(prefixes), skip=skip, limit=limit
        )
        return [ProposalItemCard.model_validate(r) for r in rows]

    # --- accepting proposals -------------------------------------------------------------------

    def begin_acceptance(
        self, proposal_id: str, prefixes: Sequence[str], by: str, job_id: str, now: datetime
    ) -> None:
        """Mark a proposed proposal as being accepted by `by` under `job_id`; NotFound outside
        the scope, Conflict when it is not 'proposed' (already accepted, or still being written).
        Two officials accepting at once: the lock lets one through."""

        def work(tx: ManagedTransaction) -> str | None:
            row = tx.run(LOCK_PROPOSAL, id=proposal_id, prefixes=list(prefixes)).single()
            if row is None:
                return None
            if row["status"] == "proposed":
                tx.run(BEGIN_ACCEPTANCE, id=proposal_id, by=by, job_id=job_id, now=now).consume()
            return str(row["status"])

        status = self.graph.run_write(work)
        if status is None:
            raise NotFoundError(
                f"assignment proposal {proposal_id} not found", message_zh="未找到该分配方案"
            )
        if status != "proposed":
            raise ProposalNotAcceptableError(
                f"assignment proposal {proposal_id} is {status}: only a proposed one is accepted",
                message_zh=f"该分配方案当前状态为{status}，不能接受",
            )

    def open_proposal_items(self, proposal_id: str) -> list[str]:
        """Need ids of the items no acceptance has dealt with yet."""
        return [r["need_id"] for r in self.graph.read(OPEN_PROPOSAL_ITEMS, id=proposal_id)]

    def proposal_items_of(
        self, proposal_id: str, need_ids: Sequence[str]
    ) -> list[tuple[ProposalItem, str | None]]:
        rows = self.graph.read(PROPOSAL_ITEMS_OF, id=proposal_id, need_ids=list(need_ids))
        return [
            (
                ProposalItem(need_id=r["need_id"], helper_id=r["helper_id"], score=r["score"]),
                r["outcome"],
            )
            for r in rows
        ]

    def set_item_outcomes(self, proposal_id: str, outcomes: Sequence[tuple[str, str]]) -> None:
        rows = [{"need_id": n, "outcome": o} for n, o in outcomes]
        self.graph.write_counted(
            SET_ITEM_OUTCOMES, len(rows), "proposal item outcomes", id=proposal_id, rows=rows
        )

    def finish_acceptance(self, proposal_id: str) -> tuple[int, int]:
        row = self.graph.write(FINISH_ACCEPTANCE, id=proposal_id)[0]
        return int(row["claimed"]), int(row["skipped"])

    # --- recommendations shown -----------------------------------------------------------------

    def record_shown(self, pairs: Sequence[ShownPair]) -> None:
        rows = [p.model_dump() | {"values": list(p.values)} for p in pairs]
        self.graph.write_counted(RECORD_SHOWN, len(rows), "shown pairs", rows=rows)

    def shown_outcomes(self, chunk: int = 10_000) -> Iterator[ShownOutcome]:
        """Every recorded pair with its need's outcome so far, in key order, `chunk` a read."""
        after = ""
        while True:
            rows = self.graph.read(SHOWN_OUTCOMES, after=after, limit=chunk, timeout_s=120)
            if not rows:
                return
            after = rows[-1]["key"]
            for r in rows:
                yield ShownOutcome.model_validate({**r, "values": tuple(r["values"])})

    # --- screening -------------------------------------------------------------------------------

    def screening_context(self, need_id: str, prefixes: Sequence[str]) -> ScreeningContext:
        row = self.graph.read_one(SCREENING_CONTEXT, id=need_id, prefixes=list(prefixes))
        if row is None:
            raise NotFoundError(f"need {need_id} not found", message_zh="未找到该需求")
        return ScreeningContext(need=_need(row["n"]), others=[_need(o) for o in row["others"]])
