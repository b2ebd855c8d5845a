#!/usr/bin/env python3
"""Start, stop and inspect the local Neo4j and Redis that bangfu runs against.

Stdlib only, so it runs before the virtual environment exists:
    python3 ops/services.py up|down|status

Neo4j 5.26 Community runs embedded with its Bolt connector (ops/neo4j/Launcher.java), because
Maven Central serves the database jars but not the standalone server tarball. Its jars are
downloaded once by Maven into a cache outside the clone. Redis comes from Debian's redis-server.
Both listen on loopback only; state lives in .local/ (git-ignored). Starting twice is harmless.
Every failure prints one actionable line and exits 1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("BANGFU_STATE_DIR", ROOT / ".local"))
CACHE = Path(os.environ.get("BANGFU_CACHE_DIR", Path.home() / ".cache" / "bangfu"))
NEO4J_VERSION = os.environ.get("BANGFU_NEO4J_VERSION", "5.26.30")
NEO4J_LIB = CACHE / f"neo4j-{NEO4J_VERSION}" / "lib"
SECRETS_FILE = STATE / "secrets.env"
HOST = "127.0.0.1"
# Sized for the province (about 3.5M nodes, 2-3 GB of store) on a 24 GB machine; override to shrink.
NEO4J_HEAP = os.environ.get("BANGFU_NEO4J_HEAP", "4g")
NEO4J_PAGECACHE_MIB = os.environ.get("BANGFU_NEO4J_PAGECACHE_MIB", "4096")
# Compiling the launcher and opening the store takes ~30 s on 2 cores; recovery after a kill longer.
START_TIMEOUT_S = 240


class ServiceError(Exception):
    """A problem the person can act on; its message is printed as one line."""


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


NEO4J_PORT = _port("BANGFU_NEO4J_PORT", 7687)
REDIS_PORT = _port("BANGFU_REDIS_PORT", 6379)


def ensure_secrets() -> None:
    """Create per-checkout random secrets once; the app reads them via BANGFU_ENV_FILE."""
    if SECRETS_FILE.exists():
        return
    STATE.mkdir(parents=True, exist_ok=True)
    lines = [
        "BANGFU_ENV=development",
        f"BANGFU_NEO4J_URI=bolt://{HOST}:{NEO4J_PORT}",
        f"BANGFU_NEO4J_PASSWORD={secrets.token_urlsafe(24)}",
        f"BANGFU_REDIS_URL=redis://{HOST}:{REDIS_PORT}/0",
        f"BANGFU_PII_ENCRYPTION_KEY={secrets.token_urlsafe(32)}",
        f"BANGFU_PII_HASH_KEY={secrets.token_urlsafe(32)}",
        f"BANGFU_AUTH_JWT_SECRET={secrets.token_urlsafe(32)}",
    ]
    SECRETS_FILE.write_text("\n".join(lines) + "\n")
    SECRETS_FILE.chmod(0o600)


def read_secrets() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in SECRETS_FILE.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def run_quiet(cmd: list[str], what: str, **kwargs: object) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise ServiceError(f"{what} failed: {' | '.join(tail) or 'no output'}")


def ensure_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ServiceError(
            "Java 17+ is missing: install it (apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    major = out.split('"')[1].split(".")[0] if '"' in out else "0"
    if not major.isdigit() or int(major) < 17:
        raise ServiceError(f"Neo4j 5.26 needs Java 17 or 21, found {major}: set PATH to a JDK 17")
    return java


def ensure_neo4j_jars() -> None:
    marker = NEO4J_LIB / ".complete"
    if marker.exists():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError("Maven is missing: install it (apt-get install maven) to fetch Neo4j")
    print(f"fetching Neo4j {NEO4J_VERSION} jars from Maven Central into {NEO4J_LIB} (once) ...")
    if NEO4J_LIB.exists():
        shutil.rmtree(NEO4J_LIB)
    run_quiet(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(ROOT / "ops" / "neo4j" / "pom.xml"),
            f"-Dneo4j.version={NEO4J_VERSION}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={NEO4J_LIB}",
        ],
        "downloading Neo4j from Maven Central (check the network or ~/.m2 settings)",
    )
    marker.touch()


# Debian packages the project needs, by the command that proves each is there.
# Chromium is the browser the page tests drive through Playwright (its own download is not
# reachable here).
SYSTEM_PACKAGES = {
    "redis-server": "redis-server",
    "docker-compose": "docker-compose",
    "chromium": "chromium",
}


def ensure_system_packages() -> None:
    """Install missing Debian packages (as root), so a fresh machine needs no manual step."""
    missing = [pkg for cmd, pkg in SYSTEM_PACKAGES.items() if shutil.which(cmd) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        raise ServiceError(
            f"missing Debian packages: run `sudo apt-get install {' '.join(missing)}`"
        )
    print(f"installing Debian packages: {' '.join(missing)} ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run_quiet(["apt-get", "update", "-qq"], "apt-get update", env=env)
    run_quiet(["apt-get", "install", "-y", "-qq", *missing], "apt-get install", env=env)
    if "redis-server" in missing:
        # Debian's package may start its own server on 6379 where an init system runs; ours is
        # started below with our own settings.
        subprocess.run(["service", "redis-server", "stop"], capture_output=True, check=False)


def ensure_redis() -> str:
    ensure_system_packages()
    redis = shutil.which("redis-server")
    if redis is None:
        raise ServiceError("redis-server is not on PATH: run `apt-get install redis-server`")
    return redis


def wait_for(check, pid_file: Path, log: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if check():
            return
        if pid_alive(pid_file) is None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise ServiceError(
                f"{name} exited while starting: {tail[0] if tail else 'no log'} (full log: {log})"
            )
        time.sleep(0.5)
    raise ServiceError(f"{name} did not answer within {START_TIMEOUT_S} s (log: {log})")


def start_process(cmd: list[str], pid_file: Path, log: Path, env: dict[str, str]) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:  # the log holds the latest run only
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            cwd=STATE,
        )
    pid_file.write_text(str(proc.pid))


def preflight() -> None:
    """Check everything that can be checked before anything starts, so a failure leaves nothing
    half-started."""
    ensure_java()
    neo4j_ours = pid_alive(STATE / "neo4j.pid") is not None
    redis_ours = pid_alive(STATE / "redis.pid") is not None
    for name, port, ours in (("neo4j", NEO4J_PORT, neo4j_ours), ("redis", REDIS_PORT, redis_ours)):
        if port_open(port) and not ours:
            var = f"BANGFU_{name.upper()}_PORT"
            raise ServiceError(
                f"port {port} (for {name}) is in use by another program: stop it "
                f"or set {var} to a free port"
            )


def up_neo4j() -> None:
    pid_file, log = STATE / "neo4j.pid", STATE / "logs" / "neo4j.log"
    if pid_alive(pid_file) and port_open(NEO4J_PORT):
        print(f"neo4j already running on bolt://{HOST}:{NEO4J_PORT}")
        return
    if port_open(NEO4J_PORT):
        raise ServiceError(
            f"port {NEO4J_PORT} is in use by another program: stop it or set "
            "BANGFU_NEO4J_PORT to a free port"
        )
    java = ensure_java()
    ensure_neo4j_jars()
    env = dict(os.environ, NEO4J_PASSWORD=read_secrets()["BANGFU_NEO4J_PASSWORD"])
    cmd = [
        java,
        f"-Xmx{NEO4J_HEAP}",
        "-XX:+UseG1GC",
        "-cp",
        f"{NEO4J_LIB}/*",
        str(ROOT / "ops" / "neo4j" / "Launcher.java"),
        str(STATE / "neo4j"),
        HOST,
        str(NEO4J_PORT),
        NEO4J_PAGECACHE_MIB,
    ]
    start_process(cmd, pid_file, log, env)
    # The Bolt port opens before the launcher has set the password: wait for its own ready line.
    wait_for(lambda: b"bangfu-neo4j ready" in log.read_bytes(), pid_file, log, "neo4j")
    print(f"neo4j ready on bolt://{HOST}:{NEO4J_PORT}")


def redis_ping() -> bool:
    try:
        with socket.create_connection((HOST, REDIS_PORT), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def up_redis() -> None:
    pid_file, log = STATE / "redis.pid", STATE / "logs" / "redis.log"
    if pid_alive(pid_file) and redis_ping():
        print(f"redis already running on redis://{HOST}:{REDIS_PORT}")
        return
    if port_open(REDIS_PORT):
        raise ServiceError(
            f"port {REDIS_PORT} is in use by another program: stop it or set "
            "BANGFU_REDIS_PORT to a free port"
        )
    redis = ensure_redis()
    (STATE / "redis").mkdir(parents=True, exist_ok=True)
    # Redis is only the Celery broker here; job outcomes live in Neo4j, so no persistence.
    cmd = [
        redis,
        "--bind",
        HOST,
        "--port",
        str(REDIS_PORT),
        "--dir",
        str(STATE / "redis"),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
    ]
    start_process(cmd, pid_file, log, dict(os.environ))
    wait_for(redis_ping, pid_file, log, "redis")
    print(f"redis ready on redis://{HOST}:{REDIS_PORT}")


def stop(name: str) -> None:
    pid_file = STATE / f"{name}.pid"
    pid = pid_alive(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        print(f"{name} not running")
        return
    # The process may exit between any two of these steps: that is the goal, not an error.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and pid_alive(pid_file):
        time.sleep(0.3)
    if pid_alive(pid_file):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    print(f"{name} stopped")


def status() -> int:
    running = 0
    for name, ok in (("neo4j", port_open(NEO4J_PORT)), ("redis", redis_ping())):
        alive = pid_alive(STATE / f"{name}.pid") is not None
        print(f"{name}: {'running' if alive and ok else 'stopped'}")
        running += alive and ok
    return 0 if running == 2 else 1


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    try:
        if command == "up":
            preflight()
            ensure_secrets()
            up_redis()
            up_neo4j()
        elif command == "sysdeps":
            ensure_system_packages()
        elif command == "down":
            stop("neo4j")
            stop("redis")
        elif command == "status":
            return status()
        else:
            print("usage: services.py up|down|status|sysdeps", file=sys.stderr)
            return 2
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
