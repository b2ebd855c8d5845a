from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from bangfu.errors import NotFoundError
from graph.client import GraphClient
from graph.models import Person
from graph.pii import PiiVault

SAVE_PERSONS = """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
MERGE (p:Person {id: r.id})
SET p += r
MERGE (p)-[:MEMBER_OF]->(h)
RETURN count(*) AS written
"""

INSERT_PERSONS = """
UNWIND $rows AS r
MATCH (h:Household {id: r.household_id})
CREATE (p:Person)
SET p = r
CREATE (p)-[:MEMBER_OF]->(h)
RETURN count(*) AS written
"""

GET_PERSON = "MATCH (p:Person {id: $id}) RETURN p {.*} AS p"

BY_NATIONAL_ID = "MATCH (p:Person {national_id_hash: $hash}) RETURN p {.*} AS p"

MEMBERS_OF = """
MATCH (p:Person)-[:MEMBER_OF]->(:Household {id: $household_id})
RETURN p {.*} AS p ORDER BY p.id
"""


def person_row(person: Person, vault: PiiVault) -> dict[str, Any]:
    nid_enc, nid_hash = vault.seal(person.national_id.get_secret_value())
    phone_enc, phone_hash = vault.seal(person.phone.get_secret_value() if person.phone else "")
    row: dict[str, Any] = person.model_dump(exclude={"national_id", "phone"})
    row.update(
        sex=person.sex.value,
        relation=person.relation.value,
        health=person.health.value,
        schooling=person.schooling.value,
        labour_ability=person.labour_ability.value,
        employment=person.employment.value,
        national_id_enc=nid_enc,
        national_id_hash=nid_hash,
        phone_enc=phone_enc,
        phone_hash=phone_hash,
    )
    return row


def person_from_row(row: dict[str, Any], vault: PiiVault) -> Person:
    fields = {k: v for k, v in row.items() if not k.endswith(("_enc", "_hash"))}
    fields["birth_date"] = row["birth_date"].to_native()
    fields["national_id"] = SecretStr(vault.decrypt(row["national_id_enc"]))
    fields["phone"] = SecretStr(vault.decrypt(row["phone_enc"])) if row.get("phone_enc") else None
    return Person.model_validate(fields)


class PersonRepository:
    def __init__(self, graph: GraphClient, vault: PiiVault) -> None:
        self.graph = graph
        self.vault = vault

    def save_rows(
        self, rows: Sequence[dict[str, Any]], timeout_s: float | None = None, fresh: bool = False
    ) -> None:
        query = INSERT_PERSONS if fresh else SAVE_PERSONS
        self.graph.write_counted(query, len(rows), "persons", rows=list(rows), timeout_s=timeout_s)

    def save(self, person: Person) -> None:
        self.save_rows([person_row(person, self.vault)])

    def save_statement(self, person: Person) -> tuple[str, dict[str, Any]]:
        """The write for one member, to commit together with its audit event."""
        return SAVE_PERSONS, {"rows": [person_row(person, self.vault)]}

    def get(self, person_id: str) -> Person:
        row = self.graph.read_one(GET_PERSON, id=person_id)
        if row is None:
            raise NotFoundError(f"person {person_id} not found", message_zh="未找到该人员")
        return person_from_row(row["p"], self.vault)

    def find_by_national_id(self, national_id: str) -> Person | None:
        row = self.graph.read_one(BY_NATIONAL_ID, hash=self.vault.lookup_hash(national_id))
        return None if row is None else person_from_row(row["p"], self.vault)

    def members_of(self, household_id: str) -> list[Person]:
        rows = self.graph.read(MEMBERS_OF, household_id=household_id)
        return [person_from_row(r["p"], self.vault) for r in rows]
