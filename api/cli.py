"""The `bangfu` command line: thin commands, each one call into the layers below."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr, ValidationError

from api.audit import AuditTrail
from api.users import UserService, demo_password
from bangfu.access import Role
from bangfu.errors import BangfuError
from bangfu.settings import get_settings
from graph.client import get_graph
from graph.pii import get_vault
from graph.repositories.audit import AuditRepository
from graph.repositories.jobs import JobRepository
from graph.repositories.needs import NeedRepository
from graph.schema import apply_schema
from graph.seeding import graph_size, seed_graph
from graph.synthetic import Scale
from matching.needs import NeedService
from workers.celery_app import app as celery_app
from workers.jobs import create_region_stats_job

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
    celery_app.send_task("bangfu.stats.plan", args=[job.id])
    typer.echo(f"job {job.id} queued: follow it with `bangfu jobs show {job.id}`")


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
