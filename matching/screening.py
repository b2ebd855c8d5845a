"""Screening before review: flags an official reads before verifying a need. Pure; the reviewer
decides, nothing is refused here.

- Near-duplicates: another live need (pending review, open, claimed, in progress) of the same
  category for the same household with similar text (the same request entered twice), or for
  another household of the same village with nearly the same text (one request entered through
  two channels, under the wrong household). Similarity is the cosine of character 1-2-gram counts.
  Thresholds from the generator's county (seed 1): between live needs of one category in one
  village (different households, 6,672 pairs) the median similarity is 0.52, the 99th percentile
  0.90 and the 99.9th 0.97 — templated needs ("75岁留守老人，行动不便…") legitimately read alike —
  so the village flag needs >= 0.95 (0.3% of those pairs); one household rarely has two needs of
  one category at all, so there 0.6 is enough.
- Implausible amounts: outside the category's plausible range (below), a cash need with no amount,
  or a text that names amounts in 元 none of which is the amount entered (a typo: an extra zero).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from bangfu.vocabulary import NeedCategory, NeedKind, label_zh
from graph.repositories.matching import MatchNeed

HOUSEHOLD_DUPLICATE_SIMILARITY = 0.6
VILLAGE_DUPLICATE_SIMILARITY = 0.95
# A text amount matches the entered one within 1% (rounding to whole yuan or 百元).
AMOUNT_TOLERANCE = 0.01
_LIVE = frozenset({"pending_review", "open", "claimed", "in_progress"})

N = NeedCategory
# Plausible yuan per need, by category: (lowest, highest). Sources: the policy caps where one
# exists (扶贫小额信贷: at most 50,000 yuan; 危房改造 subsidies and self-build costs stay under
# 80,000), otherwise about twice the range the synthetic generator draws (graph/synthetic/texts.py),
# so that real variation passes and an extra zero does not.
PLAUSIBLE_AMOUNT: Mapping[NeedCategory, tuple[float, float]] = MappingProxyType(
    {
        N.MEDICAL_AID: (500, 100_000),
        N.ASSISTIVE_DEVICE: (100, 20_000),
        N.TUITION: (500, 30_000),
        N.SKILLS_TRAINING: (0, 10_000),
        N.JOB: (0, 5_000),
        N.HOUSING_REPAIR: (2_000, 80_000),
        N.WATER: (200, 20_000),
        N.FARM_INPUTS: (200, 20_000),
        N.MICRO_CREDIT: (5_000, 50_000),
        N.CARE: (0, 5_000),
    }
)

_AMOUNT_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*(万)?元")


class FlagKind(StrEnum):
    DUPLICATE_HOUSEHOLD = "duplicate_household"
    DUPLICATE_VILLAGE = "duplicate_village"
    AMOUNT_TOO_HIGH = "amount_too_high"
    AMOUNT_TOO_LOW = "amount_too_low"
    AMOUNT_MISSING = "amount_missing"
    AMOUNT_NOT_IN_TEXT = "amount_not_in_text"


class ScreeningFlag(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FlagKind
    reason_zh: str
    reason: str
    related_need_id: str | None = None
    similarity: float | None = None


class ScreeningReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    need_id: str
    flags: list[ScreeningFlag]
    compared_with: int  # live needs of the village the need was compared with


def _grams(text: str) -> Counter[str]:
    t = "".join(text.split())
    return Counter([*t, *(t[i : i + 2] for i in range(len(t) - 1))])


def text_similarity(a: str, b: str) -> float:
    """Cosine of character 1-2-gram counts, in [0, 1]."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    dot = sum(v * gb.get(k, 0) for k, v in ga.items())
    norm = math.sqrt(sum(v * v for v in ga.values()) * sum(v * v for v in gb.values()))
    return dot / norm


def _full_text(need: MatchNeed) -> str:
    return f"{need.title}{need.text}"


def duplicate_flags(need: MatchNeed, others: Sequence[MatchNeed]) -> list[ScreeningFlag]:
    flags: list[ScreeningFlag] = []
    mine = _full_text(need)
    for other in others:
        if other.id == need.id or other.category != need.category or other.status not in _LIVE:
            continue
        same_household = other.household_id == need.household_id
        if not same_household and other.village_code != need.village_code:
            continue
        sim = round(text_similarity(mine, _full_text(other)), 3)
        category = label_zh(need.category)
        if same_household and sim >= HOUSEHOLD_DUPLICATE_SIMILARITY:
            flags.append(
                ScreeningFlag(
                    kind=FlagKind.DUPLICATE_HOUSEHOLD,
                    reason_zh=f"同一户已有{category}需求 {other.id}（{other.status}），"
                    f"内容相似度 {sim:.0%}，可能重复录入",
                    reason=f"the household already has {need.category} need {other.id} "
                    f"({other.status}) with {sim:.0%} similar text: possibly entered twice",
                    related_need_id=other.id,
                    similarity=sim,
                )
            )
        elif not same_household and sim >= VILLAGE_DUPLICATE_SIMILARITY:
            flags.append(
                ScreeningFlag(
                    kind=FlagKind.DUPLICATE_VILLAGE,
                    reason_zh=f"本村另一户的{category}需求 {other.id}（{other.status}）"
                    f"内容几乎相同（相似度 {sim:.0%}），可能经两个渠道重复录入",
                    reason=f"{need.category} need {other.id} ({other.status}) of another "
                    f"household in the village reads almost the same ({sim:.0%}): possibly "
                    "one request entered through two channels",
                    related_need_id=other.id,
                    similarity=sim,
                )
            )
    return flags


def amounts_in_text(text: str) -> list[float]:
    return [float(n) * (10_000 if wan else 1) for n, wan in _AMOUNT_IN_TEXT.findall(text)]


def amount_flags(need: MatchNeed) -> list[ScreeningFlag]:
    category = NeedCategory(need.category)
    low, high = PLAUSIBLE_AMOUNT[category]
    amount = need.amount
    name = label_zh(category.value)
    flags: list[ScreeningFlag] = []
    if amount <= 0 and category.kind is NeedKind.CASH:
        flags.append(
            ScreeningFlag(
                kind=FlagKind.AMOUNT_MISSING,
                reason_zh=f"{name}是资金类需求，但未填写金额",
                reason=f"{category.value} is a cash need but has no amount",
            )
        )
    elif amount > high:
        flags.append(
            ScreeningFlag(
                kind=FlagKind.AMOUNT_TOO_HIGH,
                reason_zh=f"金额 {amount:,.0f} 元高于{name}的合理上限 {high:,.0f} 元",
                reason=f"amount {amount:,.0f} yuan is above the plausible {high:,.0f} for "
                f"{category.value}",
            )
        )
    elif 0 < amount < low:
        flags.append(
            ScreeningFlag(
                kind=FlagKind.AMOUNT_TOO_LOW,
                reason_zh=f"金额 {amount:,.0f} 元低于{name}的合理下限 {low:,.0f} 元",
                reason=f"amount {amount:,.0f} yuan is below the plausible {low:,.0f} for "
                f"{category.value}",
            )
        )
    named = amounts_in_text(need.text)
    if (
        amount > 0
        and named
        and not any(abs(x - amount) <= AMOUNT_TOLERANCE * amount for x in named)
    ):
        listed = "、".join(f"{x:,.0f}" for x in named)
        flags.append(
            ScreeningFlag(
                kind=FlagKind.AMOUNT_NOT_IN_TEXT,
                reason_zh=f"填写金额 {amount:,.0f} 元与描述中的金额（{listed} 元）不一致",
                reason=f"amount {amount:,.0f} yuan is none of the amounts the text names "
                f"({listed})",
            )
        )
    return flags


def screen(need: MatchNeed, others: Sequence[MatchNeed]) -> ScreeningReport:
    """Every flag for `need`, compared with the other needs of its village."""
    return ScreeningReport(
        need_id=need.id,
        flags=[*duplicate_flags(need, others), *amount_flags(need)],
        compared_with=sum(1 for o in others if o.id != need.id and o.status in _LIVE),
    )
