"""Query-string filters of the list pages. A filter form sends empty fields for "all"; they
count as not given. Anything else invalid is the 422 page, as the API answers 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bangfu.vocabulary import (
    AlertReason,
    AlertStatus,
    CrossCheckRule,
    ExitKind,
    ExitStatus,
    FindingStatus,
    HelperKind,
    HouseholdStatus,
    NeedCategory,
    NeedStatus,
    ProjectAnomaly,
    ProjectStage,
    ProjectType,
    Urgency,
)
from graph.claims import NeedQuery
from graph.project_records import ProjectQuery

REGION_PATTERN = r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$"
PAGE_SIZE = 20
MAX_PAGE = 10_000
RegionCode = Annotated[str | None, Field(pattern=REGION_PATTERN)]


class Filter(BaseModel):
    # lang is the language switch, not a filter; other unknown parameters are ignored like
    # the API's list routes ignore them.
    model_config = ConfigDict(extra="ignore", frozen=True)

    page: int = Field(default=1, ge=1, le=MAX_PAGE)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == "":
            return None
        return value

    @property
    def skip(self) -> int:
        return (self.page - 1) * PAGE_SIZE


class NeedFilter(Filter):
    category: NeedCategory | None = None
    urgency: Urgency | None = None
    status: NeedStatus | None = None
    region: RegionCode = None
    q: Annotated[str | None, Field(min_length=1, max_length=50)] = None
    sort: Literal["newest", "oldest", "urgency", "amount"] = "newest"

    def query(self, statuses: tuple[NeedStatus, ...]) -> NeedQuery:
        """This page of needs in `statuses`, filtered and sorted as asked."""
        return NeedQuery(
            statuses=statuses,
            category=self.category,
            urgency=self.urgency,
            region_code=self.region,
            text=self.q,
            sort=self.sort,
            skip=self.skip,
            limit=PAGE_SIZE,
        )


class HouseholdFilter(Filter):
    region: RegionCode = None
    status: HouseholdStatus | None = None


class AlertFilter(Filter):
    status: AlertStatus | None = None
    region: RegionCode = None
    reason: AlertReason | None = None
    overdue: bool = False
    sort: Literal["score", "newest", "oldest", "due"] = "score"


class TaskFilter(Filter):
    status: FindingStatus | None = None
    rule: CrossCheckRule | None = None
    region: RegionCode = None


class ExitFilter(Filter):
    kind: ExitKind | None = None
    status: ExitStatus | None = None
    region: RegionCode = None


class HelperFilter(Filter):
    kind: HelperKind | None = None


class AuditFilter(Filter):
    subject_type: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")] = None
    subject_id: Annotated[str | None, Field(max_length=200)] = None
    actor_id: Annotated[str | None, Field(max_length=200)] = None
    since: datetime | None = None  # a time without a zone is UTC, as in the API
    until: datetime | None = None


class ProjectFilter(Filter):
    stage: ProjectStage | None = None
    type: ProjectType | None = None
    region: RegionCode = None
    q: Annotated[str | None, Field(min_length=1, max_length=50)] = None

    def query(self) -> ProjectQuery:
        return ProjectQuery(
            stage=self.stage,
            type=self.type,
            region_code=self.region,
            text=self.q,
            skip=self.skip,
            limit=PAGE_SIZE,
        )


class AnomalyFilter(Filter):
    rule: ProjectAnomaly | None = None
    # False: checked now (as the API's default); True: as the nightly scan stored them.
    stored: bool = False
