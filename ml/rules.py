"""The monitoring rules officials already apply (防止返贫监测 识别标准), beside the model.

Each rule raises an alert with its reason code on the latest complete year's record:
- income_below_line: per-capita net income under that year's monitoring line (a setting per
  province and year; 6,000 yuan in 2021);
- medical_burden / education_burden: medical or schooling spending at least a set share of the
  household's income (刚性支出较大);
- disaster: hit by a natural disaster that year (因灾);
- labour_loss: able workers fell by at least a set share from the year before (劳动力骤减).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bangfu.settings import RiskSettings
from bangfu.vocabulary import AlertReason
from ml.features import BoolArray, FeatureFrame

RULES: tuple[AlertReason, ...] = (
    AlertReason.INCOME_BELOW_LINE,
    AlertReason.MEDICAL_BURDEN,
    AlertReason.EDUCATION_BURDEN,
    AlertReason.DISASTER,
    AlertReason.LABOUR_LOSS,
)


@dataclass(frozen=True)
class RuleThresholds:
    medical_burden_share: float = 1.0
    education_burden_share: float = 0.3
    labour_loss_share: float = 0.5

    @classmethod
    def of(cls, settings: RiskSettings) -> RuleThresholds:
        return cls(
            medical_burden_share=settings.medical_burden_share,
            education_burden_share=settings.education_burden_share,
            labour_loss_share=settings.labour_loss_share,
        )


def evaluate_rules(frame: FeatureFrame, thresholds: RuleThresholds) -> BoolArray:
    """One row per household, one column per rule in RULES: True where the rule fires.
    Missing values (NaN) never fire a rule."""
    with np.errstate(invalid="ignore"):
        prev = frame.col("labour_units_prev")
        now = frame.col("labour_units")
        flags = np.column_stack(
            [
                frame.col("pc_ratio") < 1.0,
                frame.col("medical_share") >= thresholds.medical_burden_share,
                frame.col("education_share") >= thresholds.education_burden_share,
                frame.col("shock_disaster") >= 1.0,
                (prev >= 1) & (now <= prev * (1.0 - thresholds.labour_loss_share)),
            ]
        )
    out: BoolArray = np.asarray(flags, dtype=bool)
    return out


def reasons(flags: BoolArray) -> list[tuple[str, ...]]:
    """Reason codes per household, in RULES order."""
    names = [r.value for r in RULES]
    return [tuple(n for n, hit in zip(names, row, strict=True) if hit) for row in flags.tolist()]


def rule_words(
    frame: FeatureFrame, row: int, codes: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fired rules of one household in plain words (Chinese, English), with its numbers."""
    zh: list[str] = []
    en: list[str] = []
    for code in codes:
        if code == AlertReason.INCOME_BELOW_LINE:
            pc, line = frame.per_capita[row], frame.line[row]
            zh.append(f"人均纯收入{pc:,.0f}元，低于监测线{line:,.0f}元")
            en.append(f"per-capita income {pc:,.0f} yuan, under the monitoring line of {line:,.0f}")
        elif code == AlertReason.MEDICAL_BURDEN:
            share = frame.col("medical_share")[row]
            zh.append(f"医疗支出相当于家庭收入的{share:.0%}")
            en.append(f"medical spending {share:.0%} of household income")
        elif code == AlertReason.EDUCATION_BURDEN:
            share = frame.col("education_share")[row]
            zh.append(f"教育支出相当于家庭收入的{share:.0%}")
            en.append(f"schooling costs {share:.0%} of household income")
        elif code == AlertReason.DISASTER:
            zh.append("当年遭受自然灾害")
            en.append("hit by a natural disaster this year")
        elif code == AlertReason.LABOUR_LOSS:
            prev = int(frame.col("labour_units_prev")[row])
            now = int(frame.col("labour_units")[row])
            zh.append(f"劳动力由{prev}人减至{now}人")
            en.append(f"able workers down from {prev} to {now}")
    return tuple(zh), tuple(en)
