"""The `bangfu` command line: thin commands, each one call into the layers below."""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import SecretStr, ValidationError

from api.audit import AuditTrail
from api.imports import ImportService
from api.users import UserService, demo_password
from bangfu.access import Role
from bangfu.errors import BangfuError, InvalidInputError
from bangfu.settings import get_settings
from graph.client import get_graph
from graph.ingest.schemas import SOURCES
from graph.ingest.store import ImportStore
from graph.pii import get_vault
from graph.repositories.audit import AuditRepository
from graph.repositories.crosscheck import CrossCheckRepository
from graph.repositories.imports import ImportRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.needs import NeedRepository
from graph.schema import apply_schema
from graph.seeding import graph_size, seed_graph
from graph.synthetic import Scale
from matching.needs import NeedService
from verification.jobs import create_cross_check_job
from verification.report import error_rates
from workers.dispatch import start_job
from workers.imports import build_import_job
from workers.jobs import (
    create_project_scan_job,
    create_region_stats_job,
    create_risk_scoring_job,
)

app = typer.Typer(help="bangfu 帮扶: needs matching and social assistance", no_args_is_help=True)


@app.command()
def check() -> None:
    """Check that Neo4j answers with the configured credentials."""
    agent = get_graph().verify()
    typer.echo(f"neo4j ok: {agent}")


@app.command()
def schema() -> None:
    """Create constraints and indexes (idempotent) and record the schema version."""
    version = apply_schema(get_graph())
    typer.echo(f"schema version {version} applied")


@app.command()
def seed(
    scale: Annotated[Scale, typer.Option(help="village, county or province")] = Scale.COUNTY,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same data")] = 1,
    csv_dir: Annotated[
        Path | None, typer.Option(help="also write one CSV per entity (the import format) here")
    ] = None,
) -> None:
    """Generate a synthetic province, county or village and load it into Neo4j."""
    stats = seed_graph(get_graph(), get_vault(), scale, seed, csv_dir=csv_dir, progress=True)
    nodes, rels = graph_size(get_graph())
    typer.echo(
        f"loaded in {stats.seconds:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in stats.rows.items())
    )
    typer.echo(f"graph now holds {nodes:,} nodes and {rels:,} relationships")


user_app = typer.Typer(help="Logins: create one, or one demo login per role", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _user_service() -> UserService:
    # The CLI acts as a trusted operator; its changes are audited under the actor "cli".
    graph = get_graph()
    return UserService(graph, AuditTrail.system(AuditRepository(graph), "cli"))


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="3-40 characters: letters, digits, '.', '_', '-'")],
    role: Annotated[Role, typer.Option(help="what the login may do (see api/policy.py)")],
    region: Annotated[
        str | None,
        typer.Option(help="region code: officials at any level, field workers town or village"),
    ] = None,
    helper_id: Annotated[
        str | None,
        typer.Option(help="Helper id for charity, federation and helper-unit logins"),
    ] = None,
) -> None:
    """Create a login. The password is asked for (hidden), or read from BANGFU_NEW_USER_PASSWORD."""
    password = os.environ.get("BANGFU_NEW_USER_PASSWORD") or typer.prompt(
        "password (at least 10 characters)", hide_input=True, confirmation_prompt=True
    )
    user = _user_service().create(username, SecretStr(password), role, region, helper_id)
    typer.echo(f"created {user.role.value} login {user.username} (id {user.id})")


@user_app.command("demo")
def user_demo() -> None:
    """One demo login per role, bound to the seeded graph; running it again changes nothing.
    Password: BANGFU_DEMO_PASSWORD, or a documented default in development only."""
    password = demo_password(os.environ.get("BANGFU_DEMO_PASSWORD"), get_settings().app.env)
    logins = _user_service().ensure_demo_logins(password)
    rows = [("role", "username", "password", "region or helper")]
    rows += [
        (login.role.value, login.username, login.password.get_secret_value(), login.binding)
        for login in logins
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


market_app = typer.Typer(help="The needs marketplace's scheduled work", no_args_is_help=True)
app.add_typer(market_app, name="market")


@market_app.command("tick")
def market_tick() -> None:
    """Release claims without progress for too long and let unanswered transfers go through
    (nightly; idempotent, so running it twice changes nothing the second time)."""
    graph = get_graph()
    service = NeedService(NeedRepository(graph), AuditRepository(graph), get_settings().market)
    released = service.release_stale_claims()
    transferred = service.apply_due_transfers()
    typer.echo(f"released {released} stale claims, completed {transferred} overdue transfers")


jobs_app = typer.Typer(help="Background jobs run by the workers", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("show")
def jobs_show(job_id: str) -> None:
    """State and progress of a job."""
    job = JobRepository(get_graph()).get(job_id)
    progress = (
        f"{job.chunks_done}/{job.chunks_total} chunks, {job.rows_done}/{job.rows_total} rows"
        if job.chunks_total is not None
        else "not planned yet"
    )
    typer.echo(f"{job.id} {job.kind}: {job.state.value} ({progress})")
    if job.error:
        typer.echo(f"error: {job.error}")


@jobs_app.command("stats")
def jobs_stats(
    region: Annotated[str, typer.Option(help="region code prefix; empty for everything")] = "",
) -> None:
    """Recompute the per-village statistics in the background (a worker must be running)."""
    job = create_region_stats_job(JobRepository(get_graph()), created_by="cli", region=region)
    start_job(job.id, job.kind)
    typer.echo(f"job {job.id} queued: follow it with `bangfu jobs show {job.id}`")


@jobs_app.command("risk")
def jobs_risk(
    period: Annotated[str, typer.Option(help="risk year: alerts for 2026 use 2025's records")],
    region: Annotated[str, typer.Option(help="region code prefix; empty for everything")] = "",
    only_unscored: Annotated[bool, typer.Option(help="only villages not yet scored")] = False,
) -> None:
    """Score households for risk in the background, in chunks of villages (workers needed)."""
    job = create_risk_scoring_job(
        JobRepository(get_graph()), "cli", period, region, only_unscored=only_unscored
    )
    start_job(job.id, job.kind)
    typer.echo(f"job {job.id} queued: follow it with `bangfu jobs show {job.id}`")


@jobs_app.command("projects")
def jobs_projects(
    region: Annotated[str, typer.Option(help="region code prefix; empty for everything")] = "",
    as_of: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD the stalls are counted to; default today")
    ] = None,
) -> None:
    """Run the project checks (扶贫项目异常) county by county and store their flags (a worker must
    be running); `GET /api/v1/projects/anomalies?stored=true` reads them."""
    day = date.fromisoformat(as_of) if as_of else date.today()
    job = create_project_scan_job(JobRepository(get_graph()), "cli", day, region=region)
    start_job(job.id, job.kind)
    typer.echo(f"job {job.id} queued: follow it with `bangfu jobs show {job.id}`")


checks_app = typer.Typer(
    help="Cross-checks against department data (数据比对) and their error rate",
    no_args_is_help=True,
)
app.add_typer(checks_app, name="checks")


@checks_app.command("run")
def checks_run(
    region: Annotated[str, typer.Option(help="region code prefix; empty for everything")] = "",
    as_of: Annotated[
        str | None, typer.Option(help="the check date, YYYY-MM-DD (default today)")
    ] = None,
) -> None:
    """Cross-check a region in the background (a worker must be running); running it again
    adds no duplicate findings."""
    day = date.fromisoformat(as_of) if as_of else None
    job = create_cross_check_job(JobRepository(get_graph()), "cli", region, as_of=day)
    start_job(job.id, job.kind)
    typer.echo(f"job {job.id} queued: follow it with `bangfu jobs show {job.id}`")


@checks_app.command("report")
def checks_report(
    region: Annotated[str, typer.Option(help="region code prefix; empty for everything")] = "",
) -> None:
    """Identification error rate per county (definition printed below the table)."""
    report = error_rates(CrossCheckRepository(get_graph()).county_stats(region))
    typer.echo(
        f"{'county':8} {'households':>10} {'poor+mon.':>10} {'findings':>9} {'open':>6} "
        f"{'confirmed':>9} {'misident.':>9} {'error rate':>10} {'if open hold':>12}"
    )
    for c in report.counties:
        rate = "-" if c.identification_error_rate is None else f"{c.identification_error_rate:.2%}"
        suspect = "-" if c.suspect_rate is None else f"{c.suspect_rate:.2%}"
        typer.echo(
            f"{c.county_code:8} {c.households_checked:10,} {c.subject_households_checked:10,} "
            f"{c.findings:9,} {c.open:6,} {c.confirmed:9,} {c.households_misidentified:9,} "
            f"{rate:>10} {suspect:>12}"
        )
    typer.echo(report.definition_en)


risk_app = typer.Typer(
    help="Risk of falling back into poverty (返贫风险): train, activate, score, report",
    no_args_is_help=True,
)
app.add_typer(risk_app, name="risk")
# The risk commands import ml/ (LightGBM, scikit-learn: about a second) only when they run, so
# that every other command starts as fast as before.


@risk_app.command("train")
def risk_train(
    scale: Annotated[Scale, typer.Option(help="generated data to train on")] = Scale.COUNTY,
    seed: Annotated[int, typer.Option(help="generator seed")] = 1,
    table: Annotated[
        Path | None, typer.Option(help="train on this household table (CSV) instead")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML naming the table's key, label and feature columns")
    ] = None,
    alert_share: Annotated[
        float, typer.Option(help="with --table: share of households officials can review")
    ] = 0.08,
    activate: Annotated[bool, typer.Option(help="make the new version the active one")] = False,
) -> None:
    """Train a model (temporal split, calibration, capacity threshold) and register it."""
    from ml import pipeline  # noqa: PLC0415 - see above
    from ml.registry import ModelRegistry  # noqa: PLC0415

    settings = get_settings().risk
    registry = ModelRegistry(settings.model_dir)
    if (table is None) != (mapping is None):
        raise typer.BadParameter("--table and --mapping go together")
    if table is not None and mapping is not None:
        card, result = pipeline.train_table_and_register(table, mapping, alert_share, registry)
        typer.echo(f"split: {result.split}; test rows {result.test_rows:,}")
        for who, m in result.metrics.items():
            if m is not None:
                typer.echo(f"  {who}: AUC {m.auc} PR-AUC {m.pr_auc} ECE {m.ece}")
    else:
        card, report = pipeline.train_and_register(scale, seed, settings, registry)
        overall = report.groups[0]
        typer.echo(
            f"test year {report.test_year}: model AUC {overall.model.auc}, oracle AUC "
            f"{overall.oracle.auc if overall.oracle else '-'}, rules AUC {overall.rules.auc}"
        )
    typer.echo(
        f"registered {card.version} ({card.train_rows:,} training rows, "
        f"{card.best_iteration} rounds, {card.train_seconds} s, threshold {card.threshold})"
    )
    if activate:
        registry.activate(card.version, "cli", AuditRepository(get_graph()))
        typer.echo(f"activated {card.version}")


@risk_app.command("versions")
def risk_versions() -> None:
    """Registered model versions; * marks the active one."""
    from ml.registry import ModelRegistry  # noqa: PLC0415

    registry = ModelRegistry(get_settings().risk.model_dir)
    active = registry.active()
    for card in registry.versions():
        mark = "*" if active and active.version == card.version else " "
        auc = card.metrics.get("model", {}).get("auc")
        typer.echo(
            f"{mark} {card.version}  {card.source}  test AUC {auc}  data {card.data_hash[:12]}"
        )


@risk_app.command("activate")
def risk_activate(version: str) -> None:
    """Make VERSION the model scoring uses (recorded in the audit trail)."""
    from ml.registry import ModelRegistry  # noqa: PLC0415

    registry = ModelRegistry(get_settings().risk.model_dir)
    record = registry.activate(version, "cli", AuditRepository(get_graph()))
    typer.echo(f"active model: {record.version} (was {record.previous or 'none'})")


@risk_app.command("score")
def risk_score(
    period: Annotated[str, typer.Option(help="risk year: alerts for 2026 use 2025's records")],
    region: Annotated[str, typer.Option(help="region code prefix; empty for everything")] = "",
    workers: Annotated[int, typer.Option(help="chunks scored at once")] = 2,
) -> None:
    """Score every household under REGION in chunks of villages and write scores and alerts
    (idempotent: a second run adds no alert)."""
    from ml import pipeline  # noqa: PLC0415

    service = pipeline.scoring_service(get_graph(), get_settings().risk)
    result = service.score(period, region, workers=workers)
    typer.echo(
        f"scored {result.scored:,} of {result.households:,} households in {result.seconds} s "
        f"({result.households_per_s:,.0f}/s) with {result.model_version}: {result.alerts:,} "
        f"alerts ({result.model_alerts:,} by the model, {result.rule_alerts:,} by rules)"
    )
    if result.drift is not None and result.drift.shifting:
        typer.echo(
            f"drift: {', '.join(result.drift.shifting)} shifted since training"
            + (" - retrain" if result.drift.retrain else "")
        )


@risk_app.command("report")
def risk_report(
    scale: Annotated[Scale, typer.Option(help="generated data to evaluate on")] = Scale.COUNTY,
    seed: Annotated[int, typer.Option(help="generator seed")] = 1,
    version: Annotated[
        str | None, typer.Option(help="model version (default: the active one)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="also write the report as JSON here")] = None,
) -> None:
    """AUC, PR-AUC, precision and recall at review capacity and calibration error of the model,
    the rules alone and the oracle, overall, per city and by disability; and help effects."""
    import json  # noqa: PLC0415

    from ml import pipeline  # noqa: PLC0415
    from ml.registry import ModelRegistry  # noqa: PLC0415
    from ml.report import render, report_json  # noqa: PLC0415

    settings = get_settings().risk
    registry = ModelRegistry(settings.model_dir)
    data = pipeline.synthetic_data(scale, seed, settings)
    report = pipeline.report_for(data, None, registry, version or settings.model_version, settings)
    typer.echo(render(report))
    if out is not None:
        out.write_text(json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n")


matching_app = typer.Typer(
    help="Matching (匹配): embeddings, helper history, assignment proposals, evaluation",
    no_args_is_help=True,
)
app.add_typer(matching_app, name="matching")
# Like the risk commands, these import scikit-learn and OR-Tools only when they run.
if TYPE_CHECKING:
    from matching.service import MatchingService


def _matching_service() -> MatchingService:
    from graph.repositories.matching import MatchingRepository  # noqa: PLC0415
    from matching.service import MatchingService  # noqa: PLC0415

    graph = get_graph()
    return MatchingService(
        MatchingRepository(graph), get_settings().matching, AuditRepository(graph)
    )


@matching_app.command("embed")
def matching_embed(
    all_: Annotated[
        bool, typer.Option("--all", help="recompute every embedding, not only new or stale ones")
    ] = False,
    refit: Annotated[
        bool, typer.Option(help="refit the TF-IDF encoder on the graph's texts first")
    ] = False,
    chunk: Annotated[int | None, typer.Option(help="texts per transaction")] = None,
) -> None:
    """Embed helpers and open or pending needs whose text or encoder changed, in chunks (fits
    the TF-IDF artifact first when it is missing)."""

    def progress(what: str, seen: int) -> None:
        if seen % 50_000 < (chunk or get_settings().matching.embed_chunk):
            typer.echo(f"  {what}: {seen:,} read", err=True)

    stats = _matching_service().embed_all(force=all_, refit=refit, chunk=chunk, progress=progress)
    fitted = " (encoder fitted)" if stats.refitted else ""
    typer.echo(
        f"{stats.model}{fitted}: embedded {stats.helpers_embedded:,} of {stats.helpers_seen:,} "
        f"helpers and {stats.needs_embedded:,} of {stats.needs_seen:,} needs in "
        f"{stats.seconds} s"
    )


@matching_app.command("history")
def matching_history() -> None:
    """Recompute every helper's history snapshot (claims taken, completed, mean days), the
    reliability and speed factors' input; nightly."""
    done = _matching_service().refresh_history()
    typer.echo(f"history refreshed for {done:,} helpers")


@matching_app.command("learn")
def matching_learn(
    record_first: Annotated[
        bool, typer.Option(help="first move the API's buffered showings into the graph")
    ] = True,
) -> None:
    """Fit ranking weights from the recommendations shown and their outcomes; switch them on
    only if they beat the hand-set weights on held-out needs."""
    service = _matching_service()
    if record_first:
        from workers.shown import shown_buffer  # noqa: PLC0415

        recorded = shown_buffer().record(service.repo)
        typer.echo(f"recorded {recorded:,} shown pairs from the buffer")
    score, switched = service.learn_weights()
    typer.echo(
        f"{score.outcomes:,} labelled pairs to fit on; NDCG@10 on held-out needs: hand-set "
        f"{score.hand_ndcg_at_10:.4f}, learned {score.learned_ndcg_at_10:.4f} -> "
        + ("learned weights switched on" if switched else "hand-set weights stay")
    )


@matching_app.command("assign")
def matching_assign(
    region: Annotated[str, typer.Option(help="region code whose open needs are assigned")],
    top_k: Annotated[int | None, typer.Option(help="candidate edges per need")] = None,
    min_share: Annotated[
        float | None, typer.Option(help="fairness guard: protected share of each village")
    ] = None,
) -> None:
    """Compute and store an assignment proposal for a region of any size (an official accepts
    it; nothing is claimed)."""
    from matching.needs import SYSTEM_CALLER  # noqa: PLC0415

    caller = SYSTEM_CALLER.model_copy(
        update={"principal": SYSTEM_CALLER.principal.model_copy(update={"user_id": "cli"})}
    )
    proposal = _matching_service().propose_assignment(
        caller, region, top_k, min_share, max_needs=10_000_000
    )
    s = proposal.summary
    assert s is not None  # computed here, never queued: the CLI's service has no worker hook
    typer.echo(
        f"proposal {proposal.id}: {s.assigned:,} of {s.needs:,} open needs assigned "
        f"({s.coverage:.1%}), capacity violations {s.capacity_violations}, village coverage min "
        f"{s.village_coverage_min:.1%} / median {s.village_coverage_median:.1%}, "
        f"solved in {s.seconds} s"
    )


@matching_app.command("report")
def matching_report(
    scale: Annotated[Scale, typer.Option(help="generated data to evaluate on")] = Scale.COUNTY,
    seed: Annotated[int, typer.Option(help="generator seed")] = 1,
    encoders: Annotated[
        bool,
        typer.Option(help="also compare the sentence-transformer model (slow on CPU)"),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="also write the report as JSON here")] = None,
) -> None:
    """NDCG@10 and simulated fulfilment of the ranker against random and category-only
    baselines, and assignment coverage, capacity violations and village fairness, on generated
    data with its hidden truth (no database)."""
    from matching.encoders import SentenceTransformerEncoder  # noqa: PLC0415
    from matching.evaluation import evaluate, format_report  # noqa: PLC0415

    extra = (
        [("all-MiniLM-L6-v2", SentenceTransformerEncoder(get_settings().matching.model))]
        if encoders
        else []
    )
    report = evaluate(scale, seed, extra_encoders=extra)
    typer.echo(format_report(report))
    if out is not None:
        out.write_text(report.model_dump_json(indent=2), encoding="utf-8")


def _import_service() -> ImportService:
    graph = get_graph()
    settings = get_settings().imports
    return ImportService(
        JobRepository(graph),
        ImportRepository(graph),
        AuditRepository(graph),
        ImportStore(settings.store_dir),
        settings,
    )


# Outcomes after which nothing of the file is in the graph: the command exits with status 1.
_IMPORT_FAILED = ("rejected", "file_error", "rolled_back")


@app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="CSV or XLSX file", exists=True, dir_okay=False, readable=True)
    ],
    source: Annotated[str, typer.Option(help="the file's declared schema: " + ", ".join(SOURCES))],
    good_rows_only: Annotated[
        bool, typer.Option("--good-rows-only", help="import the good rows even if some are bad")
    ] = False,
    now: Annotated[
        bool, typer.Option("--now", help="validate and write in this process, without a worker")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="wait for the worker and print the report")
    ] = True,
    region: Annotated[
        str | None, typer.Option(help="accept only rows of this region (as its official would)")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="write the whole validation report here (.csv or .xlsx)")
    ] = None,
) -> None:
    """Import households, members, needs or department data. By default a file with any bad row
    imports nothing; importing the same file again changes nothing."""
    service = _import_service()
    stored = service.store_path(file)
    service.probe(source, stored)
    job = service.create(
        created_by="cli",
        actor_role="system",
        scope=(region,) if region else ("",),
        source=source,
        stored=stored,
        file_name=file.name,
        good_rows_only=good_rows_only,
    )
    if now:
        build_import_job(get_graph()).run_now(job.id)
    else:
        start_job(job.id, job.kind)
        if not wait:
            typer.echo(f"import {job.id} queued: follow it with `bangfu jobs show {job.id}`")
            return
        _wait_for_import(service, job.id)
    _print_import(service, job.id, report)


def _wait_for_import(service: ImportService, import_id: str) -> None:
    jobs = service.jobs
    shown = None
    while not service.finished(import_id):
        job = jobs.get(import_id)
        progress = (job.state.value, job.rows_done, job.rows_total)
        if progress != shown and job.rows_total:
            typer.echo(f"  {job.rows_done:,}/{job.rows_total:,} rows written", err=True)
            shown = progress
        time.sleep(1)


def _print_import(service: ImportService, import_id: str, report: Path | None) -> None:
    job, summary = service.summary(None, import_id)
    if summary is None:
        typer.echo(f"import {import_id}: {job.state.value} {job.error or ''}")
        return
    typer.echo(
        f"import {import_id}: {summary.outcome.value}  source {summary.source}  "
        f"file {summary.file_name}  sha256 {summary.sha256}"
    )
    if summary.other_job_id is not None:
        typer.echo(
            f"  the same file was {summary.outcome.value.replace('_', ' ')} by import "
            f"{summary.other_job_id}: nothing changed / 该文件已由导入 {summary.other_job_id}"
            " 处理，本次未作任何更改"
        )
    elif summary.file_error is not None:
        typer.echo(f"  {summary.file_error.message_zh}")
        typer.echo(f"  {summary.file_error.message_en}")
    else:
        typer.echo(
            f"  rows {summary.rows:,}: good {summary.good_rows:,}, bad {summary.bad_rows:,}, "
            f"blank {summary.blank_rows:,}"
            + (
                f"; created {summary.created:,}, already present {summary.already_present:,},"
                f" matched to a person {summary.matched:,}"
                if summary.created is not None
                and summary.already_present is not None
                and summary.matched is not None
                else ""
            )
        )
    if summary.counts:
        typer.echo("  issues: " + ", ".join(f"{c} {n:,}" for c, n in summary.counts.items()))
    shown = get_settings().imports.cli_issues_shown
    page = service.report(None, import_id, 1, max(shown, 1)) if shown else None
    for issue in page.issues if page else ():
        typer.echo(
            f"  row {issue.row} {issue.column or '-'} {issue.code} [{issue.value}] "
            f"{issue.message_zh} / {issue.message_en}"
        )
    if summary.issues > shown:
        typer.echo(f"  ... {summary.issues - shown:,} more: --report FILE writes them all")
    if report is not None:
        if report.suffix.lower() == ".xlsx":
            temporary = service.report_xlsx(None, import_id)
            temporary.replace(report)
        else:
            with report.open("wb") as out:
                for line in service.report_csv(None, import_id):
                    out.write(line)
        typer.echo(f"  report written to {report}")
    if summary.outcome.value in _IMPORT_FAILED:
        raise InvalidInputError(
            f"import {summary.outcome.value}: nothing of this file was imported",
            message_zh="导入未成功，文件中的数据均未导入",
        )


def main() -> None:
    """Console entry point: project errors become one line and exit status 1, never a traceback."""
    try:
        app(standalone_mode=False)
    except BangfuError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except ValidationError as exc:
        missing = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        typer.echo(
            f"error: settings incomplete or invalid ({missing}): run `make up` "
            "or set the BANGFU_* variables",
            err=True,
        )
        sys.exit(1)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        import click  # noqa: PLC0415

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
