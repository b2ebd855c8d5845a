from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import Cadre
from graph.pii import PiiVault

SAVE_CADRES = """
UNWIND $rows AS r
MATCH (v:Region {code: r.village_code})
MERGE (c:Cadre {id: r.id})
SET c += r
MERGE (c)-[:STATIONED_IN]->(v)
WITH c, r
OPTIONAL MATCH (u:Helper {id: r.unit_helper_id})
FOREACH (_ IN CASE WHEN u IS NULL THEN [] ELSE [1] END | MERGE (c)-[:FROM_UNIT]->(u))
RETURN count(*) AS written
"""

INSERT_CADRES = """
UNWIND $rows AS r
MATCH (v:Region {code: r.village_code})
CREATE (c:Cadre)
SET c = r
CREATE (c)-[:STATIONED_IN]->(v)
WITH c, r
OPTIONAL MATCH (u:Helper {id: r.unit_helper_id})
FOREACH (_ IN CASE WHEN u IS NULL THEN [] ELSE [1] END | CREATE (c)-[:FROM_UNIT]->(u))
RETURN count(*) AS written
"""

GET_CADRE = "MATCH (c:Cadre {id: $id}) RETURN c {.*} AS c"

IN_VILLAGE = """
MATCH (c:Cadre) WHERE c.village_code = $village_code
RETURN c {.*} AS c ORDER BY c.id
"""


def cadre_row(cadre: Cadre, vault: PiiVault) -> dict[str, Any]:
    phone_enc, phone_hash = vault.seal(cadre.phone.get_secret_value() if cadre.phone else "")
    row: dict[str, Any] = cadre.model_dump(mode="json", exclude={"phone"})
    row.update(phone_enc=phone_enc, phone_hash=phone_hash)
    return row


def cadre_from_row(row: dict[str, Any], vault: PiiVault) -> Cadre:
    fields = {k: v for k, v in row.items() if not k.endswith(("_enc", "_hash"))}
    fields["phone"] = SecretStr(vault.decrypt(row["phone_enc"])) if row.get("phone_enc") else None
    return Cadre.model_validate(fields)


class CadreRepository:
    def __init__(self, graph: GraphClient, vault: PiiVault) -> None:
        self.graph = graph
        self.vault = vault

    def save_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None, fresh: bool = False
    ) -> None:
        query = INSERT_CADRES if fresh else SAVE_CADRES
        self.graph.write_counted(query, len(rows), "cadres", rows=list(rows), timeout_s=timeout_s)

    def save(self, cadre: Cadre) -> None:
        self.save_rows([cadre_row(cadre, self.vault)])

    def get(self, cadre_id: str) -> Cadre:
        row = self.graph.read_one(GET_CADRE, id=cadre_id)
        if row is None:
            raise NotFoundError(f"cadre {cadre_id} not found", message_zh="未找到该干部")
        return cadre_from_row(row["c"], self.vault)

    def in_village(self, village_code: str) -> list[Cadre]:
        rows = self.graph.read(IN_VILLAGE, village_code=village_code)
        return [cadre_from_row(r["c"], self.vault) for r in rows]
