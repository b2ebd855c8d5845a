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


class Settings(BaseModel):
    app: AppSettings
    neo4j: Neo4jSettings
    redis: RedisSettings
    pii: PiiSettings
    auth: AuthSettings
    market: MarketSettings
    api: ApiSettings = Field(default_factory=ApiSettings)

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
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
