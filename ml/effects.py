"""Did the help work? Households that received one kind of help in a year, against comparable
households that received none, matched on what was known before the help.

Help is not given at random: officials send medical aid where someone fell ill and jobs where
someone lost one, so helped households are worse off and a plain comparison makes help look
harmful. We match instead. A propensity model (gradient boosting on every feature of the year
except that year's help) gives each household its probability of being helped; each helped
household is paired with the unhelped household of the same year and the same side of the line
whose propensity is nearest (within a caliper), and the effect is the mean difference of their
outcomes: being under the line the next year. With synthetic data the true effect is known
(the generator's risk with and without that year's help) and is reported beside the estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import lightgbm as lgb
import numpy as np
from pydantic import BaseModel, ConfigDict

from ml.features import FEATURES, BoolArray, FloatArray, column
from ml.training import YearData

KINDS = ("medical", "education", "employment", "industry", "subsistence")
_ASSIST_COLUMNS = {k: column(f"assist_{k}_pc") for k in KINDS}
# The help of the year itself is the treatment, so it is not a covariate; everything else is
# (including last year's help, which came before).
_COVARIATES = [
    j for j, name in enumerate(FEATURES) if name not in {f"assist_{k}_pc" for k in KINDS}
]
# Matching only within 0.2 standard deviations of the propensity's logit (Austin 2011).
_CALIPER_SD = 0.2
_MAX_CONTROLS = 300_000
_MIN_TREATED = 30


class HelpEffect(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    treated: int
    matched: int
    outcome_treated: float | None  # share under the line the next year
    outcome_matched: float | None
    effect_matched: float | None  # treated - matched controls: negative = fewer fell
    effect_naive: float | None  # treated - all controls, for contrast
    effect_true: float | None  # the generator's own: risk with the help - without it


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    out: FloatArray = np.log(q / (1 - q))
    return out


def _match(
    treated_score: FloatArray,
    control_score: FloatArray,
    treated_stratum: np.ndarray,
    control_stratum: np.ndarray,
    caliper: float,
) -> np.ndarray:
    """Index of the nearest control (same stratum, with replacement) per treated row; -1 when
    none lies within the caliper."""
    out = np.full(treated_score.size, -1, dtype=np.int64)
    for s in np.unique(treated_stratum):
        t_idx = np.flatnonzero(treated_stratum == s)
        c_idx = np.flatnonzero(control_stratum == s)
        if not c_idx.size:
            continue
        order = np.argsort(control_score[c_idx], kind="stable")
        sorted_scores = control_score[c_idx][order]
        pos = np.searchsorted(sorted_scores, treated_score[t_idx])
        left = np.clip(pos - 1, 0, sorted_scores.size - 1)
        right = np.clip(pos, 0, sorted_scores.size - 1)
        pick = np.where(
            np.abs(sorted_scores[left] - treated_score[t_idx])
            <= np.abs(sorted_scores[right] - treated_score[t_idx]),
            left,
            right,
        )
        near = np.abs(sorted_scores[pick] - treated_score[t_idx]) <= caliper
        out[t_idx[near]] = c_idx[order[pick[near]]]
    return out


def help_effects(years: Mapping[int, YearData], use_years: Sequence[int]) -> list[HelpEffect]:
    """Per kind of help: households helped with that kind only, against households helped with
    nothing, in the same year and on the same side of the line."""
    rows: list[tuple[FloatArray, FloatArray, BoolArray, FloatArray, FloatArray, FloatArray]] = []
    for y in use_years:
        d = years[y]
        known = ~np.isnan(d.label)
        p_true = d.p_true if d.p_true is not None else np.full(d.label.size, np.nan)
        p_unaided = d.p_unaided if d.p_unaided is not None else np.full(d.label.size, np.nan)
        rows.append(
            (
                d.X[known],
                d.label[known],
                d.below_now[known],
                p_true[known],
                p_unaided[known],
                np.full(int(known.sum()), float(y)),
            )
        )
    if not rows:
        return []
    X = np.vstack([r[0] for r in rows]).astype(np.float64)
    label = np.concatenate([r[1] for r in rows])
    below = np.concatenate([r[2] for r in rows])
    p_true = np.concatenate([r[3] for r in rows])
    p_unaided = np.concatenate([r[4] for r in rows])
    year = np.concatenate([r[5] for r in rows])
    helped = np.column_stack([X[:, _ASSIST_COLUMNS[k]] > 0 for k in KINDS])
    untreated = ~helped.any(axis=1)
    stratum = year * 2 + below
    rng = np.random.default_rng(11)
    control_pool = np.flatnonzero(untreated)
    if control_pool.size > _MAX_CONTROLS:
        control_pool = np.sort(rng.choice(control_pool, _MAX_CONTROLS, replace=False))
    out: list[HelpEffect] = []
    for j, kind in enumerate(KINDS):
        only = helped[:, j] & (helped.sum(axis=1) == 1)
        treated = np.flatnonzero(only)
        if treated.size < _MIN_TREATED:
            out.append(
                HelpEffect(
                    kind=kind,
                    treated=int(treated.size),
                    matched=0,
                    outcome_treated=None,
                    outcome_matched=None,
                    effect_matched=None,
                    effect_naive=None,
                    effect_true=None,
                )
            )
            continue
        idx = np.concatenate([treated, control_pool])
        target = np.concatenate([np.ones(treated.size), np.zeros(control_pool.size)])
        booster = lgb.train(
            {
                "objective": "binary",
                "learning_rate": 0.1,
                "num_leaves": 15,
                "min_data_in_leaf": 50,
                "verbose": -1,
                "num_threads": 2,
                "seed": 3,
            },
            lgb.Dataset(X[idx][:, _COVARIATES], target),
            num_boost_round=100,
        )
        score = _logit(np.asarray(booster.predict(X[idx][:, _COVARIATES]), dtype=np.float64))
        t_score, c_score = score[: treated.size], score[treated.size :]
        caliper = _CALIPER_SD * float(np.std(score))
        pairs = _match(t_score, c_score, stratum[treated], stratum[control_pool], caliper)
        ok = pairs >= 0
        matched_t = treated[ok]
        matched_c = control_pool[pairs[ok]]
        truth = p_true[treated] - p_unaided[treated]
        out.append(
            HelpEffect(
                kind=kind,
                treated=int(treated.size),
                matched=int(ok.sum()),
                outcome_treated=_mean(label[matched_t]),
                outcome_matched=_mean(label[matched_c]),
                effect_matched=_diff(label[matched_t], label[matched_c]),
                effect_naive=_diff(label[treated], label[control_pool]),
                effect_true=_mean(truth) if not np.isnan(truth).all() else None,
            )
        )
    return out


def _mean(values: FloatArray) -> float | None:
    return round(float(np.nanmean(values)), 4) if values.size else None


def _diff(a: FloatArray, b: FloatArray) -> float | None:
    if not a.size or not b.size:
        return None
    return round(float(np.mean(a) - np.mean(b)), 4)
