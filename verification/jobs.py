"""The cross-check job (`bangfu.checks.run`, then `bangfu.checks.chunk` per chunk): plan whole
villages into chunks once, then apply each chunk exactly once (graph/repositories/crosscheck.py
commits a chunk's findings with its completion). Findings merge on deterministic keys, so a
second job over the same region adds none.

The context of the rules is fixed when the job is planned and stored with it: the check date
(`as_of`, default today), each county's income line (the province's monitoring line for that
year, bangfu/settings.py) and which department sources each county has imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime

from bangfu.settings import RiskSettings, WorkerSettings
from graph.models import CheckedHousehold, FindingDraft, Job
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.jobs import JobRepository
from verification import sources as src
from verification.rules import CheckContext, check_households

CROSS_CHECK = "cross_check"

Enqueue = Callable[[str, int], None]  # (job id, chunk number)


def create_cross_check_job(
    jobs: JobRepository,
    created_by: str,
    region: str,
    as_of: date | None = None,
    villages_per_chunk: int | None = None,
) -> Job:
    params: dict[str, object] = {
        "region": region,
        "as_of": (as_of or datetime.now(UTC).date()).isoformat(),
    }
    if villages_per_chunk is not None:
        params["villages_per_chunk"] = villages_per_chunk
    return jobs.create(CROSS_CHECK, created_by, params)


def sources_of_county(county: str, by_region: dict[str, list[str]]) -> frozenset[str]:
    """Sources imported for a county: its own files and those of any region containing it."""
    return frozenset(
        s for region, names in by_region.items() if county.startswith(region) for s in names
    )


class CrossCheckJob:
    def __init__(
        self,
        jobs: JobRepository,
        repo: CrossCheckRepository,
        workers: WorkerSettings,
        risk: RiskSettings,
    ) -> None:
        self.jobs = jobs
        self.repo = repo
        self.workers = workers
        self.risk = risk

    def plan(self, job_id: str, enqueue: Enqueue) -> int:
        """Plan (once) and enqueue every chunk still pending; running it again re-enqueues only
        what is left, so it also heals a stalled job."""
        job = self.jobs.start(job_id)
        prefix = str(job.params.get("region", ""))
        size = int(job.params.get("villages_per_chunk", self.workers.villages_per_chunk))
        if job.chunks_total is None:
            self.repo.save_plan_context(
                job_id, json.dumps(self.repo.sources_by_region(prefix, src.PRESENCE_SOURCES))
            )
            villages = self.repo.village_households(prefix)
            chunks = _chunks(villages, size)
            if not chunks:
                self.jobs.finish(job_id, {"villages": 0, "households": 0}, rows=0)
                return 0
            self.jobs.plan_chunks(job_id, chunks)
        pending = self.jobs.pending_chunks(job_id)
        for no in pending:
            enqueue(job_id, no)
        return len(pending)

    def run_chunk(self, job_id: str, no: int) -> str:
        chunk = self.jobs.count_delivery(job_id, no, self.workers.max_deliveries)
        if chunk.state == "dead":
            return "set aside"
        if chunk.state == "done":
            return "already done"
        job = self.jobs.get(job_id)
        as_of = date.fromisoformat(str(job.params["as_of"]))
        by_region: dict[str, list[str]] = json.loads(self.repo.plan_context(job_id) or "{}")
        contexts: dict[str, CheckContext] = {}

        def evaluate(households: list[CheckedHousehold]) -> list[FindingDraft]:
            for h in households:
                county = h.village_code[:6]
                if county not in contexts:
                    contexts[county] = CheckContext(
                        as_of=as_of,
                        income_line=self.risk.monitoring_line(county, as_of.year),
                        sources_present=sources_of_county(county, by_region),
                    )
            return check_households(households, contexts)

        done = self.repo.check_chunk(
            job_id,
            no,
            src.CHECKED_SOURCES,
            src.FACT_FIELDS,
            evaluate,
            datetime.now(UTC),
            as_of.isoformat(),
        )
        if done is None:
            return "already done"
        return f"{done[0]} households, {done[1]} findings"


def _chunks(villages: list[tuple[str, int]], size: int) -> list[list[str]]:
    """Up to `size` villages a chunk (villages stay whole: a chunk's marks are per village)."""
    codes = [code for code, _ in villages]
    return [codes[i : i + size] for i in range(0, len(codes), size)]
