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


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(BaseModel):
    """A long task's record: state and progress (chunks and rows done of total)."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    state: JobState
    created_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    deliveries: int = 0
    chunks_total: int | None = None
    chunks_done: int | None = None
    rows_total: int | None = None
    rows_done: int | None = None


class JobChunk(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    no: int
    state: str
    deliveries: int
    rows: int


class RegionStats(BaseModel):
    """Counts for a region, summed over its villages' precomputed figures."""

    model_config = ConfigDict(frozen=True)

    code: str
    villages: int = 0
    households: int = 0
    people: int = 0
    poor: int = 0
    exited: int = 0
    monitored: int = 0
    needs: int = 0
    open_needs: int = 0
    fulfilled_needs: int = 0
    computed_at: datetime | None = None


# --- risk of falling back into poverty -----------------------------------------------------------

# A household's yearly record as the graph stores it: one float list per year, in this order.
PANEL_FIELDS: tuple[str, ...] = (
    "income_wage",
    "income_farm",
    "income_business",
    "income_transfer",
    "income_property",
    "spend_medical",
    "spend_education",
    "labour_units",
    "shock_illness",
    "shock_disaster",
    "shock_job_loss",
    "assist_medical",
    "assist_education",
    "assist_employment",
    "assist_industry",
    "assist_subsistence",
)


class HouseholdRiskRecord(DomainModel):
    """What risk features are computed from, for one household: its own attributes, its
    members' (parallel tuples, one entry per member), its yearly panel (year -> values in
    PANEL_FIELDS order), its needs (parallel tuples) and who reaches it through the graph."""

    id: str
    village_code: str
    status: HouseholdStatus
    main_cause: PovertyCause
    other_causes: tuple[str, ...] = ()
    size: int
    housing_safe: bool = True
    water_safe: bool = True
    member_birth_years: tuple[int, ...] = ()
    member_health: tuple[str, ...] = ()
    member_disability: tuple[int, ...] = ()
    member_labour: tuple[str, ...] = ()
    member_schooling: tuple[str, ...] = ()
    member_employment: tuple[str, ...] = ()
    panel: dict[int, tuple[float, ...]] = Field(default_factory=dict)
    need_categories: tuple[str, ...] = ()
    need_created_years: tuple[int, ...] = ()
    need_fulfilled_years: tuple[int, ...] = ()  # 0: not fulfilled
    paired_helpers: int = 0
    paired_cadres: int = 0
    cadre_households: int = 0  # most households any of its responsible cadres covers
    claiming_helpers: int = 0


class AlertDraft(DomainModel):
    """A risk alert as scoring writes it: one per household and period."""

    household_id: str
    village_code: str
    period: str
    score: float
    model_version: str
    reasons: tuple[str, ...]
    factors_zh: tuple[str, ...] = ()
    factors_en: tuple[str, ...] = ()


class IncomeCheck(DomainModel):
    checked_on: date
    per_capita_income: float


class RiskAlert(DomainModel):
    """A risk alert and where it stands in the monitoring procedure."""

    id: str
    household_id: str
    village_code: str
    period: str
    status: str
    score: float
    latest_score: float | None = None
    model_version: str
    reasons: tuple[str, ...] = ()
    factors_zh: tuple[str, ...] = ()
    factors_en: tuple[str, ...] = ()
    created_at: datetime
    due_at: datetime | None = None
    accepted_at: datetime | None = None
    visited_at: datetime | None = None
    visit_findings: str | None = None
    verified_income: float | None = None
    data_matches: bool | None = None
    appraisal: str | None = None
    notice_start: datetime | None = None
    notice_days: int | None = None
    town_reviewed_at: datetime | None = None
    town_note: str | None = None
    decided_at: datetime | None = None
    monitor_type: str | None = None
    dismissed_reason: str | None = None
    eliminated_at: datetime | None = None
    income_checks: tuple[IncomeCheck, ...] = ()
    updated_at: datetime | None = None


class AlertQuery(DomainModel):
    statuses: tuple[str, ...] = ()
    region_code: str | None = None
    reason: str | None = None
    overdue_at: datetime | None = None  # only alerts whose current step was due before this
    min_score: float | None = None
    sort: str = "score"
    skip: int = 0
    limit: int = 50


class AlertPage(DomainModel):
    items: list[RiskAlert]
    total: int
