"""Model registry on disk: one directory per version with the LightGBM text model and a card
(version, training-data hash, feature list, metrics, calibration, threshold), plus the record
of which version is active.

    <model_dir>/<version>/model.txt      LightGBM text format (loading runs no code)
    <model_dir>/<version>/card.json      ModelCard
    <model_dir>/active.json              ActiveRecord: version, when, by whom

Scoring uses an explicitly chosen version: BANGFU_RISK_MODEL_VERSION when set, else the active
record; never "the newest". Switching is `activate`, which the caller audits.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import lightgbm as lgb
from pydantic import BaseModel, ConfigDict, Field

from bangfu.errors import ConfigurationError, NotFoundError
from graph.models import AuditEntry
from graph.repositories.audit import AuditRepository
from ml.model import Calibration, RiskModel
from ml.training import TrainedRisk

MODEL_FILE = "model.txt"
CARD_FILE = "card.json"
ACTIVE_FILE = "active.json"
_VERSION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


class ModelCard(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    created_at: datetime
    source: str  # "synthetic:<scale>:<seed>" or "table:<file name>"
    data_hash: str
    features: list[str]
    categorical: list[str]
    train_years: list[int]
    calibration_year: int
    test_year: int
    train_rows: int
    calibration_rows: int
    best_iteration: int
    train_seconds: float
    params: dict[str, Any]
    capacity_share: float
    threshold: float
    calibration_a: float
    calibration_b: float
    metrics: dict[str, Any] = Field(default_factory=dict)
    feature_quantiles: dict[str, dict[str, list[float]]] = Field(default_factory=dict)
    lightgbm_version: str = lgb.__version__


class ActiveRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    activated_at: datetime
    activated_by: str
    previous: str | None = None


def _check_version(version: str) -> str:
    if not version or not set(version) <= _VERSION_CHARS or version.startswith("."):
        raise NotFoundError(f"model version {version!r} not found", message_zh="未找到该模型版本")
    return version


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def register(
        self,
        trained: TrainedRisk,
        source: str,
        metrics: dict[str, Any],
        now: datetime | None = None,
    ) -> ModelCard:
        """Store a trained model under a new version: `<UTC time>-<data hash prefix>`."""
        created = now or datetime.now(UTC)
        version = f"{created:%Y%m%d-%H%M%S}-{trained.data_hash[:8]}"
        card = ModelCard(
            version=version,
            created_at=created,
            source=source,
            data_hash=trained.data_hash,
            features=list(trained.features),
            categorical=list(trained.categorical),
            train_years=list(trained.split.train_years),
            calibration_year=trained.split.calibration_year,
            test_year=trained.split.test_year,
            train_rows=trained.train_rows,
            calibration_rows=trained.calibration_rows,
            best_iteration=trained.best_iteration,
            train_seconds=trained.train_seconds,
            params=trained.params,
            capacity_share=round(trained.capacity_share, 6),
            threshold=round(trained.threshold, 6),
            calibration_a=trained.model.calibration.a,
            calibration_b=trained.model.calibration.b,
            metrics=metrics,
            feature_quantiles=trained.feature_quantiles,
        )
        directory = self.root / version
        if directory.exists():
            raise ConfigurationError(f"model version {version} already exists")
        directory.mkdir(parents=True)
        _write_atomically(directory / MODEL_FILE, trained.model.booster.model_to_string())
        _write_atomically(directory / CARD_FILE, card.model_dump_json(indent=2))
        return card

    def card(self, version: str) -> ModelCard:
        path = self.root / _check_version(version) / CARD_FILE
        if not path.is_file():
            raise NotFoundError(f"model version {version} not found", message_zh="未找到该模型版本")
        return ModelCard.model_validate_json(path.read_text(encoding="utf-8"))

    def versions(self) -> list[ModelCard]:
        if not self.root.is_dir():
            return []
        cards = [
            ModelCard.model_validate_json((d / CARD_FILE).read_text(encoding="utf-8"))
            for d in sorted(self.root.iterdir())
            if (d / CARD_FILE).is_file()
        ]
        return sorted(cards, key=lambda c: c.created_at)

    def active(self) -> ActiveRecord | None:
        path = self.root / ACTIVE_FILE
        if not path.is_file():
            return None
        return ActiveRecord.model_validate_json(path.read_text(encoding="utf-8"))

    def resolve(self, explicit: str | None) -> str:
        """The version scoring must use: the explicit setting, else the active record."""
        if explicit:
            self.card(explicit)
            return explicit
        active = self.active()
        if active is None:
            raise ConfigurationError(
                "no risk model chosen: run `bangfu risk activate VERSION` "
                "or set BANGFU_RISK_MODEL_VERSION",
                message_zh="未指定风险模型版本：请先激活一个版本",
            )
        return active.version

    def activate(
        self, version: str, actor_id: str, audit: AuditRepository, actor_role: str = "system"
    ) -> ActiveRecord:
        """Make `version` the active one; the switch is written to the audit trail first, so
        an unaudited switch cannot happen (a failed audit leaves the old version active)."""
        card = self.card(version)
        previous = self.active()
        record = ActiveRecord(
            version=card.version,
            activated_at=datetime.now(UTC),
            activated_by=actor_id,
            previous=previous.version if previous else None,
        )
        audit.append(
            AuditEntry(
                actor_id=actor_id,
                actor_role=actor_role,
                action="risk_model.activate",
                subject_type="risk_model",
                subject_id=card.version,
                before={"version": record.previous},
                after={
                    "version": card.version,
                    "data_hash": card.data_hash,
                    "threshold": card.threshold,
                    "test_auc": card.metrics.get("model", {}).get("auc"),
                },
            )
        )
        _write_atomically(self.root / ACTIVE_FILE, record.model_dump_json(indent=2))
        return record

    def load(self, version: str) -> RiskModel:
        """The model of `version`, read once per process."""
        card = self.card(version)
        return _load(str(self.root / card.version / MODEL_FILE), card.model_dump_json())


@lru_cache(maxsize=4)
def _load(model_path: str, card_json: str) -> RiskModel:
    card = ModelCard.model_validate(json.loads(card_json))
    booster = lgb.Booster(model_file=model_path)
    if list(booster.feature_name()) != card.features:
        raise ConfigurationError(f"model {card.version}: stored features differ from its card")
    return RiskModel(
        booster=booster,
        features=tuple(card.features),
        calibration=Calibration(a=card.calibration_a, b=card.calibration_b),
        threshold=card.threshold,
        version=card.version,
    )
