"""The department sources the rules read (names declared in graph/ingest/schemas.py)."""

from __future__ import annotations

CIVIL_AFFAIRS_DEATHS = "civil_affairs.deaths"
PUBLIC_SECURITY_DEATHS = "public_security.deaths"
VEHICLES = "public_security.vehicles"
BUSINESSES = "market_regulation.businesses"
PUBLIC_EMPLOYEES = "hrss.public_employees"
EMPLOYMENT = "hrss.employment"
ENROLMENT = "education.enrolment"
CERTIFICATES = "disabled_federation.certificates"
MEDICAL_ENROLMENT = "medical_insurance.enrolment"

DEATH_SOURCES = (CIVIL_AFFAIRS_DEATHS, PUBLIC_SECURITY_DEATHS)

# Every source a cross-check rule reads; records of other sources are not loaded (medical
# insurance enrolment, one record per person and year, would double what a chunk reads).
CHECKED_SOURCES = (
    *DEATH_SOURCES,
    VEHICLES,
    BUSINESSES,
    PUBLIC_EMPLOYEES,
    EMPLOYMENT,
    ENROLMENT,
    CERTIFICATES,
)
# Sources whose presence in a county matters (absence rules, exits' data-backed checks).
PRESENCE_SOURCES = (*CHECKED_SOURCES, MEDICAL_ENROLMENT)

# The facts the rules and their evidence read, whatever the source.
FACT_FIELDS = (
    "death_date",
    "vehicle_type",
    "status",
    "registered_on",
    "business_name",
    "business_type",
    "registered_capital",
    "unit_name",
    "position",
    "start_date",
    "end_date",
    "employer",
    "monthly_wage",
    "school_year",
    "stage",
    "disability_type",
    "grade",
    "issued_on",
    "valid_until",
)

SOURCE_ZH = {
    CIVIL_AFFAIRS_DEATHS: "民政：死亡（殡葬）信息",
    PUBLIC_SECURITY_DEATHS: "公安：死亡注销",
    VEHICLES: "公安：机动车登记",
    BUSINESSES: "市场监管：市场主体登记",
    PUBLIC_EMPLOYEES: "人社：财政供养人员",
    EMPLOYMENT: "人社：就业登记",
    ENROLMENT: "教育：学籍信息",
    CERTIFICATES: "残联：残疾人证",
    MEDICAL_ENROLMENT: "医保：参保信息",
    "household": "建档立卡信息",
}
