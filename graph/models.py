"""Domain types returned by the repositories. Raw driver records never leave graph/.

Personal identifiers are `SecretStr`, so printing or logging a model never shows them; callers
that may see them call `.get_secret_value()` deliberately.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, SecretStr

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
