from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import Household, Income
from graph.pii import PiiVault

SAVE_HOUSEHOLDS = """
UNWIND $rows AS r
MATCH (v:Region {code: r.village_code})
MERGE (h:Household {id: r.id})
SET h += r
MERGE (h)-[:IN_VILLAGE]->(v)
RETURN count(*) AS written
"""

# Bulk loads into an empty graph create instead of merging (~30% faster: no lookup before
# each write); the uniqueness constraints still refuse a duplicate.
INSERT_HOUSEHOLDS = """
UNWIND $rows AS r
MATCH (v:Region {code: r.village_code})
CREATE (h:Household)
SET h = r
CREATE (h)-[:IN_VILLAGE]->(v)
RETURN count(*) AS written
"""

_RETURN_HOUSEHOLD = "RETURN h {.*} AS h"

GET_HOUSEHOLD = "MATCH (h:Household {id: $id}) " + _RETURN_HOUSEHOLD

# Region scope is a prefix of the village code (see graph/schema.py), served by a range index.
IN_REGION = """
MATCH (h:Household) WHERE h.village_code STARTS WITH $region_code
RETURN h {.*} AS h ORDER BY h.id SKIP $skip LIMIT $limit
"""

GET_IN_SCOPE = """
MATCH (h:Household {id: $id})
WHERE any(prefix IN $prefixes WHERE h.village_code STARTS WITH prefix)
RETURN h {.*} AS h
"""

IN_SCOPE = """
MATCH (h:Household)
WHERE any(prefix IN $prefixes WHERE h.village_code STARTS WITH prefix)
  AND ($region_code IS NULL OR h.village_code STARTS WITH $region_code)
  AND ($status IS NULL OR h.status = $status)
RETURN h {.*} AS h ORDER BY h.id SKIP $skip LIMIT $limit
"""

COUNT_IN_SCOPE = """
MATCH (h:Household)
WHERE any(prefix IN $prefixes WHERE h.village_code STARTS WITH prefix)
  AND ($region_code IS NULL OR h.village_code STARTS WITH $region_code)
  AND ($status IS NULL OR h.status = $status)
RETURN count(h) AS households
"""

COUNT_IN_REGION = """
MATCH (h:Household) WHERE h.village_code STARTS WITH $region_code
RETURN count(h) AS households
"""

# Income model field -> stored property (the generator's CSV column).
_INCOME_COLUMNS = {
    "wage": "income_wage",
    "farm": "income_farm",
    "business": "income_business",
    "transfer": "income_transfer",
    "assets": "income_property",
}


def household_row(household: Household, vault: PiiVault) -> dict[str, Any]:
    phone_enc, phone_hash = vault.seal(
        household.phone.get_secret_value() if household.phone else ""
    )
    code = household.village_code
    row: dict[str, Any] = household.model_dump(
        mode="json", exclude={"phone", "income", "other_causes"}
    )
    row.update(
        town_code=code[:9],
        county_code=code[:6],
        city_code=code[:4],
        other_causes=list(household.other_causes),
        phone_enc=phone_enc,
        phone_hash=phone_hash,
        income_per_capita=round(household.income_per_capita, 2),
    )
    for field_name, column in _INCOME_COLUMNS.items():
        row[column] = getattr(household.income, field_name)
    return row


def household_from_row(row: dict[str, Any], vault: PiiVault) -> Household:
    phone = vault.decrypt(row["phone_enc"]) if row.get("phone_enc") else None
    return Household(
        id=row["id"],
        village_code=row["village_code"],
        status=row["status"],
        monitor_type=row.get("monitor_type"),
        main_cause=row["main_cause"],
        other_causes=tuple(row.get("other_causes") or ()),
        size=row["size"],
        address=row["address"],
        phone=SecretStr(phone) if phone else None,
        income=Income(**{f: row.get(c) or 0 for f, c in _INCOME_COLUMNS.items()}),
        spend_medical=row.get("spend_medical") or 0,
        spend_education=row.get("spend_education") or 0,
        housing_safe=row.get("housing_safe", True),
        water_safe=row.get("water_safe", True),
        registered_year=row.get("registered_year"),
        exit_year=row.get("exit_year"),
    )


class HouseholdRepository:
    def __init__(self, graph: GraphClient, vault: PiiVault) -> None:
        self.graph = graph
        self.vault = vault

    def save_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None, fresh: bool = False
    ) -> None:
        query = INSERT_HOUSEHOLDS if fresh else SAVE_HOUSEHOLDS
        self.graph.write_counted(
            query, len(rows), "households", rows=list(rows), timeout_s=timeout_s
        )

    def save(self, household: Household) -> None:
        self.save_rows([household_row(household, self.vault)])

    def save_statement(self, household: Household) -> tuple[str, dict[str, Any]]:
        """The write for one household, for a caller that commits it together with its audit
        event (AuditRepository.append(..., statements=[...]))."""
        return SAVE_HOUSEHOLDS, {"rows": [household_row(household, self.vault)]}

    def get(self, household_id: str) -> Household:
        row = self.graph.read_one(GET_HOUSEHOLD, id=household_id)
        if row is None:
            raise NotFoundError(f"household {household_id} not found", message_zh="未找到该户")
        return household_from_row(row["h"], self.vault)

    def get_in_scope(self, household_id: str, prefixes: Sequence[str]) -> Household:
        row = self.graph.read_one(GET_IN_SCOPE, id=household_id, prefixes=list(prefixes))
        if row is None:
            raise NotFoundError(f"household {household_id} not found", message_zh="未找到该户")
        return household_from_row(row["h"], self.vault)

    def in_scope(
        self,
        prefixes: Sequence[str],
        region_code: str | None = None,
        status: str | None = None,
        skip: int = 0,
        limit: int = 50,
    ) -> tuple[list[Household], int]:
        params: dict[str, Any] = {
            "prefixes": list(prefixes),
            "region_code": region_code,
            "status": status,
        }
        rows = self.graph.read(IN_SCOPE, skip=skip, limit=limit, **params)
        total = self.graph.read_one(COUNT_IN_SCOPE, **params)
        households = [household_from_row(r["h"], self.vault) for r in rows]
        return households, int(total["households"]) if total else 0

    def in_region(self, region_code: str, skip: int = 0, limit: int = 50) -> list[Household]:
        rows = self.graph.read(IN_REGION, region_code=region_code, skip=skip, limit=limit)
        return [household_from_row(r["h"], self.vault) for r in rows]

    def count_in_region(self, region_code: str) -> int:
        row = self.graph.read_one(COUNT_IN_REGION, region_code=region_code)
        return 0 if row is None else int(row["households"])
