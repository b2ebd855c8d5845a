"""Exits (退出) as the API shows them: proposals with each guarantee's check, for officials and
field workers of the region; officials of a county or above decide (verification/exits.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Graph
from api.verification import FIRST_DAY, LAST_DAY, REGION_PATTERN, actor_of
from bangfu.settings import get_settings
from bangfu.vocabulary import EXIT_STATUS_ZH, label_zh
from graph.models import ExitProposal, ExitQuery
from graph.repositories.audit import AuditRepository
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.exits import ExitRepository
from matching.needs import Caller
from verification.exit_service import ExitService, ProposalRun
from verification.exits import ExitDecision


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class CheckView(View):
    guarantee: str
    guarantee_zh: str
    met: bool
    verified: bool
    note_zh: str
    note_en: str


class ExitView(View):
    id: str
    kind: str
    subject_id: str
    village_code: str
    year: int
    status: str
    status_zh: str
    checks: list[CheckView]
    incidence: float | None
    summary_zh: str
    summary_en: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None

    @classmethod
    def of(cls, x: ExitProposal) -> ExitView:
        return cls(
            id=x.id,
            kind=x.kind.value,
            subject_id=x.subject_id,
            village_code=x.village_code,
            year=x.year,
            status=x.status.value,
            status_zh=EXIT_STATUS_ZH[x.status.value],
            checks=[
                CheckView(
                    guarantee=c.guarantee.value,
                    guarantee_zh=label_zh(c.guarantee.value),
                    met=c.met,
                    verified=c.verified,
                    note_zh=c.note_zh,
                    note_en=c.note_en,
                )
                for c in x.checks
            ],
            incidence=x.incidence,
            summary_zh=x.summary_zh,
            summary_en=x.summary_en,
            created_at=x.created_at,
            decided_at=x.decided_at,
            decided_by=x.decided_by,
            decision_note=x.decision_note,
        )


class ExitPageView(View):
    items: list[ExitView]
    total: int
    page: int
    page_size: int


class ProposalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str | None = Field(default=None, pattern=REGION_PATTERN)
    as_of: date | None = Field(
        default=None, ge=FIRST_DAY, le=LAST_DAY, description="the day judged; default today"
    )


class Exits:
    def __init__(self, service: ExitService) -> None:
        self.service = service

    def propose(self, caller: Caller, body: ProposalRequest) -> ProposalRun:
        return self.service.propose(actor_of(caller), body.region, body.as_of)

    def list(self, caller: Caller, query: ExitQuery, page: int, size: int) -> ExitPageView:
        result = self.service.list(actor_of(caller), query)
        return ExitPageView(
            items=[ExitView.of(x) for x in result.items],
            total=result.total,
            page=page,
            page_size=size,
        )

    def get(self, caller: Caller, proposal_id: str) -> ExitView:
        return ExitView.of(self.service.get(actor_of(caller), proposal_id))

    def decide(self, caller: Caller, proposal_id: str, body: ExitDecision) -> ExitView:
        return ExitView.of(self.service.decide(actor_of(caller), proposal_id, body))


def exits_service(graph: Graph) -> Exits:
    return Exits(
        ExitService(
            ExitRepository(graph),
            CrossCheckRepository(graph),
            AuditRepository(graph),
            get_settings().risk,
        )
    )


ExitsDep = Annotated[Exits, Depends(exits_service)]
