from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from neo4j import ManagedTransaction

from bangfu.errors import ConflictError, NotFoundError
from graph.claims import (
    BrowsedNeed,
    Decider,
    HelperLoad,
    IdempotencyKey,
    LedgerEntry,
    NeedChange,
    NeedEvent,
    NeedPage,
    NeedQuery,
    NeedState,
    Pledge,
    TransferListing,
    TransferRequest,
)
from graph.client import GraphClient
from graph.models import AuditEntry, Need
from graph.repositories.audit import append_in_transaction
from graph.repositories.helpers import helper_from_row
from graph.schema import DERIVE_NEED_KEYS, MARKET_SCOPE_KEYS, MARKET_SORTS, market_index_keys

SAVE_NEEDS = (
    """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
MERGE (n:Need {id: r.id})
SET n += r"""
    + DERIVE_NEED_KEYS
    + """MERGE (h)-[:HAS_NEED]->(n)
WITH n, r
OPTIONAL MATCH (helper:Helper {id: r.claimed_by})
FOREACH (_ IN CASE WHEN helper IS NULL THEN [] ELSE [1] END | MERGE (helper)-[:CLAIMED]->(n))
RETURN count(*) AS written
"""
)

INSERT_NEEDS = (
    """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
CREATE (n:Need)
SET n = r"""
    + DERIVE_NEED_KEYS
    + """CREATE (h)-[:HAS_NEED]->(n)
WITH n, r
OPTIONAL MATCH (helper:Helper {id: r.claimed_by})
FOREACH (_ IN CASE WHEN helper IS NULL THEN [] ELSE [1] END | CREATE (helper)-[:CLAIMED]->(n))
RETURN count(*) AS written
"""
)

GET_NEED = "MATCH (n:Need {id: $id}) RETURN n {.*} AS n"

IN_REGION = """
MATCH (n:Need) WHERE n.village_code STARTS WITH $region_code
  AND ($status IS NULL OR n.status = $status)
RETURN n {.*} AS n ORDER BY n.id SKIP $skip LIMIT $limit
"""


# --- lifecycle under a lock -------------------------------------------------------------------
# A need changes only inside one write transaction that first takes a write lock (the SET
# below), then reads the need's latest committed state, lets a pure decider choose the change,
# and writes it. Concurrent claims on one need therefore run one after another and each sees
# what the previous one committed: exactly one wins.
#
# The lock is taken on the need's household, not on the need: Neo4j 5 deadlocks a transaction
# that holds a node's exclusive lock and then creates a relationship on that node while others
# queue for the same lock (measured: 36 of 40 concurrent transactions failed). Claims create
# relationships on the need (CLAIMED, EVENT_OF) and on the helper, never on the household or on
# the helper's lock node. Lock order is always household, then helper lock.

LOCK_NEED_IN_SCOPE = """
MATCH (h:Household)-[:HAS_NEED]->(n:Need {id: $id})
WHERE any(prefix IN $prefixes WHERE n.village_code STARTS WITH prefix)
SET h.lock_version = coalesce(h.lock_version, 0) + 1
RETURN n.id AS id
"""

READ_NEED_STATE = """
MATCH (n:Need {id: $id})
OPTIONAL MATCH (pledger:Helper)-[p:PLEDGED]->(n)
WITH n, collect(CASE WHEN p IS NULL THEN null
                ELSE {helper_id: pledger.id, amount: p.amount, at: p.at} END) AS pledges
OPTIONAL MATCH (t:TransferRequest)-[:TRANSFER_OF]->(n)
RETURN n {.*} AS n, pledges, collect(t {.*}) AS transfers
"""

# One lock node per helper serialises its claims (capacity checks read a count that must not
# change underneath them); it never gets relationships, see above.
LOCK_HELPER = """
MATCH (h:Helper {id: $helper_id})
MERGE (lock:HelperLock {helper_id: h.id})
SET lock.lock_version = coalesce(lock.lock_version, 0) + 1
WITH h
OPTIONAL MATCH (h)-[:CLAIMED]->(held:Need)
WHERE held.status IN ['claimed', 'in_progress']
RETURN h {.*} AS h, count(held) AS open_claims
"""

READ_IDEMPOTENCY = """
MATCH (r:IdempotencyRecord {key: $key})
RETURN r.request_hash AS request_hash, r.response AS response
"""

SAVE_IDEMPOTENCY = """
CREATE (:IdempotencyRecord {key: $key, request_hash: $request_hash, response: $response, at: $at})
"""

SET_STATUS = "MATCH (n:Need {id: $id}) SET n.status = $status, n.updated_at = $at"

SET_HOLDER = """
MATCH (n:Need {id: $id})
OPTIONAL MATCH (:Helper)-[old:CLAIMED]->(n)
DELETE old
WITH DISTINCT n
MATCH (h:Helper {id: $helper_id})
SET n.claimed_by = h.id, n.claimed_at = $at, n.last_progress_at = $at
MERGE (h)-[c:CLAIMED]->(n)
SET c.at = $at
"""

CLEAR_HOLDER = """
MATCH (n:Need {id: $id})
OPTIONAL MATCH (:Helper)-[old:CLAIMED]->(n)
DELETE old
WITH DISTINCT n
SET n.claimed_by = null, n.claimed_at = null
"""

ADD_PLEDGE = """
MATCH (n:Need {id: $id}), (h:Helper {id: $helper_id})
CREATE (h)-[:PLEDGED {amount: $amount, at: $at}]->(n)
"""

CLEAR_PLEDGES = "MATCH (:Helper)-[p:PLEDGED]->(:Need {id: $id}) DELETE p"

MARK_PROGRESS = "MATCH (n:Need {id: $id}) SET n.last_progress_at = $at"

ADD_TRANSFER = """
MATCH (n:Need {id: $id})
CREATE (t:TransferRequest)-[:TRANSFER_OF]->(n)
SET t = $props
"""

RESOLVE_TRANSFER = """
MATCH (t:TransferRequest {id: $transfer_id})-[:TRANSFER_OF]->(:Need {id: $id})
SET t.status = $status, t.resolved_at = $at
"""

ADD_EVENT = """
MATCH (n:Need {id: $id})
CREATE (e:NeedEvent)-[:EVENT_OF]->(n)
SET e = $props
"""

COUNT_HELPER_OUTCOME = """
MATCH (h:Helper {id: $helper_id})
SET h.claims_total = coalesce(h.claims_total, 0) + $claimed,
    h.claims_completed = coalesce(h.claims_completed, 0) + $completed,
    h.claims_released = coalesce(h.claims_released, 0) + $released
"""

HISTORY = """
MATCH (e:NeedEvent)-[:EVENT_OF]->(:Need {id: $id})
RETURN e {.*} AS e ORDER BY e.at, e.id
"""

CREATE_NEED = (
    """
MATCH (h:Household {id: $household_id})
WHERE any(prefix IN $prefixes WHERE h.village_code STARTS WITH prefix)
CREATE (n:Need)
SET n = $props, n.village_code = h.village_code"""
    + DERIVE_NEED_KEYS
    + """CREATE (h)-[:HAS_NEED]->(n)
RETURN n {.*} AS n
"""
)

GET_IN_SCOPE = """
MATCH (n:Need {id: $id})
WHERE any(prefix IN $prefixes WHERE n.village_code STARTS WITH prefix)
OPTIONAL MATCH (pledger:Helper)-[p:PLEDGED]->(n)
RETURN n {.*} AS n, coalesce(sum(p.amount), 0.0) AS pledged_total
"""

# Browsing has four shapes, chosen by the caller's scope and the query (measured on the
# province, 390k needs, 229k open, 2 cores; PROFILE figures). A holder's own needs start from
# the holder (below); otherwise:
# - market (one status, every scope a whole county, city or province of one level, or
#   everything): for each scope read the composite index led by status, scope code (and
#   category) that hands rows over in page order (graph/schema.py, MARKET_SORTS) and stop after
#   skip + limit rows, then merge the scopes' windows. A city's first page reads 22 index
#   entries. The hint is needed: with one province the planner rates province_code useless and
#   picks the status index (228,568 rows read);
# - narrow (every scope a county or below, but not one level: towns, villages, a mix): seek each
#   scope in the village_code index, filter, sort what is left (a town: <= ~500 open needs);
# - wide (anything else: several statuses, levels above a county mixed): walk the index of the
#   first sort key in order and filter as rows pass. This was the market's shape before: a
#   city-wide page read ~30,000 entries (~145 ms of CPU), fine for officials' occasional lists.
# Sorting by a key lists needs that have it (sorting by amount lists needs with an amount): a
# composite index holds only nodes with every key, and every shape says the same.
# Filters switched off by null parameters keep each shape one cached plan.
_OTHER_FILTERS = """
  AND ($urgency IS NULL OR n.urgency = $urgency)
  AND ($text IS NULL OR n.title CONTAINS $text OR n.text CONTAINS $text)
  AND ($holder_id IS NULL OR n.claimed_by = $holder_id)
"""

_FILTERS = (
    """
  AND n.status IN $statuses
  AND ($category IS NULL OR n.category = $category)"""
    + _OTHER_FILTERS
)

# A subquery per row keeps the page's order (an aggregation over the page need not). A page
# carries the Need model's fields only, not the bookkeeping a node also holds (locks, counters).
_PAGE_TAIL = """
CALL {
  WITH n
  OPTIONAL MATCH (:Helper)-[p:PLEDGED]->(n)
  RETURN coalesce(sum(p.amount), 0.0) AS pledged_total
}
MATCH (v:Region {code: n.village_code})
RETURN n {__NEED_FIELDS__} AS n, pledged_total, v.name AS village_name
""".replace("__NEED_FIELDS__", ", ".join(f".{field}" for field in Need.model_fields))

BROWSE_NARROW = (
    """
UNWIND $prefixes AS prefix
MATCH (n:Need) WHERE n.village_code STARTS WITH prefix AND __PRESENT__"""
    + _FILTERS
    + """
WITH DISTINCT n ORDER BY __ORDER__ SKIP $skip LIMIT $limit"""
    + _PAGE_TAIL
)

COUNT_NARROW = (
    """
UNWIND $prefixes AS prefix
MATCH (n:Need) WHERE n.village_code STARTS WITH prefix AND __PRESENT__"""
    + _FILTERS
    + """
RETURN count(DISTINCT n) AS total
"""
)

BROWSE_WIDE = (
    """
MATCH (n:Need) USING INDEX n:Need(__FIRST_KEY__)
WHERE __PRESENT__
  AND any(prefix IN $prefixes WHERE n.village_code STARTS WITH prefix)"""
    + _FILTERS
    + """
WITH n ORDER BY __ORDER__ SKIP $skip LIMIT $limit"""
    + _PAGE_TAIL
)

# Per scope, the needs of one status (and category) from the composite index.
_MARKET_MATCH = (
    """
__SCOPES__
CALL {
  WITH scope
  MATCH (n:Need) USING INDEX n:Need(__INDEX_KEYS__)
  WHERE n.status = $status AND n.__SCOPE_KEY__ = scope__CATEGORY__ AND __PRESENT__"""
    + _OTHER_FILTERS
)

BROWSE_MARKET = (
    _MARKET_MATCH
    + """
  WITH n ORDER BY __INDEX_ORDER__ LIMIT $window
  RETURN n
}
WITH n ORDER BY __ORDER__ SKIP $skip LIMIT $limit"""
    + _PAGE_TAIL
)
# A holder's needs start from its CLAIMED relationships (a helper holds at most its capacity,
# hundreds), not from a walk of every need in its regions: a city-wide helper's "my claims"
# page took 80-170 ms walking the created_at index, longer the fewer needs it holds.
_HOLDER_MATCH = """
MATCH (:Helper {id: $holder_id})-[:CLAIMED]->(n:Need)
WHERE any(prefix IN $prefixes WHERE n.village_code STARTS WITH prefix) AND __PRESENT__"""

BROWSE_HOLDER = (
    _HOLDER_MATCH
    + _FILTERS
    + """
WITH n ORDER BY __ORDER__ SKIP $skip LIMIT $limit"""
    + _PAGE_TAIL
)

COUNT_HOLDER = _HOLDER_MATCH + _FILTERS + "RETURN count(n) AS total\n"

COUNT_MARKET = (
    _MARKET_MATCH
    + """
  RETURN count(n) AS counted
}
RETURN sum(counted) AS total
"""
)
MARKET_LISTED_SCOPES = "UNWIND $prefixes AS scope"
# Everything: each province is a scope (one here; the query finds them, so no round trip).
MARKET_EVERY_PROVINCE = "MATCH (r:Region {level: 'province'}) WITH r.code AS scope"

# Scopes this long or longer are a county or below: their pages say how many needs match
# (counting a county's ≤ ~8,000 open needs from the index costs a few ms; counting a city's
# 30,000 through filters per page was what made city-wide pages slow).
COUNTED_PREFIX_LENGTH = 6
PROVINCE_CODE_LENGTH = 2
EVERYTHING = ""  # the prefix of every code: admins' scope


@dataclass(frozen=True)
class BrowsePlan:
    shape: Literal["holder", "narrow", "market", "wide"]
    page: str
    count: str | None  # None: the page says whether more follow, not how many

    @property
    def counted_page(self) -> str:
        """The page and its total in one query (one round trip, not two: a county-wide page
        spent a quarter of its API time on the second): one row, the total and the page's rows
        in order, [] past the last page."""
        if self.count is None:
            raise ValueError("an uncounted plan has no total")
        return (
            f"CALL {{{self.count}}}\nOPTIONAL CALL {{{self.page}}}\n"
            "RETURN total, collect(CASE WHEN n IS NULL THEN null ELSE "
            "{n: n, pledged_total: pledged_total, village_name: village_name} END) AS rows\n"
        )


def _order(keys: Sequence[str], direction: str) -> str:
    return ", ".join(f"n.{key} {direction}" for key in keys)


def _present(keys: Sequence[str]) -> str:
    return " AND ".join(f"n.{key} IS NOT NULL" for key in keys)


def browse_scopes(prefixes: Sequence[str], region_code: str | None) -> list[str]:
    """The caller's prefixes without overlaps, narrowed to a region filter: a region inside a
    prefix becomes the one scope, prefixes inside the region stay, the rest drop out."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes), key=len):
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    if region_code is None:
        return kept
    if any(region_code.startswith(k) for k in kept):
        return [region_code]
    return [k for k in kept if k.startswith(region_code)]


def _market_scope(query: NeedQuery, scopes: Sequence[str]) -> tuple[str, str] | None:
    """(scope key, head of the query) when the market indexes can serve the query: one status
    and every scope a whole county, city or province of one level, or everything."""
    lengths = {len(s) for s in scopes}
    if len(query.statuses) != 1 or len(lengths) != 1:
        return None
    if list(scopes) == [EVERYTHING]:
        return MARKET_SCOPE_KEYS[PROVINCE_CODE_LENGTH], MARKET_EVERY_PROVINCE
    scope_key = MARKET_SCOPE_KEYS.get(len(scopes[0]))
    return None if scope_key is None else (scope_key, MARKET_LISTED_SCOPES)


def browse_plan(query: NeedQuery, scopes: Sequence[str]) -> BrowsePlan:
    """The queries for a page and its total. Keys and directions come from MARKET_SORTS and
    scope keys from MARKET_SCOPE_KEYS, never from the client: ORDER BY and index hints cannot be
    parameters, so this is the one builder of the module."""
    keys, direction = MARKET_SORTS[query.sort]
    order = _order((*keys, "id"), direction)
    present = _present(keys)
    if query.holder_id is not None:
        return BrowsePlan(
            "holder",
            BROWSE_HOLDER.replace("__PRESENT__", present).replace("__ORDER__", order),
            COUNT_HOLDER.replace("__PRESENT__", present),
        )
    counted = min(len(s) for s in scopes) >= COUNTED_PREFIX_LENGTH
    market = _market_scope(query, scopes)
    if market is not None:
        scope_key, head = market
        by_category = query.category is not None
        index_keys = market_index_keys(scope_key, by_category, query.sort)

        def fill(template: str) -> str:
            return (
                template.replace("__SCOPES__", head)
                .replace("__SCOPE_KEY__", scope_key)
                .replace("__CATEGORY__", " AND n.category = $category" if by_category else "")
                .replace("__PRESENT__", _present((*keys, "id")))
                .replace("__INDEX_KEYS__", ", ".join(index_keys))
                .replace("__INDEX_ORDER__", _order(index_keys, direction))
                .replace("__ORDER__", order)
            )

        return BrowsePlan("market", fill(BROWSE_MARKET), fill(COUNT_MARKET) if counted else None)
    if counted:
        return BrowsePlan(
            "narrow",
            BROWSE_NARROW.replace("__PRESENT__", present).replace("__ORDER__", order),
            COUNT_NARROW.replace("__PRESENT__", present),
        )
    wide = BROWSE_WIDE.replace("__FIRST_KEY__", keys[0]).replace("__PRESENT__", present)
    return BrowsePlan("wide", wide.replace("__ORDER__", order), None)


STALE_CLAIMS = """
MATCH (n:Need)
WHERE n.status IN ['claimed', 'in_progress'] AND n.last_progress_at < $before
RETURN n.id AS id ORDER BY id LIMIT $limit
"""

DUE_TRANSFERS = """
MATCH (t:TransferRequest {status: 'pending'})-[:TRANSFER_OF]->(n:Need)
WHERE t.requested_at < $before
RETURN n.id AS need_id, t.id AS transfer_id ORDER BY t.requested_at LIMIT $limit
"""

# A need's transfer requests, newest first; a helper may ask again after an answer, so the
# list grows by one per request: the newest 100 are plenty.
TRANSFERS_OF_NEED = """
MATCH (t:TransferRequest)-[:TRANSFER_OF]->(:Need {id: $id})
OPTIONAL MATCH (giver:Helper {id: t.from_helper_id})
OPTIONAL MATCH (taker:Helper {id: t.to_helper_id})
RETURN t {.*, from_helper_name: giver.name, to_helper_name: taker.name} AS t
ORDER BY t.requested_at DESC, t.id LIMIT 100
"""

# Needs a helper holds that another helper has asked for and it has not answered yet.
TRANSFERS_AWAITING_HOLDER = """
MATCH (t:TransferRequest {status: 'pending', from_helper_id: $helper_id})-[:TRANSFER_OF]->(n:Need)
WHERE n.claimed_by = $helper_id
RETURN DISTINCT n.id AS id
"""

HOUSEHOLD_LEDGER = """
MATCH (h:Household {id: $household_id})
WHERE any(prefix IN $prefixes WHERE h.village_code STARTS WITH prefix)
CALL {
  WITH h
  MATCH (h)-[:HAS_NEED]->(n:Need)<-[:EVENT_OF]-(e:NeedEvent)
  WHERE e.action IN ['fulfil', 'pledge', 'confirm']
  OPTIONAL MATCH (helper:Helper {id: e.helper_id})
  RETURN 'need' AS source, n.id AS ref, n.category AS category, n.title AS title,
         e.action AS step, e.amount AS amount, e.at AS at, helper.id AS helper_id,
         helper.name AS helper_name, helper.kind AS helper_kind
  UNION ALL
  WITH h
  MATCH (p:Project)-[:BENEFITS]->(h)
  RETURN 'project' AS source, p.id AS ref, p.type AS category, p.name AS title,
         p.stage AS step, null AS amount, datetime({date: p.start_date}) AS at,
         null AS helper_id, p.managing_body AS helper_name, 'project' AS helper_kind
  UNION ALL
  WITH h
  MATCH (h)-[:HAS_NEED]->(n:Need)<-[:CLAIMED]-(helper:Helper)
  WHERE n.status IN ['fulfilled', 'confirmed', 'closed']
    AND NOT EXISTS { MATCH (n)<-[:EVENT_OF]-(:NeedEvent {action: 'fulfil'}) }
  RETURN 'need' AS source, n.id AS ref, n.category AS category, n.title AS title,
         n.status AS step, n.amount AS amount, datetime({date: n.fulfilled_at}) AS at,
         helper.id AS helper_id, helper.name AS helper_name, helper.kind AS helper_kind
}
RETURN source, ref, category, title, step, amount, at, helper_id, helper_name, helper_kind
ORDER BY at DESC, ref
"""


def need_row(need: Need) -> dict[str, Any]:
    row: dict[str, Any] = need.model_dump(exclude_none=False)
    for key in ("category", "kind", "urgency", "status"):
        row[key] = getattr(need, key).value
    return row


_NEED_FIELDS = frozenset(Need.model_fields)


def need_from_row(row: dict[str, Any]) -> Need:
    # Nodes also carry bookkeeping (lock_version, last_progress_at ...): keep the model's fields.
    fields = {k: v for k, v in row.items() if k in _NEED_FIELDS}
    for key in ("created_at", "fulfilled_at"):
        if fields.get(key) is not None:
            fields[key] = fields[key].to_native()
    return Need.model_validate(fields)


class NeedRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def save_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None, fresh: bool = False
    ) -> None:
        query = INSERT_NEEDS if fresh else SAVE_NEEDS
        self.graph.write_counted(query, len(rows), "needs", rows=list(rows), timeout_s=timeout_s)

    def save(self, need: Need) -> None:
        self.save_rows([need_row(need)])

    def get(self, need_id: str) -> Need:
        row = self.graph.read_one(GET_NEED, id=need_id)
        if row is None:
            raise NotFoundError(f"need {need_id} not found", message_zh="未找到该需求")
        return need_from_row(row["n"])

    def in_region(
        self, region_code: str, status: str | None = None, skip: int = 0, limit: int = 50
    ) -> list[Need]:
        rows = self.graph.read(
            IN_REGION, region_code=region_code, status=status, skip=skip, limit=limit
        )
        return [need_from_row(r["n"]) for r in rows]

    # --- lifecycle -----------------------------------------------------------------------------

    def create_for_household(
        self, household_id: str, props: dict[str, Any], prefixes: Sequence[str]
    ) -> Need:
        """Create a need for a household inside the caller's region; NotFound outside it."""
        rows = self.graph.write(
            CREATE_NEED, household_id=household_id, props=props, prefixes=list(prefixes)
        )
        if not rows:
            raise NotFoundError(f"household {household_id} not found", message_zh="未找到该户")
        return need_from_row(rows[0]["n"])

    def get_in_scope(self, need_id: str, prefixes: Sequence[str]) -> tuple[Need, float]:
        """A need and its pledged total, if its village lies under one of the prefixes."""
        row = self.graph.read_one(GET_IN_SCOPE, id=need_id, prefixes=list(prefixes))
        if row is None:
            raise NotFoundError(f"need {need_id} not found", message_zh="未找到该需求")
        return need_from_row(row["n"]), float(row["pledged_total"])

    def browse(self, query: NeedQuery, prefixes: Sequence[str]) -> NeedPage:
        """One page of needs under the prefixes. The total is counted for narrow scopes only;
        wider ones report whether more pages follow (counting 30k rows per page is what made
        city-wide browsing slow)."""
        scopes = browse_scopes(prefixes, query.region_code)
        if not scopes:
            return NeedPage(items=[], total=0, has_more=False)
        plan = browse_plan(query, scopes)
        params: dict[str, Any] = {
            "statuses": [s.value for s in query.statuses],
            "status": query.statuses[0].value if query.statuses else None,
            "prefixes": scopes,
            "category": query.category,
            "urgency": query.urgency,
            "text": query.text,
            "holder_id": query.holder_id,
        }
        # One row more than the page says whether another page follows.
        limit = query.limit + 1
        paging = {"skip": query.skip, "limit": limit, "window": query.skip + limit}
        total: int | None = None
        if plan.count is None:
            rows = self.graph.read(plan.page, **paging, **params)
        else:
            counted = self.graph.read(plan.counted_page, **paging, **params)
            total, rows = int(counted[0]["total"]), counted[0]["rows"]
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        items = [
            BrowsedNeed(
                need=need_from_row(r["n"]),
                pledged_total=float(r["pledged_total"]),
                village_name=r["village_name"],
            )
            for r in rows
        ]
        return NeedPage(items=items, total=total, has_more=has_more)

    def history(self, need_id: str) -> list[NeedEvent]:
        rows = self.graph.read(HISTORY, id=need_id)
        return [NeedEvent.model_validate(_native(r["e"])) for r in rows]

    def stale_claims(self, before: datetime, limit: int = 1000) -> list[str]:
        return [r["id"] for r in self.graph.read(STALE_CLAIMS, before=before, limit=limit)]

    def due_transfers(self, before: datetime, limit: int = 1000) -> list[tuple[str, str]]:
        rows = self.graph.read(DUE_TRANSFERS, before=before, limit=limit)
        return [(r["need_id"], r["transfer_id"]) for r in rows]

    def transfers_of(self, need_id: str) -> list[TransferListing]:
        """The need's transfer requests, newest first (TRANSFERS_OF_NEED); callers check scope."""
        rows = self.graph.read(TRANSFERS_OF_NEED, id=need_id)
        return [TransferListing.model_validate(_native(r["t"])) for r in rows]

    def awaiting_transfer_answer(self, helper_id: str) -> set[str]:
        """Ids of needs the helper holds with a transfer request it has not answered."""
        rows = self.graph.read(TRANSFERS_AWAITING_HOLDER, helper_id=helper_id)
        return {str(r["id"]) for r in rows}

    def household_ledger(self, household_id: str, prefixes: Sequence[str]) -> list[LedgerEntry]:
        rows = self.graph.read(HOUSEHOLD_LEDGER, household_id=household_id, prefixes=list(prefixes))
        return [LedgerEntry.model_validate(_native(r)) for r in rows]

    def change(
        self,
        need_id: str,
        prefixes: Sequence[str],
        decide: Decider,
        helper_id: str | None = None,
        idempotency: IdempotencyKey | None = None,
        audit: Callable[[NeedState, NeedChange], AuditEntry] | None = None,
    ) -> dict[str, Any]:
        """Lock the need (and the acting helper), read its latest state, let `decide` choose the
        change, write it; all in one transaction. Returns the decider's response, or the stored
        one when the idempotency key was seen before."""

        def work(tx: ManagedTransaction) -> dict[str, Any]:
            if tx.run(LOCK_NEED_IN_SCOPE, id=need_id, prefixes=list(prefixes)).single() is None:
                raise NotFoundError(f"need {need_id} not found", message_zh="未找到该需求")
            if idempotency is not None:
                seen = tx.run(READ_IDEMPOTENCY, key=idempotency.key).single()
                if seen is not None:
                    if seen["request_hash"] != idempotency.request_hash:
                        raise ConflictError(
                            "this Idempotency-Key was already used for a different request",
                            message_zh="该幂等键已用于另一个请求",
                        )
                    return dict(json.loads(seen["response"]))
            state = _read_state(tx, need_id)
            load = None
            if helper_id is not None:
                helper_row = tx.run(LOCK_HELPER, helper_id=helper_id).single()
                if helper_row is None:
                    raise NotFoundError(
                        f"helper {helper_id} not found", message_zh="未找到帮扶主体"
                    )
                load = HelperLoad(
                    helper=helper_from_row(helper_row["h"]),
                    open_claims=int(helper_row["open_claims"]),
                    claims_total=int(helper_row["h"].get("claims_total") or 0),
                    claims_completed=int(helper_row["h"].get("claims_completed") or 0),
                    claims_released=int(helper_row["h"].get("claims_released") or 0),
                )
            change = decide(state, load)
            _apply(tx, need_id, change)
            if audit is not None:
                # Last: the audit chain lock is global, so it is held only until the commit.
                append_in_transaction(tx, audit(state, change))
            if idempotency is not None:
                tx.run(
                    SAVE_IDEMPOTENCY,
                    key=idempotency.key,
                    request_hash=idempotency.request_hash,
                    response=json.dumps(change.response, default=str),
                    at=change.event.at,
                ).consume()
            return change.response

        return self.graph.run_write(work)


def _native(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.to_native() if hasattr(v, "to_native") else v) for k, v in row.items()}


def _read_state(tx: ManagedTransaction, need_id: str) -> NeedState:
    row = tx.run(READ_NEED_STATE, id=need_id).single()
    assert row is not None  # the lock statement just matched it
    n = dict(row["n"])
    last = n.get("last_progress_at")
    pledges = tuple(Pledge.model_validate(_native(p)) for p in row["pledges"] if p)
    transfers = tuple(TransferRequest.model_validate(_native(t)) for t in row["transfers"])
    return NeedState(
        need=need_from_row(n),
        pledges=pledges,
        transfers=transfers,
        last_progress_at=last.to_native() if last is not None else None,
    )


def _apply(tx: ManagedTransaction, need_id: str, change: NeedChange) -> None:
    at = change.event.at
    if change.clear_pledges:
        tx.run(CLEAR_PLEDGES, id=need_id).consume()
    for kept in change.readd_pledges:
        tx.run(
            ADD_PLEDGE, id=need_id, helper_id=kept.helper_id, amount=kept.amount, at=kept.at
        ).consume()
    if change.add_pledge is not None:
        tx.run(
            ADD_PLEDGE,
            id=need_id,
            helper_id=change.add_pledge.helper_id,
            amount=change.add_pledge.amount,
            at=change.add_pledge.at,
        ).consume()
    if change.clear_holder:
        tx.run(CLEAR_HOLDER, id=need_id).consume()
    if change.holder_id is not None:
        tx.run(SET_HOLDER, id=need_id, helper_id=change.holder_id, at=at).consume()
    if change.status is not None:
        tx.run(SET_STATUS, id=need_id, status=change.status.value, at=at).consume()
    if change.progress:
        tx.run(MARK_PROGRESS, id=need_id, at=at).consume()
    if change.add_transfer is not None:
        props = change.add_transfer.model_dump()
        tx.run(ADD_TRANSFER, id=need_id, props=props).consume()
    if change.resolve_transfer is not None:
        transfer_id, status = change.resolve_transfer
        tx.run(
            RESOLVE_TRANSFER, id=need_id, transfer_id=transfer_id, status=status, at=at
        ).consume()
    for helper_id, claimed, completed, released in change.helper_outcomes:
        tx.run(
            COUNT_HELPER_OUTCOME,
            helper_id=helper_id,
            claimed=claimed,
            completed=completed,
            released=released,
        ).consume()
    props = change.event.model_dump(mode="json", exclude_none=True)
    props["at"] = change.event.at
    tx.run(ADD_EVENT, id=need_id, props=props).consume()
