"""A generated county with its department files imported: what the cross-check and exit tests
run on. The county is seeded through the bulk loader, the department files (with planted
discrepancies, graph/synthetic/department.py) are written as CSV and imported through the real
import pipeline in this process (what `bangfu import --now` runs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from api.imports import ImportService
from bangfu.settings import ImportSettings, get_settings
from graph.client import GraphClient
from graph.ingest.pipeline import ImportPipeline
from graph.ingest.store import ImportStore
from graph.pii import PiiVault
from graph.repositories.audit import AuditRepository
from graph.repositories.dept_records import DeptRecordRepository
from graph.repositories.imports import ImportRepository
from graph.repositories.jobs import JobRepository
from graph.seeding import seed_graph
from graph.synthetic import Scale, generate
from graph.synthetic.department import DepartmentFiles, department_files
from graph.synthetic.scales import AS_OF
from graph.synthetic.tables import Row
from workers.imports import ImportJob

SEED = 3


@dataclass
class CountyData:
    county_code: str
    households: list[Row]
    persons: list[Row]
    files: DepartmentFiles
    income_line: float


def generated_county(scale: Scale = Scale.COUNTY, seed: int = SEED) -> CountyData:
    batches = list(generate(scale, seed))
    households = [r for b in batches for r in b.tables["households"]]
    persons = [r for b in batches for r in b.tables["persons"]]
    county = str(households[0]["county_code"])
    line = get_settings().risk.monitoring_line(county, AS_OF.year)
    files = department_files(households, persons, line, seed=seed)
    return CountyData(county, households, persons, files, line)


def import_files(graph: GraphClient, vault: PiiVault, files: DepartmentFiles, root: Path) -> int:
    """Import every department file in this process; returns the records created."""
    settings = ImportSettings(store_dir=root / "store", chunk_rows=5_000, lookup_rows=5_000)
    store = ImportStore(settings.store_dir)
    imports = ImportRepository(graph)
    pipeline = ImportPipeline(vault, store, imports, DeptRecordRepository(graph), settings)
    jobs = JobRepository(graph)
    runner = ImportJob(jobs, imports, pipeline, store, get_settings().workers, settings)
    service = ImportService(jobs, imports, AuditRepository(graph), store, settings)
    created = 0
    for source, path in files.write(root / "files").items():
        stored = service.store_path(path)
        job = service.create(
            created_by="test",
            actor_role="system",
            scope=("",),
            source=source,
            stored=stored,
            file_name=path.name,
            good_rows_only=False,
        )
        runner.run_now(job.id)
        _, summary = service.summary(None, job.id)
        assert summary is not None and summary.outcome == "imported", (source, summary)
        created += summary.created or 0
    return created


def seed_county_with_departments(
    graph: GraphClient, vault: PiiVault, root: Path, scale: Scale = Scale.COUNTY
) -> CountyData:
    seed_graph(graph, vault, scale, SEED)
    data = generated_county(scale)
    import_files(graph, vault, data.files, root)
    return data
