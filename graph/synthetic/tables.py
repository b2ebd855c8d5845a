"""The generator's output shape: table names, their columns in order, and the streamed Batch."""

from __future__ import annotations

from dataclasses import dataclass, field

# A cell is a str, int, float or bool; a missing value is "" and lists are ";"-joined strings.
# Rows are typed dict[str, object] because that is the contract consumers annotate against.
Row = dict[str, object]

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "regions": ("code", "name", "level", "parent_code"),
    "households": (
        "household_id",
        "village_code",
        "town_code",
        "county_code",
        "city_code",
        "status",
        "monitor_type",
        "main_cause",
        "other_causes",
        "size",
        "address",
        "phone",
        "income_wage",
        "income_farm",
        "income_business",
        "income_transfer",
        "income_property",
        "income_per_capita",
        "spend_medical",
        "spend_education",
        "housing_safe",
        "water_safe",
        "registered_year",
        "exit_year",
    ),
    "persons": (
        "person_id",
        "household_id",
        "national_id",
        "name",
        "sex",
        "birth_date",
        "relation",
        "health",
        "disability_grade",
        "schooling",
        "labour_ability",
        "employment",
        "phone",
    ),
    "helpers": (
        "helper_id",
        "kind",
        "name",
        "description",
        "capabilities",
        "service_regions",
        "capacity",
        "home_region_code",
    ),
    "helper_truth": ("helper_id", "true_quality", "true_speed_days"),
    "cadres": ("cadre_id", "name", "phone", "role", "village_code", "unit_helper_id"),
    "helper_pairings": ("helper_id", "household_id"),
    "cadre_pairings": ("cadre_id", "household_id"),
    "needs": (
        "need_id",
        "household_id",
        "village_code",
        "category",
        "kind",
        "title",
        "text",
        "amount",
        "urgency",
        "status",
        "created_at",
        "claimed_by",
        "fulfilled_at",
    ),
    "projects": (
        "project_id",
        "name",
        "type",
        "stage",
        "county_code",
        "village_code",
        "fund_source",
        "funds_allocated",
        "funds_disbursed",
        "managing_body",
        "operating_body",
        "supervising_body",
        "start_date",
        "budget",
        "progress_pct",
        "approved_at",
        "last_milestone_at",
    ),
    "project_beneficiaries": ("project_id", "household_id"),
    "project_milestones": (
        "id",
        "project_id",
        "seq",
        "name",
        "planned_date",
        "achieved_date",
        "progress_pct",
    ),
    "project_funds": ("id", "project_id", "source", "allocated", "disbursed"),
    # What the project checks must find (graph/synthetic/projects.py plants it); like
    # helper_truth, never loaded. project_id or household_id is "" when the finding has none.
    "project_anomaly_truth": ("rule", "project_id", "household_id"),
    # One row per household and year (graph/synthetic/panels.py). below_line of year t+1 is the
    # label of year t; p_fall_next is its true probability, p_fall_next_unaided the same without
    # that year's assistance. Like helper_truth, the truth columns are never loaded.
    "household_years": (
        "household_id",
        "year",
        "income_wage",
        "income_farm",
        "income_business",
        "income_transfer",
        "income_property",
        "income_per_capita",
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
        "below_line",
        "p_fall_next",
        "p_fall_next_unaided",
    ),
}


def _empty_tables() -> dict[str, list[Row]]:
    return {name: [] for name in TABLE_COLUMNS}


@dataclass(frozen=True)
class Batch:
    """Rows of every table for one streaming step; every table name is present, maybe empty.

    The first batch of a run holds all regions and the province- and city-level helpers; each
    later batch holds one county. Rows only reference ids of the same or an earlier batch.
    """

    tables: dict[str, list[Row]] = field(default_factory=_empty_tables)

    def row_counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}
