"""Risk of falling back into poverty: households' yearly panels, what features are read from,
risk scores and alerts, and the alerts' review steps.

Panels are stored on the household, one property per year: `panel_2024` holds the values of
PANEL_FIELDS for 2024 as comma-separated numbers. Not a node per year: 664,000 households x 6
years would be 4M more nodes and relationships, which measured 4x the time of setting properties
on the households (county: 7.7 s against 1.9 s for 41,100 household-years). Not a float list:
scoring reads every household's panel, and serialising 16 floats per year (Cypher) and
hydrating them (driver) measured 2.5x the time of one string (0.9 s against 0.36 s per 3,400
households); Cypher still reads a year with split(). A year is written whole, so its rows may
arrive in any batch and loading twice changes nothing.

Alerts are (:RiskAlert {id})-[:ALERT_FOR]->(:Household), one per household and period (id
"RA-<household>-<period>"), merged on the id so re-running a night's scoring adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
from neo4j import ManagedTransaction

from bangfu.errors import InvalidInputError, NotFoundError
from bangfu.vocabulary import LabourAbility, Schooling
from graph.client import GraphClient
from graph.models import (
    CAUSE_CODES,
    EMPLOYMENT_CODES,
    HEALTH_CODES,
    LABOUR_CODES,
    PANEL_FIELDS,
    AlertChange,
    AlertDraft,
    AlertPage,
    AlertQuery,
    AlertState,
    AuditEntry,
    IncomeCheck,
    RiskAlert,
    RiskColumns,
)
from graph.repositories.audit import append_in_transaction
from graph.repositories.needs import CREATE_NEED

PANEL_PREFIX = "panel_"
_NO_LABOUR = LABOUR_CODES[LabourAbility.NONE.value]

SAVE_PANELS = """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
SET h += r.props
RETURN count(*) AS written
"""

# Everything the features of a household read, for whole villages at a time, as few and as
# simple values as possible: one string each for its panel ("2024:v1,v2,...;" per year), its
# members ("1956|chronic|0|weak|none|farming;" each, head first) and its needs. The driver
# hydrates every list element on its own, so a household's 6 years, ~3 members and their fields
# as separate values cost the scoring run more than the model does; parsed in bulk in _columns.
PANEL_ROWS = """
UNWIND $villages AS code
MATCH (h:Household {village_code: code})
WITH h ORDER BY h.village_code, h.id
RETURN h.id AS id, h.village_code AS village_code, h.status AS status,
       h.main_cause AS main_cause, size(coalesce(h.other_causes, [])) AS other_causes,
       h.size AS size, h.housing_safe AS housing_safe, h.water_safe AS water_safe,
       reduce(s = '', k IN keys(h) |
              CASE WHEN k STARTS WITH 'panel_' THEN s + substring(k, 6) + ':' + h[k] + ';'
                   ELSE s END) AS panel,
       reduce(s = '', m IN COLLECT {
         MATCH (p:Person)-[:MEMBER_OF]->(h)
         WITH p ORDER BY p.relation <> 'head', p.id
         RETURN toString(p.birth_date.year) + '|' + p.health + '|'
                + toString(p.disability_grade) + '|' + p.labour_ability + '|'
                + p.schooling + '|' + p.employment
       } | s + m + ';') AS members,
       reduce(s = '', n IN COLLECT {
         MATCH (h)-[:HAS_NEED]->(n:Need)
         RETURN toString(n.created_at.year) + '|' + toString(coalesce(n.fulfilled_at.year, 0))
                + '|' + coalesce(n.claimed_by, '')
       } | s + n + ';') AS needs,
       COUNT { (:Helper)-[:PAIRED_WITH]->(h) } AS paired_helpers,
       COLLECT {
         MATCH (c:Cadre)-[:PAIRED_WITH]->(h)
         RETURN COUNT { (c)-[:PAIRED_WITH]->(:Household) }
       } AS cadre_loads
"""

VILLAGE_HOUSEHOLDS = """
MATCH (h:Household) WHERE h.village_code STARTS WITH $prefix
RETURN h.village_code AS code, count(*) AS households ORDER BY code
"""

# A village is marked when its chunk is scored; villages whose mark is missing or older are what
# a run has left (a chunk that failed), to enqueue again.
UNSCORED_VILLAGES = """
MATCH (h:Household) WHERE h.village_code STARTS WITH $prefix
WITH h.village_code AS code, count(*) AS households
MATCH (v:Region {code: code})
WHERE v.risk_period IS NULL OR v.risk_period <> $period
RETURN code, households ORDER BY code
"""

MARK_VILLAGES_SCORED = """
UNWIND $villages AS code
MATCH (v:Region {code: code})
SET v.risk_period = $period, v.risk_model_version = $version, v.risk_scored_at = $at,
    v.risk_households = $households
"""

COUNT_TOWNS = """
MATCH (t:Region {level: 'town'}) WHERE t.code STARTS WITH $prefix RETURN count(t) AS towns
"""

# A new alert starts its 2-day acceptance clock; a re-scored one keeps its own state and only
# records the latest score.
UPSERT_ALERTS = """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
MERGE (a:RiskAlert {id: r.id})
ON CREATE SET a += r.props, a.status = 'new', a.created_at = $at, a.due_at = $due,
              a.latest_score = r.props.score
ON MATCH SET a.latest_score = r.props.score, a.rescored_at = $at
MERGE (a)-[:ALERT_FOR]->(h)
RETURN count(*) AS written
"""

_ALERT_FILTERS = """
WHERE any(prefix IN $prefixes WHERE a.village_code STARTS WITH prefix)
  AND (size($statuses) = 0 OR a.status IN $statuses)
  AND ($region_code IS NULL OR a.village_code STARTS WITH $region_code)
  AND ($reason IS NULL OR $reason IN a.reasons)
  AND ($overdue_at IS NULL OR (a.due_at < $overdue_at AND a.status IN $open_statuses))
  AND ($min_score IS NULL OR a.score >= $min_score)
"""

LIST_ALERTS = (
    "MATCH (a:RiskAlert)"
    + _ALERT_FILTERS
    + "RETURN a {.*} AS a ORDER BY __ORDER_BY__ SKIP $skip LIMIT $limit"
)
COUNT_ALERTS = "MATCH (a:RiskAlert)" + _ALERT_FILTERS + "RETURN count(a) AS total"

# Sort keys a client may choose, mapped to fixed ORDER BY clauses (the order cannot be a
# parameter in Cypher, so the client picks a key, never the text).
ALERT_ORDER = {
    "score": "a.score DESC, a.id",
    "newest": "a.created_at DESC, a.id",
    "oldest": "a.created_at, a.id",
    "due": "a.due_at, a.id",
}

GET_ALERT_IN_SCOPE = """
MATCH (a:RiskAlert {id: $id})
WHERE any(prefix IN $prefixes WHERE a.village_code STARTS WITH prefix)
RETURN a {.*} AS a
"""

ALERTS_OF_HOUSEHOLD = """
MATCH (a:RiskAlert)-[:ALERT_FOR]->(:Household {id: $household_id})
RETURN a {.*} AS a ORDER BY a.period
"""

# The lock is taken on the alert itself (a write lock via SET) before its state is read, so two
# officials acting on one alert at once run one after the other and the second sees the first.
LOCK_ALERT_IN_SCOPE = """
MATCH (a:RiskAlert {id: $id})
WHERE any(prefix IN $prefixes WHERE a.village_code STARTS WITH prefix)
SET a.lock_version = coalesce(a.lock_version, 0) + 1
RETURN a.id AS id
"""

READ_ALERT_STATE = """
MATCH (a:RiskAlert {id: $id})-[:ALERT_FOR]->(h:Household)
OPTIONAL MATCH (v:Region {code: h.village_code})
RETURN a {.*} AS a, h.status AS household_status, h.size AS household_size,
       h.housing_safe AS housing_safe, h.water_safe AS water_safe, v.name AS village_name,
       EXISTS {
         MATCH (p:Person)-[:MEMBER_OF]->(h)
         WHERE p.labour_ability IN ['normal', 'skilled', 'weak']
           AND date($today).year - p.birth_date.year >= 16
           AND date($today).year - p.birth_date.year <= 64
       } AS labour_capable,
       COLLECT {
         MATCH (p:Person {relation: 'head'})-[:MEMBER_OF]->(h) RETURN p.name
       }[0] AS head_name
"""

SET_ALERT = "MATCH (a:RiskAlert {id: $id}) SET a += $props"

SET_HOUSEHOLD = "MATCH (h:Household {id: $id}) SET h += $props"

LINK_HELPER = """
MATCH (u:Helper {id: $helper_id}), (h:Household {id: $household_id})
MERGE (u)-[:PAIRED_WITH]->(h)
RETURN u.id AS id
"""

_ALERT_FIELDS = frozenset(RiskAlert.model_fields)


def alert_id(household_id: str, period: str) -> str:
    return f"RA-{household_id}-{period}"


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def alert_from_row(row: dict[str, Any]) -> RiskAlert:
    fields = {k: _native(v) for k, v in row.items() if k in _ALERT_FIELDS}
    dates = row.get("check_dates") or []
    incomes = row.get("check_incomes") or []
    fields["income_checks"] = tuple(
        IncomeCheck(checked_on=_native(d), per_capita_income=float(i))
        for d, i in zip(dates, incomes, strict=True)
    )
    for key in ("reasons", "factors_zh", "factors_en"):
        fields[key] = tuple(row.get(key) or ())
    return RiskAlert.model_validate(fields)


def _split_records(texts: Sequence[str], fields: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-household strings of ";"-terminated records with "|"-separated fields, parsed in
    bulk: (household index per record, records x fields array of str)."""
    counts = np.fromiter((t.count(";") for t in texts), dtype=np.int64, count=len(texts))
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
    joined = "".join(texts)
    if not joined:
        return owner, np.empty((0, fields), dtype=object)
    cells = joined[:-1].replace(";", "|").split("|")
    return owner, np.array(cells, dtype=object).reshape(-1, fields)


def _coded(values: np.ndarray, codes: dict[str, int], default: int) -> np.ndarray:
    """Vocabulary strings to codes, one dictionary lookup per distinct value."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    distinct, inverse = np.unique(values.astype(str), return_inverse=True)
    table = np.array([codes.get(v, default) for v in distinct], dtype=np.int64)
    out: np.ndarray = table[inverse]
    return out


def _columns(rows: Sequence[dict[str, Any]]) -> RiskColumns:
    n_h = len(rows)
    # Panel: "2024:v1,...,v16;" per year.
    texts = [r["panel"] for r in rows]
    counts = np.fromiter((t.count(";") for t in texts), dtype=np.int64, count=n_h)
    owner = np.repeat(np.arange(n_h, dtype=np.int64), counts)
    entries = "".join(texts).split(";")[:-1]
    year_of = np.array([int(e[:4]) for e in entries], dtype=np.int64)
    years = tuple(int(y) for y in np.unique(year_of))
    panel = np.full((n_h, len(years), len(PANEL_FIELDS)), np.nan)
    if entries:
        values = np.array(",".join(e[5:] for e in entries).split(","), dtype=np.float64)
        panel[owner, np.searchsorted(np.array(years), year_of)] = values.reshape(
            -1, len(PANEL_FIELDS)
        )
    m_h, members = _split_records([r["members"] for r in rows], 6)
    n_h_idx, needs = _split_records([r["needs"] for r in rows], 3)
    claimers = [set[str]() for _ in range(n_h)]
    for i, claimed in zip(n_h_idx.tolist(), needs[:, 2].tolist(), strict=True):
        if claimed:
            claimers[i].add(claimed)
    loads = [r["cadre_loads"] for r in rows]
    return RiskColumns.model_construct(
        household_ids=[r["id"] for r in rows],
        village_codes=[r["village_code"] for r in rows],
        statuses=[r["status"] for r in rows],
        years=years,
        panel=panel,
        size=np.array([r["size"] for r in rows], dtype=np.float64),
        main_cause=np.array([CAUSE_CODES[r["main_cause"]] for r in rows], dtype=np.float64),
        n_other_causes=np.array([r["other_causes"] for r in rows], dtype=np.float64),
        housing_safe=np.array([bool(r["housing_safe"]) for r in rows], dtype=np.float64),
        water_safe=np.array([bool(r["water_safe"]) for r in rows], dtype=np.float64),
        member_household=m_h,
        member_birth_year=members[:, 0].astype(np.int64),
        member_health=_coded(members[:, 1], HEALTH_CODES, 0),
        member_disability=members[:, 2].astype(np.int64),
        member_labour=_coded(members[:, 3], LABOUR_CODES, _NO_LABOUR),
        member_in_school=members[:, 4] == Schooling.IN_SCHOOL.value,
        member_employment=_coded(members[:, 5], EMPLOYMENT_CODES, len(EMPLOYMENT_CODES)),
        need_household=n_h_idx,
        need_created=needs[:, 0].astype(np.int64),
        need_fulfilled=needs[:, 1].astype(np.int64),
        paired_helpers=np.array([r["paired_helpers"] for r in rows], dtype=np.float64),
        paired_cadres=np.array([len(x) for x in loads], dtype=np.float64),
        cadre_households=np.array([max(x, default=0) for x in loads], dtype=np.float64),
        claiming_helpers=np.array([len(c) for c in claimers], dtype=np.float64),
    )


def _state(row: dict[str, Any]) -> AlertState:
    return AlertState(
        alert=alert_from_row(row["a"]),
        household_status=row["household_status"],
        household_size=int(row["household_size"]),
        labour_capable=bool(row["labour_capable"]),
        housing_safe=bool(row["housing_safe"]),
        water_safe=bool(row["water_safe"]),
        head_name=row["head_name"],
        village_name=row["village_name"],
    )


Decider = Callable[[AlertState], AlertChange]
AuditFactory = Callable[[AlertState, AlertChange], AuditEntry]


class RiskRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    # --- panels ----------------------------------------------------------------------------

    def save_panel_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None
    ) -> None:
        """Rows {household_id, year, values}: values in PANEL_FIELDS order, as numbers or as
        their comma-separated text; a household's years are grouped into one write."""
        grouped: dict[str, dict[str, str]] = defaultdict(dict)
        for r in rows:
            values = r["values"]
            # 10 significant digits: exact for every yuan amount below 10^10.
            text = (
                values if isinstance(values, str) else ",".join(f"{float(v):.10g}" for v in values)
            )
            if text.count(",") != len(PANEL_FIELDS) - 1:
                raise InvalidInputError(
                    f"a panel year needs {len(PANEL_FIELDS)} values",
                    message_zh="年度数据列数不符",
                )
            grouped[str(r["household_id"])][f"{PANEL_PREFIX}{int(r['year'])}"] = text
        payload = [{"household_id": h, "props": props} for h, props in grouped.items()]
        if payload:
            self.graph.write_counted(
                SAVE_PANELS, len(payload), "household years", rows=payload, timeout_s=timeout_s
            )

    def panel_columns(
        self, village_codes: Sequence[str], timeout_s: float | None = None
    ) -> RiskColumns:
        """Risk inputs of every household of these villages, ordered by village then id."""
        rows = self.graph.read(PANEL_ROWS, villages=list(village_codes), timeout_s=timeout_s)
        return _columns(rows)

    # --- scoring ---------------------------------------------------------------------------

    def village_households(self, prefix: str = "") -> list[tuple[str, int]]:
        return [
            (r["code"], int(r["households"]))
            for r in self.graph.read(VILLAGE_HOUSEHOLDS, prefix=prefix, timeout_s=120)
        ]

    def unscored_villages(self, period: str, prefix: str = "") -> list[tuple[str, int]]:
        """Villages with households not scored for `period` (to enqueue again)."""
        rows = self.graph.read(UNSCORED_VILLAGES, prefix=prefix, period=period, timeout_s=120)
        return [(r["code"], int(r["households"])) for r in rows]

    def count_towns(self, prefix: str = "") -> int:
        row = self.graph.read_one(COUNT_TOWNS, prefix=prefix)
        return 0 if row is None else int(row["towns"])

    def save_alerts(
        self,
        villages: Sequence[str],
        households: int,
        alerts: Sequence[AlertDraft],
        *,
        period: str,
        model_version: str,
        at: datetime,
        due: datetime,
        timeout_s: float | None = None,
    ) -> None:
        """A scored chunk's alerts and its villages' "scored for period" mark, in one
        transaction: a chunk is either done (alerts and mark) or left to be enqueued again."""
        alert_rows = [
            {
                "id": alert_id(a.household_id, a.period),
                "household_id": a.household_id,
                "props": {
                    "id": alert_id(a.household_id, a.period),
                    "household_id": a.household_id,
                    "village_code": a.village_code,
                    "period": a.period,
                    "score": a.score,
                    "model_version": a.model_version,
                    "reasons": list(a.reasons),
                    "factors_zh": list(a.factors_zh),
                    "factors_en": list(a.factors_en),
                },
            }
            for a in alerts
        ]

        def work(tx: ManagedTransaction) -> None:
            if alert_rows:
                tx.run(UPSERT_ALERTS, rows=alert_rows, at=at, due=due).consume()
            tx.run(
                MARK_VILLAGES_SCORED,
                villages=list(villages),
                period=period,
                version=model_version,
                at=at,
                households=households,
            ).consume()

        self.graph.run_write(work, timeout_s=timeout_s)

    # --- alerts ----------------------------------------------------------------------------

    def list_alerts(
        self, query: AlertQuery, prefixes: Sequence[str], open_statuses: Sequence[str]
    ) -> AlertPage:
        params: dict[str, Any] = {
            "prefixes": list(prefixes),
            "statuses": list(query.statuses),
            "region_code": query.region_code,
            "reason": query.reason,
            "overdue_at": query.overdue_at,
            "open_statuses": list(open_statuses),
            "min_score": query.min_score,
        }
        cypher = LIST_ALERTS.replace("__ORDER_BY__", ALERT_ORDER[query.sort])
        rows = self.graph.read(cypher, skip=query.skip, limit=query.limit, **params)
        total = self.graph.read_one(COUNT_ALERTS, **params)
        return AlertPage(
            items=[alert_from_row(r["a"]) for r in rows],
            total=int(total["total"]) if total else 0,
        )

    def get_in_scope(self, alert_id_: str, prefixes: Sequence[str]) -> RiskAlert:
        row = self.graph.read_one(GET_ALERT_IN_SCOPE, id=alert_id_, prefixes=list(prefixes))
        if row is None:
            raise NotFoundError(f"alert {alert_id_} not found", message_zh="未找到该预警")
        return alert_from_row(row["a"])

    def alerts_of_household(self, household_id: str) -> list[RiskAlert]:
        rows = self.graph.read(ALERTS_OF_HOUSEHOLD, household_id=household_id)
        return [alert_from_row(r["a"]) for r in rows]

    def state_in_scope(self, alert_id_: str, prefixes: Sequence[str], today: date) -> AlertState:
        """The alert with what its decisions and its public notice read (no lock)."""
        self.get_in_scope(alert_id_, prefixes)
        row = self.graph.read_one(READ_ALERT_STATE, id=alert_id_, today=today)
        if row is None:
            raise NotFoundError(f"alert {alert_id_} not found", message_zh="未找到该预警")
        return _state(row)

    def change(
        self,
        alert_id_: str,
        prefixes: Sequence[str],
        today: date,
        decide: Decider,
        audit: AuditFactory,
    ) -> dict[str, Any]:
        """Lock the alert, read its state, let `decide` choose the change, write it and its
        audit event, all in one transaction. Returns the decider's response."""

        def work(tx: ManagedTransaction) -> dict[str, Any]:
            locked = tx.run(LOCK_ALERT_IN_SCOPE, id=alert_id_, prefixes=list(prefixes)).single()
            if locked is None:
                raise NotFoundError(f"alert {alert_id_} not found", message_zh="未找到该预警")
            row = tx.run(READ_ALERT_STATE, id=alert_id_, today=today).single()
            if row is None:  # pragma: no cover - the lock statement just matched it
                raise NotFoundError(f"alert {alert_id_} not found", message_zh="未找到该预警")
            state = _state(dict(row))
            change = decide(state)
            household_id = state.alert.household_id
            props = dict(change.alert_props)
            if change.income_checks is not None:
                props["check_dates"] = [c.checked_on for c in change.income_checks]
                props["check_incomes"] = [c.per_capita_income for c in change.income_checks]
            tx.run(SET_ALERT, id=alert_id_, props=props).consume()
            if change.household_props:
                tx.run(SET_HOUSEHOLD, id=household_id, props=change.household_props).consume()
            for need in change.measures:
                props = need.model_dump()
                props.update(household_id=household_id, created_at=today, status="open")
                created = tx.run(
                    CREATE_NEED, household_id=household_id, props=props, prefixes=list(prefixes)
                ).single()
                if created is None:  # pragma: no cover - the household is in scope (alert is)
                    raise NotFoundError("household not found", message_zh="未找到该户")
            for helper_id in change.helper_ids:
                if (
                    tx.run(LINK_HELPER, helper_id=helper_id, household_id=household_id).single()
                    is None
                ):
                    raise NotFoundError(
                        f"helper {helper_id} not found", message_zh="未找到该帮扶主体"
                    )
            # Last: the audit chain lock is global, so it is held only until the commit.
            append_in_transaction(tx, audit(state, change))
            return change.response

        return self.graph.run_write(work)
