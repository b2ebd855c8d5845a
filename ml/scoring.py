"""Scoring households from the graph, a chunk of whole villages at a time.

`score_chunk(villages, period)` is the unit of work a scheduled task runs: read the villages'
risk inputs, compute features of the last complete year, score, apply the official rules,
explain the alerts, and write the alerts and the villages' "scored for this period" mark in one
transaction. Alerts are merged on (household, period), so running a chunk twice, or a whole
night twice, creates nothing new; a chunk that failed leaves its villages unmarked. `score` runs
every chunk of a region on a couple of threads (one waits on Neo4j while the other computes),
then once more the villages still unmarked.

Only alerts are written, not every household's score: 664,000 writes a night would cost more
than the rest of scoring together, and officials act on alerts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Lock

import numpy as np
from pydantic import BaseModel, ConfigDict

from bangfu.errors import InvalidInputError
from bangfu.settings import RiskSettings
from bangfu.vocabulary import AlertReason, HouseholdStatus
from graph.models import AlertDraft
from graph.repositories.risk import RiskRepository
from ml.drift import DriftCounter, DriftReport
from ml.explain import explain
from ml.features import features_for_year
from ml.model import RiskModel
from ml.rules import RuleThresholds, evaluate_rules, reasons, rule_words

Clock = Callable[[], datetime]
_EXITED = HouseholdStatus.EXITED.value


def _now() -> datetime:
    return datetime.now(UTC)


def feature_year(period: str) -> int:
    """Alerts of period "2026" predict 2026 from the last complete year, 2025."""
    if len(period) != 4 or not period.isdigit():
        raise InvalidInputError(
            f"period must be a year such as 2026, got {period!r}", message_zh="期间须为年份"
        )
    return int(period) - 1


class ChunkResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    villages: int
    households: int
    scored: int
    alerts: int
    model_alerts: int
    rule_alerts: int
    seconds: float


class RunResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    model_version: str
    chunks: int
    households: int
    scored: int
    alerts: int
    model_alerts: int
    rule_alerts: int
    retried_villages: int
    seconds: float
    households_per_s: float
    drift: DriftReport | None = None


def plan_chunks(villages: Sequence[tuple[str, int]], max_households: int) -> list[list[str]]:
    """Whole villages in code order, packed into chunks of at most `max_households` (a village
    bigger than that is a chunk of its own)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for code, households in villages:
        if current and size + households > max_households:
            chunks.append(current)
            current, size = [], 0
        current.append(code)
        size += households
    if current:
        chunks.append(current)
    return chunks


class ScoringService:
    def __init__(
        self,
        repo: RiskRepository,
        model: RiskModel,
        settings: RiskSettings,
        clock: Clock = _now,
        drift_bins: dict[str, dict[str, list[float]]] | None = None,
    ) -> None:
        self.repo = repo
        self.model = model
        self.settings = settings
        self.clock = clock
        self.thresholds = RuleThresholds.of(settings)
        self._drift_bins = drift_bins
        self._drift = DriftCounter(model.features, drift_bins) if drift_bins else None
        self._drift_lock = Lock()

    def plan(self, period: str, prefix: str = "", only_unscored: bool = False) -> list[list[str]]:
        villages = (
            self.repo.unscored_villages(period, prefix)
            if only_unscored
            else self.repo.village_households(prefix)
        )
        return plan_chunks(villages, self.settings.chunk_households)

    def score_chunk(self, village_codes: Sequence[str], period: str) -> ChunkResult:
        started = time.perf_counter()
        year = feature_year(period)
        chunk = self.repo.panel_columns(village_codes, timeout_s=300)
        empty = ChunkResult(
            villages=len(village_codes),
            households=chunk.households,
            scored=0,
            alerts=0,
            model_alerts=0,
            rule_alerts=0,
            seconds=0.0,
        )
        now = self.clock()
        if year not in chunk.years:
            # No household of these villages has a record of that year: nothing to score, but
            # mark the villages so that the run does not enqueue them again and again.
            self.repo.save_alerts(
                village_codes,
                chunk.households,
                [],
                period=period,
                model_version=self.model.version,
                at=now,
                due=now,
                timeout_s=300,
            )
            return empty
        frame = features_for_year(chunk, year, self.settings.monitoring_line)
        has_record = ~np.isnan(frame.per_capita)
        score = self.model.predict(frame.X)
        flags = evaluate_rules(frame, self.thresholds)
        # New alerts go to households that have exited poverty (脱贫户): households still poor
        # or already monitored are being helped and reviewed already.
        eligible = has_record & np.array([s == _EXITED for s in chunk.statuses], dtype=bool)
        by_model = (score >= self.model.threshold) & ~frame.below_now & eligible
        by_rule = flags.any(axis=1) & eligible
        rule_reasons = reasons(flags)
        # The model's alerts are explained by its own contributions (TreeSHAP, ~0.5 ms a row,
        # so only where the model raised the alert); rule-only alerts by the rules that fired.
        model_rows = np.flatnonzero(by_model)
        explained = dict(
            zip(
                model_rows.tolist(),
                explain(self.model, frame.X[model_rows], self.settings.top_factors),
                strict=True,
            )
        )
        alerts: list[AlertDraft] = []
        for i in np.flatnonzero(by_model | by_rule).tolist():
            codes = rule_reasons[i]
            if i in explained:
                words_zh, words_en = explained[i].zh, explained[i].en
            else:
                words_zh, words_en = rule_words(frame, i, codes)
            alerts.append(
                AlertDraft(
                    household_id=frame.household_ids[i],
                    village_code=frame.village_codes[i],
                    period=period,
                    score=round(float(score[i]), 5),
                    model_version=self.model.version,
                    reasons=((AlertReason.MODEL.value,) if by_model[i] else ()) + codes,
                    factors_zh=words_zh,
                    factors_en=words_en,
                )
            )
        self.repo.save_alerts(
            village_codes,
            chunk.households,
            alerts,
            period=period,
            model_version=self.model.version,
            at=now,
            due=now + timedelta(days=self.settings.accept_days),
            timeout_s=300,
        )
        if self._drift is not None:
            with self._drift_lock:
                self._drift.add(frame.X[has_record & ~frame.below_now])
        return ChunkResult(
            villages=len(village_codes),
            households=chunk.households,
            scored=int(has_record.sum()),
            alerts=len(alerts),
            model_alerts=int(by_model.sum()),
            rule_alerts=int(by_rule.sum()),
            seconds=round(time.perf_counter() - started, 3),
        )

    def drift_check(
        self, period: str, prefix: str = "", sample_villages: int = 200
    ) -> DriftReport | None:
        """The drift check for a chunked night, whose chunks run in separate worker processes:
        features of an evenly spread sample of villages (200 are ~8,000 households at the
        province's mean of 40, ~2 s) against the model's training bins. None when the model
        carries no bins."""
        if not self._drift_bins:
            return None
        villages = [code for code, _ in self.repo.village_households(prefix)]
        if not villages:
            return None
        step = max(1, len(villages) // sample_villages)
        chunk = self.repo.panel_columns(villages[::step][:sample_villages], timeout_s=300)
        year = feature_year(period)
        counter = DriftCounter(self.model.features, self._drift_bins)
        if year in chunk.years:
            frame = features_for_year(chunk, year, self.settings.monitoring_line)
            counter.add(frame.X[~np.isnan(frame.per_capita) & ~frame.below_now])
        return counter.report()

    def score(self, period: str, prefix: str = "", workers: int = 2) -> RunResult:
        """Score every village under `prefix`; then once more whatever is still unscored."""
        feature_year(period)
        started = time.perf_counter()
        chunks = self.plan(period, prefix)
        results = self._run(chunks, period, workers)
        leftover = self.plan(period, prefix, only_unscored=True)
        retried = sum(len(c) for c in leftover)
        results += self._run(leftover, period, workers)
        seconds = time.perf_counter() - started
        households = sum(r.households for r in results)
        return RunResult(
            period=period,
            model_version=self.model.version,
            chunks=len(chunks),
            households=households,
            scored=sum(r.scored for r in results),
            alerts=sum(r.alerts for r in results),
            model_alerts=sum(r.model_alerts for r in results),
            rule_alerts=sum(r.rule_alerts for r in results),
            retried_villages=retried,
            seconds=round(seconds, 2),
            households_per_s=round(households / seconds, 1) if seconds else 0.0,
            drift=self._drift.report() if self._drift is not None else None,
        )

    def _run(self, chunks: list[list[str]], period: str, workers: int) -> list[ChunkResult]:
        if not chunks:
            return []
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return list(pool.map(lambda c: self.score_chunk(c, period), chunks))
