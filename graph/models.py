"""Domain types returned by the repositories. Raw driver records never leave graph/.

Personal identifiers are `SecretStr`, so printing or logging a model never shows them; callers
that may see them call `.get_secret_value()` deliberately.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bangfu.access import Role
from bangfu.vocabulary import (
    CadreRole,
    CrossCheckRule,
    Employment,
    ExitKind,
    ExitStatus,
    FindingStatus,
    Guarantee,
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


class ShownPair(BaseModel):
    """One (need, helper) pair as a person saw it: where, at which rank, with which factor
    values (in matching.ranking.FACTORS order). Recorded to learn ranking weights from."""

    model_config = ConfigDict(frozen=True)

    need_id: str
    helper_id: str
    surface: str  # "need_matches" (helpers for a need) or "helper_recommendations"
    rank: int
    score: float
    values: tuple[float, ...]
    shown_at: datetime


class ShownOutcome(BaseModel):
    """A shown pair with what its need has become since: status, holder, and whether this
    helper released it."""

    model_config = ConfigDict(frozen=True)

    need_id: str
    helper_id: str
    values: tuple[float, ...]
    status: str
    holder_id: str | None
    released_by_helper: bool


class UserAccess(DomainModel):
    """A user with the service regions of the helper it acts for (empty when it acts for none or
    the helper is gone): everything a bearer token's principal needs, read in one query."""

    user: User
    service_regions: tuple[str, ...] = ()


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
    ids: tuple[str, ...] = ()


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
    proposed_type: str | None = None
    town_reviewed_at: datetime | None = None
    town_note: str | None = None
    decided_at: datetime | None = None
    monitor_type: str | None = None
    decision_note: str | None = None
    dismissed_reason: str | None = None
    eliminated_at: datetime | None = None
    elimination_note: str | None = None
    income_checks: tuple[IncomeCheck, ...] = ()
    updated_at: datetime | None = None
    rescored_at: datetime | None = None


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


class AlertState(DomainModel):
    """A risk alert as seen while its lock is held, with what its decisions depend on."""

    alert: RiskAlert
    household_status: str
    household_size: int
    # Any member of working age (16-64) able to work, even weakly: households without one
    # stay monitored (无劳动能力的监测户不消除风险).
    labour_capable: bool
    housing_safe: bool
    water_safe: bool
    head_name: str | None = None
    village_name: str | None = None


class MeasureNeed(DomainModel):
    """A need created as a measure when a household is confirmed as monitored."""

    id: str
    category: str
    kind: str
    title: str
    text: str
    amount: float
    urgency: str


class AlertChange(DomainModel):
    """What a review step writes; fields left empty are not touched."""

    alert_props: dict[str, Any]
    income_checks: tuple[IncomeCheck, ...] | None = None  # replaces the stored list when set
    household_props: dict[str, Any] | None = None
    measures: tuple[MeasureNeed, ...] = ()
    helper_ids: tuple[str, ...] = ()
    response: dict[str, Any] = Field(default_factory=dict)


# --- imports (graph/ingest) ----------------------------------------------------------------------


class ImportOutcome(StrEnum):
    """How an import attempt ended (or where it stands)."""

    VALIDATING = "validating"
    IMPORTING = "importing"  # validated; chunks being written
    IMPORTED = "imported"  # every row
    IMPORTED_GOOD_ROWS = "imported_good_rows"  # --good-rows-only: the good rows, bad ones left
    REJECTED = "rejected"  # bad rows and all-or-nothing: nothing written
    FILE_ERROR = "file_error"  # unreadable as a whole (format, encoding, headers, size)
    NOTHING_TO_IMPORT = "nothing_to_import"  # good-rows-only and no good row
    ALREADY_IMPORTED = "already_imported"  # the same bytes were imported before: nothing changed
    ALREADY_RUNNING = "already_running"  # another job is importing the same bytes
    ROLLED_BACK = "rolled_back"  # failed while writing; everything it wrote was removed


class ImportIssue(DomainModel):
    """One bad cell (or row, when `column` is empty). `row` is the spreadsheet row number
    (header = 1); `value` is masked."""

    row: int
    column: str
    code: str
    message_en: str
    message_zh: str
    value: str


class ImportFileProblem(DomainModel):
    """Why a file was refused as a whole."""

    code: str
    message_en: str
    message_zh: str


class ImportSummary(DomainModel):
    """The validation report's summary and, once written, what the import changed."""

    import_id: str
    source: str
    sha256: str
    file_name: str
    good_rows_only: bool = False
    outcome: ImportOutcome
    format: str | None = None
    encoding: str | None = None
    rows: int = 0  # data rows, blank ones excluded
    blank_rows: int = 0
    good_rows: int = 0
    bad_rows: int = 0
    issues: int = 0
    counts: dict[str, int] = Field(default_factory=dict)  # issues per code
    file_error: ImportFileProblem | None = None
    chunks: int = 0
    created: int | None = None  # records the import added
    already_present: int | None = None  # identical records that were already stored
    matched: int | None = None  # department records linked to a person (ABOUT)
    other_job_id: str | None = None  # already_imported / already_running: the job that did it


class ImportReport(DomainModel):
    """A page of the validation report with its summary."""

    import_id: str
    state: JobState
    summary: ImportSummary | None
    issues: tuple[ImportIssue, ...]
    issues_total: int
    page: int
    page_size: int


class DeptRecord(DomainModel):
    """One department fact about a person, as imported. Identifiers are never in `facts`:
    the ID number is matched through `national_id_hash`, other identifiers are sealed."""

    key: str
    source: str
    national_id_hash: str
    region_code: str
    name: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    import_job: str  # the import that created it (its job records the file's sha256)
    imported_at: datetime
    person_id: str | None = None  # the matched person, when the ID number is a member's


# Small-integer codes of vocabulary values (their declaration order), as risk features use them.
CAUSE_CODES = {c.value: i for i, c in enumerate(PovertyCause)}
HEALTH_CODES = {h.value: i for i, h in enumerate(Health)}
LABOUR_CODES = {x.value: i for i, x in enumerate(LabourAbility)}
EMPLOYMENT_CODES = {e.value: i for i, e in enumerate(Employment)}


class RiskColumns(BaseModel):
    """Risk inputs of a chunk of households column by column: households (H), their members
    (M, grouped by household, head first), needs, and the yearly panel as an H x years x
    PANEL_FIELDS array (NaN where a year is missing). The same content as a list of
    HouseholdRiskRecord; scoring reads this form because building 664,000 record objects costs
    more than scoring them. Vocabulary values are codes (CAUSE_CODES, HEALTH_CODES ...)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    household_ids: list[str]
    village_codes: list[str]
    statuses: list[str]
    years: tuple[int, ...]
    panel: np.ndarray
    size: np.ndarray
    main_cause: np.ndarray
    n_other_causes: np.ndarray
    housing_safe: np.ndarray
    water_safe: np.ndarray
    member_household: np.ndarray
    member_birth_year: np.ndarray
    member_health: np.ndarray
    member_disability: np.ndarray
    member_labour: np.ndarray
    member_in_school: np.ndarray
    member_employment: np.ndarray
    need_household: np.ndarray
    need_created: np.ndarray
    need_fulfilled: np.ndarray
    paired_helpers: np.ndarray
    paired_cadres: np.ndarray
    cadre_households: np.ndarray
    claiming_helpers: np.ndarray

    @property
    def households(self) -> int:
        return len(self.household_ids)


# --- analytics ---------------------------------------------------------------------------------


class RegionFigures(BaseModel):
    """A region's precomputed figures (graph/repositories/region_stats.py), flat `family:key`
    integer counts; empty when no statistics job has reached the region yet."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    level: RegionLevel
    figures: dict[str, int] = Field(default_factory=dict)
    computed_at: datetime | None = None


class ProjectGroup(BaseModel):
    """Projects of one group (a child region, a fund source or a month; optionally split by
    stage), summed live from the Project nodes."""

    model_config = ConfigDict(frozen=True)

    key: str
    stage: str | None = None
    projects: int = 0
    funds_allocated: float = 0
    funds_disbursed: float = 0
    beneficiaries: int = 0


class RegionHeadline(BaseModel):
    """The seed document's headline counts for a region: regions per level below it and how
    many counties / towns reach the big-region thresholds in registered people."""

    model_config = ConfigDict(frozen=True)

    regions_by_level: dict[str, int]
    big_counties: int
    big_towns: int


# --- cross-checks (数据比对) and exits (退出) ---------------------------------------------------


class CheckedRecord(DomainModel):
    """A department record as the cross-check rules read it: its key (a keyed hash, no ID
    number), its source and its facts (graph/repositories/dept_records.py `record_from_row`)."""

    key: str
    source: str
    facts: dict[str, Any] = Field(default_factory=dict)


class CheckedMember(DomainModel):
    person_id: str
    birth_date: date
    disability_grade: int = 0
    schooling: Schooling
    deceased: bool = False
    records: tuple[CheckedRecord, ...] = ()


class CheckedHousehold(DomainModel):
    """A household with its members and their department records: the input of the rules."""

    household_id: str
    village_code: str
    status: HouseholdStatus
    size: int
    income_wage: float = 0
    income_total: float = 0
    income_per_capita: float = 0
    housing_safe: bool = True
    water_safe: bool = True
    flags: tuple[str, ...] = ()
    members: tuple[CheckedMember, ...] = ()


class EvidenceItem(DomainModel):
    """One piece of evidence: a department record (source and key) with the values that matter,
    or the platform's own record (source "household"); never an ID number."""

    source: str
    record_key: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)


class FindingDraft(DomainModel):
    key: str  # deterministic: rule, subject and what was found (verification/rules.py)
    rule: CrossCheckRule
    household_id: str
    person_id: str | None = None
    village_code: str
    household_status: HouseholdStatus
    evidence: tuple[EvidenceItem, ...] = ()
    summary_zh: str
    summary_en: str


class Finding(FindingDraft):
    """A finding and its verification task (核查任务), routed to the village's field workers."""

    status: FindingStatus = FindingStatus.OPEN
    job_id: str | None = None
    created_at: datetime
    assignee_cadre_id: str | None = None  # the cadre stationed in the village (驻村)
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_note: str | None = None


class FindingQuery(DomainModel):
    statuses: tuple[str, ...] = ()
    rule: str | None = None
    region_code: str | None = None
    household_id: str | None = None
    skip: int = 0
    limit: int = 20


class FindingPage(BaseModel):
    items: list[Finding]
    total: int


class FindingState(DomainModel):
    """A finding with what its resolution changes, read under the finding's lock."""

    finding: Finding
    household_size: int
    income_total: float
    income_wage: float
    flags: tuple[str, ...] = ()


class CountyCheckStats(DomainModel):
    """What the error-rate report is computed from, per county (verification/report.py)."""

    county_code: str
    villages_checked: int
    households_checked: int
    subject_households_checked: int  # poor and monitored households among them
    findings: int
    open: int
    confirmed: int
    dismissed: int
    households_confirmed: int  # with at least one confirmed finding of any rule
    households_misidentified: int  # with at least one confirmed finding of an eligibility rule
    households_suspect: int = 0  # ... open or confirmed: the rate if every open one holds
    checked_at: datetime | None = None


class ExitMember(DomainModel):
    person_id: str
    birth_date: date
    schooling: Schooling
    deceased: bool = False
    # Statuses of the member's department records for the year judged (empty: none).
    medical_statuses: tuple[str, ...] = ()  # medical_insurance.enrolment, that calendar year
    school_statuses: tuple[str, ...] = ()  # education.enrolment, that school year


class ExitHousehold(DomainModel):
    """A household with what its exit is judged on (verification/exits.py)."""

    household_id: str
    village_code: str
    status: HouseholdStatus
    size: int
    income_per_capita: float
    housing_safe: bool
    water_safe: bool
    flags: tuple[str, ...] = ()
    open_findings: int = 0
    members: tuple[ExitMember, ...] = ()


class VillageExitInput(DomainModel):
    village_code: str
    households: int
    people: int
    poor_people: int  # members of poor and monitored households
    open_findings: int
    exited_year: int | None = None  # 出列 year, when it already left


class GuaranteeCheck(DomainModel):
    guarantee: Guarantee
    met: bool
    verified: bool  # False: no data to check it against; `met` is then the stated assumption
    note_zh: str
    note_en: str


class ExitDraft(DomainModel):
    id: str
    kind: ExitKind
    subject_id: str  # household id, or the village code
    village_code: str
    year: int
    checks: tuple[GuaranteeCheck, ...] = ()
    incidence: float | None = None  # villages: poverty incidence at proposal time
    summary_zh: str
    summary_en: str


class ExitProposal(ExitDraft):
    status: ExitStatus = ExitStatus.PROPOSED
    created_at: datetime
    created_by: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None


class ExitQuery(DomainModel):
    kind: str | None = None
    statuses: tuple[str, ...] = ()
    region_code: str | None = None
    skip: int = 0
    limit: int = 20


class ExitPage(BaseModel):
    items: list[ExitProposal]
    total: int
