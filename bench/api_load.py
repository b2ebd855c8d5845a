"""Benchmark: browse-needs and claim latency and throughput through the real HTTP stack.

uvicorn with 2 workers serves the app against the benchmark Neo4j and Redis (ports 7689/6381,
state in .local/bench, as bench/load_province.py), and wrk drives it from loopback:

    python bench/api_load.py --scale county
    python bench/api_load.py --scale province        # seeds ~3.5 min unless already loaded

The store is reused when it holds exactly the scale's households (a previous run, or
load_province.py); otherwise it is wiped and seeded. Scenarios, each after a short warm-up:

- browse_helper: GET /api/v1/market/needs as a charity bound to a real city-level (else
  county-level) Helper of the graph, the one whose region has the most open needs; pages 1-10
  of all categories and of each category in turn (bench/browse.lua).
- browse_county: the same as a charity bound to the county-level Helper with the most open
  needs (the narrow shape: every page also counts the total).
- browse_admin: the same as an admin, whose scope is the whole graph (the worst case).
- claim: POST /api/v1/needs/{id}/claim on distinct open service and in-kind needs, spread over
  several fresh benchmark helpers with room to spare in capacity (bench/claim.lua). Claims
  change the graph: every run takes needs out of the market (a province has ~118k to give).

Prints a JSON summary and writes bench/results/api_load_<scale>.json: p50/p95/p99 latency,
requests per second and answers by status for each scenario, CPU seconds spent by Neo4j, the
API workers and wrk during it, and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".local" / "bench"
ENV = {
    "BANGFU_STATE_DIR": str(STATE),
    "BANGFU_NEO4J_PORT": "7689",
    "BANGFU_REDIS_PORT": "6381",
    "BANGFU_ENV_FILE": str(STATE / "secrets.env"),
    "BANGFU_NEO4J_HEAP": "4g",
    "BANGFU_NEO4J_PAGECACHE_MIB": "4096",
}
API = "/api/v1"
BROWSE_LUA = ROOT / "bench" / "browse.lua"
CLAIM_LUA = ROOT / "bench" / "claim.lua"
WARMUP_S = 5
# Pages of each category the browse script cycles through.
BROWSE_PAGES = 10
# Claim targets drawn per run: more than a run can claim at the rates seen, so that repeats
# (409) only show up when the store runs out of open needs.
CLAIM_TARGETS = 20_000


def services(command: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "ops" / "services.py"), command],
        env={**os.environ, **ENV},
        check=True,
    )


def ensure_wrk() -> str:
    """wrk from Debian, installed when missing (as ops/services.py does for redis-server)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: run `sudo apt-get install wrk`")
    print("installing wrk from Debian ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True)
    return shutil.which("wrk") or sys.exit("wrk is still missing after apt-get install")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the store ---------------------------------------------------------------------------------


def ensure_seeded(scale_name: str, seed: int, fresh: bool) -> dict[str, Any]:
    """Reuse the store when it holds exactly this scale's households, else wipe and seed."""
    from graph.client import close_graph, get_graph  # noqa: PLC0415 - after the environment
    from graph.pii import get_vault  # noqa: PLC0415
    from graph.seeding import seed_graph  # noqa: PLC0415
    from graph.synthetic import Scale  # noqa: PLC0415
    from graph.synthetic.scales import CALIBRATION  # noqa: PLC0415

    scale = Scale(scale_name)
    expected = CALIBRATION[scale].households
    services("up")
    households = _households(get_graph())
    if households == expected and not fresh:
        print(f"reusing the loaded {scale.value}: {households:,} households")
        return {"reused": True, "households": households}
    print(f"store holds {households:,} households, {scale.value} has {expected:,}: seeding")
    close_graph()  # its connections die with the server
    services("down")
    shutil.rmtree(STATE / "neo4j", ignore_errors=True)
    services("up")
    started = time.perf_counter()
    seed_graph(get_graph(), get_vault(), scale, seed, progress=True)
    return {
        "reused": False,
        "households": _households(get_graph()),
        "seed_s": round(time.perf_counter() - started, 1),
    }


def _households(graph: Any) -> int:
    row = graph.read_one("MATCH (h:Household) RETURN count(h) AS n")
    return int(row["n"]) if row else 0


# --- logins ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    username: str
    password: str


def browse_helper(graph: Any, lengths: tuple[int, ...] = (4, 6)) -> tuple[str, str, int]:
    """(helper id, region, open needs there): the real charity at city level (else county level;
    `lengths` are the region code lengths tried in turn) whose one service region has the most
    open needs; ties go to the smallest id."""
    for length in lengths:
        helpers = graph.read(
            "MATCH (h:Helper {kind: 'charity'}) WHERE size(h.service_regions) = 1 "
            "AND size(h.service_regions[0]) = $length "
            "RETURN h.id AS id, h.service_regions[0] AS region ORDER BY id",
            length=length,
        )
        if not helpers:
            continue
        open_by_region = {
            r["region"]: r["n"]
            for r in graph.read(
                "MATCH (n:Need {status: 'open'}) "
                "RETURN substring(n.village_code, 0, $length) AS region, count(*) AS n",
                length=length,
            )
        }
        best = max(helpers, key=lambda h: (open_by_region.get(h["region"], 0), -helpers.index(h)))
        return best["id"], best["region"], open_by_region.get(best["region"], 0)
    raise SystemExit(f"no charity serving one region of code length {lengths} in the graph")


def create_accounts(
    graph: Any, run: str, claimers: int, browsers: dict[str, str]
) -> tuple[dict[str, Account], list[str]]:
    """Logins through the user service (audited as "bench"): a charity login per entry of
    `browsers` (login name -> the real helper it acts for), an admin and
    `claimers` charities, each acting for a fresh helper that serves the whole graph with every
    capability and a capacity no run reaches. Names carry the run id, so runs never collide."""
    from pydantic import SecretStr  # noqa: PLC0415

    from api.audit import AuditTrail  # noqa: PLC0415
    from api.users import UserService  # noqa: PLC0415
    from bangfu.access import Role  # noqa: PLC0415
    from bangfu.vocabulary import HelperKind, NeedCategory  # noqa: PLC0415
    from graph.models import Helper  # noqa: PLC0415
    from graph.repositories import AuditRepository, HelperRepository  # noqa: PLC0415

    users = UserService(graph, AuditTrail.system(AuditRepository(graph), "bench"))
    root_row = graph.read_one("MATCH (r:Region {level: 'province'}) RETURN r.code AS code")
    root = str(root_row["code"]) if root_row else "44"
    accounts: dict[str, Account] = {}

    def make(name: str, role: Any, helper: str | None = None) -> None:
        password = "pw-" + secrets.token_urlsafe(16)
        username = f"bench-{name}-{run}"
        users.create(username, SecretStr(password), role, None, helper)
        accounts[name] = Account(username, password)

    for name, helper_id in browsers.items():
        make(name, Role.CHARITY, helper_id)
    make("admin", Role.ADMIN)
    helpers = HelperRepository(graph)
    claimer_names = []
    for i in range(claimers):
        bench_helper = f"BENCH-{run}-{i:02d}"
        helpers.save(
            Helper(
                id=bench_helper,
                kind=HelperKind.CHARITY,
                name=f"压测慈善会{i:02d}",
                description="benchmark helper",
                capabilities=tuple(NeedCategory),
                service_regions=(root,),
                capacity=1_000_000,
                home_region_code=root,
            )
        )
        make(f"claimer{i:02d}", Role.CHARITY, bench_helper)
        claimer_names.append(f"claimer{i:02d}")
    return accounts, claimer_names


def claim_targets(graph: Any, limit: int) -> list[str]:
    """Open needs that are claimed whole (cash needs are pledged), in random order so that
    claims spread over households and regions as real ones would."""
    rows = graph.read(
        "MATCH (n:Need {status: 'open'}) WHERE n.kind <> 'cash' RETURN n.id AS id",
    )
    ids = [str(r["id"]) for r in rows]
    random.Random(len(ids)).shuffle(ids)
    return ids[:limit]


# --- the server and the load -------------------------------------------------------------------


@contextmanager
def serve(workers: int, app: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    log_path = STATE / "logs" / "api_load_uvicorn.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # A bench run logs in a couple of dozen accounts from one address within seconds.
    env = {**os.environ, **ENV, "BANGFU_AUTH_LOGIN_ATTEMPTS_PER_IP": "1000"}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api.serve",
                "--app",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # Generous: two workers importing the app on a busy 2-core machine take a while. A
        # worker that fails to import is restarted by api.serve, which stays up: the log tail
        # says why.
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise SystemExit(f"uvicorn exited: {log_path.read_text()[-2000:]}")
            try:
                httpx.get(f"{url}{API}/health", timeout=5).raise_for_status()
                break
            except httpx.HTTPError as exc:
                if time.monotonic() > deadline:
                    tail = log_path.read_text()[-2000:]
                    raise SystemExit(f"uvicorn never answered: {tail}") from exc
                time.sleep(0.5)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def token(url: str, account: Account) -> str:
    response = httpx.post(
        f"{url}{API}/auth/token",
        data={"username": account.username, "password": account.password},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat, 12 and 13 after the ") " split.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return found


@dataclass(frozen=True)
class Load:
    wrk: str
    threads: int
    connections: int
    duration_s: int


def run_wrk(
    load: Load, script: Path, url: str, args: list[str], duration_s: int, api_pid: int
) -> dict[str, Any]:
    """One wrk run; its BENCH_JSON line plus the CPU seconds each party spent meanwhile."""
    neo4j_pid = int((STATE / "neo4j.pid").read_text())
    workers = _children(api_pid)
    pids = {"neo4j": [neo4j_pid], "api": [api_pid, *workers]}
    before = {k: sum(_cpu_seconds(p) for p in v) for k, v in pids.items()}
    # Per worker too: wrk's keep-alive connections are spread over the workers by whichever
    # accepts first, and a lopsided spread leaves a core idle.
    worker_before = [_cpu_seconds(p) for p in workers]
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(
        [
            load.wrk,
            "-t",
            str(load.threads),
            "-c",
            str(load.connections),
            "-d",
            f"{duration_s}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
            "--",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = {k: sum(_cpu_seconds(p) for p in v) for k, v in pids.items()}
    per_worker = [
        round(_cpu_seconds(p) - b, 1) for p, b in zip(workers, worker_before, strict=True)
    ]
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    cpu = {k: round(after[k] - before[k], 1) for k in pids}
    cpu["wrk"] = round(
        wrk_after.ru_utime + wrk_after.ru_stime - wrk_before.ru_utime - wrk_before.ru_stime, 1
    )
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 1),
        "requests_per_s": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "mean_ms": round(raw["mean_us"] / 1000, 1),
        "statuses": dict(sorted(raw["statuses"].items())),
        "socket_errors": raw["socket_errors"],
        "cpu_s": cpu,
        "cpu_s_per_api_worker": per_worker,
    }


def check_pages(url: str, bearer: str) -> dict[str, Any]:
    """Before timing anything: the pages wrk asks for are full (or the last), newest first, of
    the category asked, and page 1 and page BROWSE_PAGES share no need; a fast empty answer
    would not do."""
    headers = {"Authorization": f"Bearer {bearer}"}
    seen: dict[str, Any] = {}
    for category in ("", "medical_aid", "water"):
        ids: list[str] = []
        for page in (1, BROWSE_PAGES):
            params = {"page": page, **({"category": category} if category else {})}
            response = httpx.get(f"{url}{API}/market/needs", params=params, headers=headers)
            response.raise_for_status()
            body = response.json()
            items = body["items"]
            dates = [item["created_at"] for item in items]
            # A page is full unless it is the last or past it (a county's category may hold
            # fewer than 10 pages, and claim runs take needs out); page 1 of all categories is
            # never empty.
            full = len(items) == 20 or not body["has_more"]
            empty = page == 1 and not category and not items
            if empty or not full or dates != sorted(dates, reverse=True):
                raise SystemExit(f"page {page} of {category or 'all'}: not full, newest first")
            if category and {item["category"] for item in items} - {category}:
                raise SystemExit(f"page {page} of {category}: needs of other categories")
            ids += [item["id"] for item in items]
        if len(set(ids)) != len(ids):
            raise SystemExit(f"pages 1 and {BROWSE_PAGES} of {category or 'all'} overlap")
        seen[category or "all"] = len(ids)
    return {"needs_checked": seen}


def browse(load: Load, url: str, bearer: str, api_pid: int) -> dict[str, Any]:
    checked = check_pages(url, bearer)
    args = [bearer, str(BROWSE_PAGES), str(load.threads)]
    run_wrk(load, BROWSE_LUA, url, args, WARMUP_S, api_pid)  # plans compiled, pages cached
    return {**run_wrk(load, BROWSE_LUA, url, args, load.duration_s, api_pid), **checked}


def claim(
    load: Load, url: str, targets: list[str], tokens: list[str], api_pid: int
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        # Round-robin over the helpers: consecutive claims come from different helpers.
        for i, need_id in enumerate(targets):
            handle.write(f"{need_id}\t{tokens[i % len(tokens)]}\n")
        path = handle.name
    try:
        result = run_wrk(load, CLAIM_LUA, url, [path, str(load.threads)], load.duration_s, api_pid)
    finally:
        os.unlink(path)
    result["claimed"] = result["statuses"].get("200", 0)
    result["targets"] = len(targets)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="county", choices=["village", "county", "province"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="wipe and seed even if loaded")
    parser.add_argument("--duration", type=int, default=30, help="seconds per scenario")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--connections",
        type=int,
        default=16,
        # Keep-alive connections stay with the worker that accepted them: at 8, one worker
        # sometimes took all of them and left a core idle (cpu_s_per_api_worker shows it).
        help="wrk connections",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--claimers", type=int, default=8, help="helper logins that claim")
    parser.add_argument(
        "--app", default="api.app:app", help="ASGI app to serve (to measure a candidate change)"
    )
    parser.add_argument(
        "--scenarios",
        default="browse_helper,browse_county,browse_admin,claim",
        help="comma-separated subset of browse_helper, browse_county, browse_admin, claim",
    )
    parser.add_argument(
        "--out", type=Path, help="result file (default bench/results/api_load_<scale>.json)"
    )
    args = parser.parse_args()

    os.environ.update(ENV)
    load = Load(ensure_wrk(), args.threads, args.connections, args.duration)
    store = ensure_seeded(args.scale, args.seed, args.fresh)
    from graph.client import get_graph  # noqa: PLC0415 - after the environment is set

    graph = get_graph()
    run = time.strftime("%m%d%H%M%S")
    helper_id, region, open_in_region = browse_helper(graph)
    scenarios = set(args.scenarios.split(","))
    county_helper = browse_helper(graph, (6,)) if "browse_county" in scenarios else None
    browsers = {
        "browser": helper_id,
        **({"county_browser": county_helper[0]} if county_helper else {}),
    }
    accounts, claimers = create_accounts(graph, run, args.claimers, browsers)
    targets = claim_targets(graph, CLAIM_TARGETS) if "claim" in scenarios else []

    result: dict[str, Any] = {
        "scale": args.scale,
        "machine": {
            "cores": os.cpu_count(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
            "python": platform.python_version(),
            # The machine is shared: a high load before the run means the figures are low.
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
        },
        "setup": {
            "uvicorn_workers": args.workers,
            "wrk_threads": args.threads,
            "wrk_connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": WARMUP_S,
            "neo4j_heap": ENV["BANGFU_NEO4J_HEAP"],
            "neo4j_pagecache_mib": int(ENV["BANGFU_NEO4J_PAGECACHE_MIB"]),
            "store": store,
            "browse_helper": {"id": helper_id, "region": region, "open_needs": open_in_region},
            "browse_county": (
                dict(zip(("id", "region", "open_needs"), county_helper, strict=True))
                if county_helper
                else None
            ),
            "claim_helpers": len(claimers),
            "app": args.app,
        },
    }
    with serve(args.workers, args.app) as (url, process):
        tokens = {name: token(url, account) for name, account in accounts.items()}
        if "browse_helper" in scenarios:
            print(f"browsing as {helper_id} (region {region}, {open_in_region:,} open needs) ...")
            result["browse_helper"] = browse(load, url, tokens["browser"], process.pid)
            print(json.dumps(result["browse_helper"]))
        if county_helper:
            print(f"browsing as {county_helper[0]} (county {county_helper[1]}) ...")
            result["browse_county"] = browse(load, url, tokens["county_browser"], process.pid)
            print(json.dumps(result["browse_county"]))
        if "browse_admin" in scenarios:
            print("browsing as admin (everything) ...")
            result["browse_admin"] = browse(load, url, tokens["admin"], process.pid)
            print(json.dumps(result["browse_admin"]))
        if "claim" in scenarios and not targets:
            print("no open service or in-kind needs left to claim: run with --fresh")
            result["claim"] = {"skipped": "no open service or in-kind needs left (--fresh)"}
        elif "claim" in scenarios:
            print(f"claiming ({len(targets):,} open service and in-kind needs to take) ...")
            tokens_of_claimers = [tokens[n] for n in claimers]
            result["claim"] = claim(load, url, targets, tokens_of_claimers, process.pid)

    print(json.dumps(result, indent=2, ensure_ascii=False))
    out = args.out or ROOT / "bench" / "results" / f"api_load_{args.scale}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
