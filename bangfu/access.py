"""Who is calling: roles and the principal every service call carries.

The decisions (who may do what, where) live in one policy module, api/policy.py; this module only
names the roles and carries the caller's identity and region down to the graph queries.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    OFFICIAL = "official"  # bound to one region at any of the five levels
    FIELD_WORKER = "field_worker"  # village or town
    CHARITY = "charity"
    WOMENS_FEDERATION = "womens_federation"
    DISABLED_FEDERATION = "disabled_federation"
    HELPER_UNIT = "helper_unit"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def is_helper(self) -> bool:
        """Roles that act for a Helper node and see de-identified needs only."""
        return self in HELPER_ROLES

    @property
    def is_regional(self) -> bool:
        """Roles bound to a region whose code prefixes everything they may see."""
        return self in (Role.OFFICIAL, Role.FIELD_WORKER)


HELPER_ROLES = frozenset(
    {Role.CHARITY, Role.WOMENS_FEDERATION, Role.DISABLED_FEDERATION, Role.HELPER_UNIT}
)


class Principal(BaseModel):
    """The authenticated caller. `region_code` is set for officials and field workers,
    `helper_id` for charities, federations and helper units."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str
    username: str
    role: Role
    region_code: str | None = None
    helper_id: str | None = None
    # The acting helper's service-region codes, loaded with the login so that the policy can
    # decide a helper's scope without a database call.
    service_regions: tuple[str, ...] = ()


class RegionScope(BaseModel):
    """What a caller may see: everything, or the regions whose codes start with one of
    `prefixes` (a region code prefixes every code below it). Empty means nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    everything: bool = False
    prefixes: tuple[str, ...] = ()

    def covers(self, region_code: str) -> bool:
        """True when `region_code` (any level) lies inside the scope."""
        return self.everything or any(region_code.startswith(p) for p in self.prefixes)
