"""Domain types returned by the repositories. Raw driver records never leave graph/.

Personal identifiers are `SecretStr`, so printing or logging a model never shows them; callers
that may see them call `.get_secret_value()` deliberately.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bangfu.access import Role
from bangfu.vocabulary import (
    CadreRole,
    Employment,
    Health,
    HelperKind,
    HouseholdStatus,
    LabourAbility,
    MonitorType,
    NeedCategory,
    NeedKind,
    NeedStatus,
    PovertyCause,
    ProjectStage,
    ProjectType,
    RegionLevel,
    Relation,
    Schooling,
    Sex,
    Urgency,
)


class DomainModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Region(DomainModel):
    code: str = Field(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")
    name: str
    level: RegionLevel
    parent_code: str | None = None


class Income(DomainModel):
    """Yearly household income by source, yuan."""

    wage: float = 0
    farm: float = 0
    business: float = 0
    transfer: float = 0
    assets: float = 0  # 财产性收入 (rent, dividends); stored as income_property

    @property
    def total(self) -> float:
        return self.wage + self.farm + self.business + self.transfer + self.assets


class Household(DomainModel):
    id: str
    village_code: str = Field(pattern=r"^\d{12}$")
    status: HouseholdStatus
    monitor_type: MonitorType | None = None
    main_cause: PovertyCause
    other_causes: tuple[PovertyCause, ...] = ()
    size: int = Field(ge=1, le=20)
    address: str
    phone: SecretStr | None = None
    income: Income
    spend_medical: float = 0
    spend_education: float = 0
    housing_safe: bool = True
    water_safe: bool = True
    registered_year: int | None = None
    exit_year: int | None = None

    @property
    def income_per_capita(self) -> float:
        return self.income.total / self.size


class Person(DomainModel):
    id: str
    household_id: str
    national_id: SecretStr
    name: str
    sex: Sex
    birth_date: date
    relation: Relation
    health: Health
    disability_grade: int = Field(ge=0, le=4)
    schooling: Schooling
    labour_ability: LabourAbility
    employment: Employment
    phone: SecretStr | None = None


class Helper(DomainModel):
    id: str
    kind: HelperKind
    name: str
    description: str
    capabilities: tuple[NeedCategory, ...]
    service_regions: tuple[str, ...]
    capacity: int = Field(ge=0)
    home_region_code: str


class Cadre(DomainModel):
    id: str
    name: str
    phone: SecretStr | None = None
    role: CadreRole
    village_code: str
    unit_helper_id: str | None = None


class Need(DomainModel):
    id: str
    household_id: str
    village_code: str
    category: NeedCategory
    kind: NeedKind
    title: str
    text: str
    amount: float = Field(ge=0)
    urgency: Urgency
    status: NeedStatus
    created_at: date
    claimed_by: str | None = None
    fulfilled_at: date | None = None


class Project(DomainModel):
    id: str
    name: str
    type: ProjectType
    stage: ProjectStage
    county_code: str
    village_code: str | None = None
    fund_source: str
    funds_allocated: float = Field(ge=0)
    funds_disbursed: float = Field(ge=0)
    managing_body: str
    operating_body: str
    supervising_body: str
    start_date: date


class Pairing(DomainModel):
    """Who is paired (结对) with a household: helper units and responsible cadres."""

    household_id: str
    helper_ids: tuple[str, ...]
    cadre_ids: tuple[str, ...]


class User(DomainModel):
    """A login. Officials and field workers carry a region, helper roles the Helper they act for.
    The password hash is a SecretStr so that printing or logging a user never shows it."""

    id: str
    username: str
    password_hash: SecretStr
    role: Role
    region_code: str | None = None
    helper_id: str | None = None
    active: bool = True
    created_at: datetime


class AuditOutcome(StrEnum):
    OK = "ok"
    DENIED = "denied"
    ERROR = "error"


class AuditEntry(DomainModel):
    """What a caller asks the audit trail to record; the repository adds seq, time and hashes.
    `before` and `after` are masked on the way in (no plaintext IDs, phones or secrets)."""

    actor_id: str | None = None  # None: nobody signed in (e.g. a failed login)
    actor_role: str | None = None
    action: str
    subject_type: str
    subject_id: str | None = None
    outcome: AuditOutcome = AuditOutcome.OK
    reason: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    request_id: str | None = None


class AuditEvent(AuditEntry):
    """One recorded event. `hash` = sha256(canonical JSON of the event + `prev_hash`)."""

    seq: int = Field(ge=1)
    at: datetime
    prev_hash: str
    hash: str


class AuditQuery(DomainModel):
    """Filters of an audit search; each one left as None matches everything."""

    subject_type: str | None = None
    subject_id: str | None = None
    actor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class ChainVerification(DomainModel):
    """Result of re-hashing the audit trail: `first_broken_seq` is the earliest event that was
    edited, deleted or re-linked (or the head position when the tail is gone)."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
