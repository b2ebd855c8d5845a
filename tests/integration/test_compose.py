"""docker-compose.yml is validated by Debian's docker-compose, which needs no Docker engine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_is_valid_and_production_shaped() -> None:
    compose = shutil.which("docker-compose")
    assert compose, "make installs Debian's docker-compose"
    env = {
        **os.environ,
        "NEO4J_PASSWORD": "a-long-production-password",
        "BANGFU_PII_ENCRYPTION_KEY": "k" * 32,
        "BANGFU_PII_HASH_KEY": "h" * 32,
        "BANGFU_AUTH_JWT_SECRET": "j" * 32,
    }
    result = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) >= {"neo4j", "redis", "api", "worker", "beat"}
    assert services["neo4j"]["image"].startswith("neo4j:5.26")
    assert "community" in services["neo4j"]["image"]
    assert "healthcheck" in services["neo4j"]
    assert services["neo4j"]["environment"]["NEO4J_AUTH"] == "neo4j/a-long-production-password"
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("api", "worker", "beat"):
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
        assert services[name]["environment"]["BANGFU_ENV"] == "production"
    # The API stores uploads and evidence that the workers read: one volume for all three.
    mounts = {
        name: {
            (v["source"], v["target"]) if isinstance(v, dict) else tuple(v.split(":")[:2])
            for v in services[name].get("volumes", [])
        }
        for name in ("api", "worker", "beat")
    }
    assert mounts["api"] == mounts["worker"] == mounts["beat"] != set()
    (target,) = {t for _, t in mounts["api"]}
    for key in ("BANGFU_IMPORT_STORE_DIR", "BANGFU_MARKET_EVIDENCE_DIR", "BANGFU_RISK_MODEL_DIR"):
        assert services["worker"]["environment"][key].startswith(target + "/")


def test_compose_refuses_to_start_without_secrets() -> None:
    compose = shutil.which("docker-compose")
    assert compose
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "BANGFU_"))}
    result = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "NEO4J_PASSWORD" in result.stderr
