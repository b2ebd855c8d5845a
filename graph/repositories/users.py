from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from bangfu.errors import NotFoundError
from bangfu.vocabulary import HelperKind
from graph.client import GraphClient
from graph.models import User, UserAccess

# The username constraint turns a concurrent duplicate into ConflictError (graph/client.py).
CREATE_USER = """
CREATE (u:User)
SET u = $row
RETURN u {.*} AS u
"""

GET_USER = "MATCH (u:User {id: $id}) RETURN u {.*} AS u"

# Every authenticated request reads this, so user and helper come back in one query (one
# transaction instead of two, ~2 ms less per request on this machine).
GET_ACCESS = """
MATCH (u:User {id: $id})
OPTIONAL MATCH (h:Helper {id: u.helper_id})
RETURN u {.*} AS u, coalesce(h.service_regions, []) AS service_regions
"""

BY_USERNAME = "MATCH (u:User {username: $username}) RETURN u {.*} AS u"

SET_ACTIVE = "MATCH (u:User {id: $id}) SET u.active = $active RETURN u {.*} AS u"

SET_PASSWORD_HASH = """
MATCH (u:User {id: $id}) SET u.password_hash = $password_hash RETURN u {.*} AS u
"""  # noqa: S105 - a query, not a password

# Anchors for demo logins (`bangfu user demo`): they read regions and helpers, but exist only to
# pick what a demo login is bound to, so they live with the users.
FIRST_COUNTY = """
MATCH (c:Region {level: 'county'}) RETURN c.code AS code ORDER BY c.code LIMIT 1
"""

FIRST_VILLAGE_IN = """
MATCH (v:Region {level: 'village'}) WHERE v.code STARTS WITH $county_code
RETURN v.code AS code ORDER BY v.code LIMIT 1
"""

# Best first: helpers serving the county at all, then the earlier kind in $kinds, then those
# serving the whole county or more (2) before those serving part of it (1), then id (stable).
HELPER_FOR_COUNTY = """
MATCH (h:Helper) WHERE h.kind IN $kinds
OPTIONAL MATCH (h)-[:SERVES]->(r:Region)
WITH h, max(CASE WHEN $county_code STARTS WITH r.code THEN 2
                 WHEN r.code STARTS WITH $county_code THEN 1 ELSE 0 END) AS fit
RETURN h.id AS id
ORDER BY fit > 0 DESC, [i IN range(0, size($kinds) - 1) WHERE $kinds[i] = h.kind][0],
         fit DESC, h.id
LIMIT 1
"""


def user_row(user: User) -> dict[str, Any]:
    row: dict[str, Any] = user.model_dump(exclude={"password_hash"})
    row["role"] = user.role.value
    row["password_hash"] = user.password_hash.get_secret_value()
    return row


def user_from_row(row: dict[str, Any]) -> User:
    fields = dict(row)
    fields["password_hash"] = SecretStr(fields["password_hash"])
    fields["created_at"] = fields["created_at"].to_native()
    return User.model_validate(fields)


class UserRepository:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def create(self, user: User) -> User:
        rows = self.graph.write(CREATE_USER, row=user_row(user))
        return user_from_row(rows[0]["u"])

    def get(self, user_id: str) -> User:
        row = self.graph.read_one(GET_USER, id=user_id)
        if row is None:
            raise NotFoundError(f"user {user_id} not found", message_zh="未找到该用户")
        return user_from_row(row["u"])

    def access(self, user_id: str) -> UserAccess:
        row = self.graph.read_one(GET_ACCESS, id=user_id)
        if row is None:
            raise NotFoundError(f"user {user_id} not found", message_zh="未找到该用户")
        user = user_from_row(row["u"])
        regions = tuple(row["service_regions"]) if user.helper_id is not None else ()
        return UserAccess(user=user, service_regions=regions)

    def by_username(self, username: str) -> User | None:
        """The user with this (normalised) username, or None; logins must not raise on absence."""
        row = self.graph.read_one(BY_USERNAME, username=username)
        return None if row is None else user_from_row(row["u"])

    def set_active(self, user_id: str, active: bool) -> User:
        rows = self.graph.write(SET_ACTIVE, id=user_id, active=active)
        if not rows:
            raise NotFoundError(f"user {user_id} not found", message_zh="未找到该用户")
        return user_from_row(rows[0]["u"])

    def set_password_hash(self, user_id: str, password_hash: SecretStr) -> User:
        rows = self.graph.write(
            SET_PASSWORD_HASH, id=user_id, password_hash=password_hash.get_secret_value()
        )
        if not rows:
            raise NotFoundError(f"user {user_id} not found", message_zh="未找到该用户")
        return user_from_row(rows[0]["u"])

    def first_county(self) -> str | None:
        row = self.graph.read_one(FIRST_COUNTY)
        return None if row is None else str(row["code"])

    def first_village_in(self, county_code: str) -> str | None:
        row = self.graph.read_one(FIRST_VILLAGE_IN, county_code=county_code)
        return None if row is None else str(row["code"])

    def helper_for_county(self, kinds: Sequence[HelperKind], county_code: str) -> str | None:
        """Id of a helper of one of `kinds` (in order of preference) serving the county, or
        failing that any helper of those kinds."""
        row = self.graph.read_one(
            HELPER_FOR_COUNTY, kinds=[k.value for k in kinds], county_code=county_code
        )
        return None if row is None else str(row["id"])
