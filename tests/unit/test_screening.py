"""Screening is pure: duplicate and amount flags, each with its reason in both languages."""

from __future__ import annotations

from datetime import date

import pytest

from graph.repositories.matching import MatchNeed
from matching.screening import (
    FlagKind,
    ScreeningReport,
    amounts_in_text,
    screen,
    text_similarity,
)

VILLAGE = "440223101001"
MEDICAL_TEXT = (
    "家中45岁的户主患糖尿病，每天注射胰岛素，每年自付医疗费用约6000元。申请医疗救助5000元。"
)


def need(
    need_id: str = "N1",
    household: str = "H1",
    category: str = "medical_aid",
    text: str = MEDICAL_TEXT,
    amount: float = 5000,
    status: str = "pending_review",
    village: str = VILLAGE,
    title: str = "糖尿病治疗费用救助",
) -> MatchNeed:
    return MatchNeed(
        id=need_id,
        household_id=household,
        village_code=village,
        category=category,
        urgency="normal",
        status=status,
        created_at=date(2026, 3, 1),
        amount=amount,
        title=title,
        text=text,
    )


def kinds(report: ScreeningReport) -> list[FlagKind]:
    return [f.kind for f in report.flags]


def test_a_plausible_new_need_has_no_flags() -> None:
    other = need("N2", household="H2", category="job", text="希望在县城找到保洁工作", amount=0)
    report = screen(need(), [other])
    assert report.flags == []
    assert report.compared_with == 1


def test_the_same_request_twice_for_one_household_is_flagged() -> None:
    retyped = MEDICAL_TEXT.replace("每天注射胰岛素", "需要每天打胰岛素")
    report = screen(need(), [need("N0", text=retyped, status="open")])
    assert kinds(report) == [FlagKind.DUPLICATE_HOUSEHOLD]
    flag = report.flags[0]
    assert flag.related_need_id == "N0"
    assert flag.similarity is not None and flag.similarity >= 0.6
    assert "同一户" in flag.reason_zh and "household" in flag.reason


def test_a_near_identical_need_of_another_household_in_the_village_is_flagged() -> None:
    report = screen(need(), [need("N9", household="H9")])
    assert kinds(report) == [FlagKind.DUPLICATE_VILLAGE]
    # Another village, another category or a finished need is no duplicate.
    others = [
        need("N8", household="H8", village="440223101002"),
        need("N7", household="H7", category="tuition"),
        need("N6", household="H1", status="closed"),
    ]
    assert screen(need(), others).flags == []


def test_templated_but_different_needs_of_a_village_pass() -> None:
    different = MEDICAL_TEXT.replace(
        "45岁的户主患糖尿病，每天注射胰岛素", "70岁的母亲患冠心病，需要长期服药"
    )
    assert text_similarity(MEDICAL_TEXT, different) < 0.95
    assert screen(need(), [need("N2", household="H2", text=different)]).flags == []


@pytest.mark.parametrize(
    ("category", "amount", "text", "expected"),
    [
        ("micro_credit", 80_000, "申请扶贫小额信贷8万元，期限3年。", FlagKind.AMOUNT_TOO_HIGH),
        ("housing_repair", 500, "屋顶漏雨，需要修缮。", FlagKind.AMOUNT_TOO_LOW),
        ("tuition", 0, "儿子考上大学，需要学费资助。", FlagKind.AMOUNT_MISSING),
        ("medical_aid", 50_000, MEDICAL_TEXT, FlagKind.AMOUNT_NOT_IN_TEXT),
    ],
)
def test_implausible_amounts_are_flagged_with_the_reason(
    category: str, amount: float, text: str, expected: FlagKind
) -> None:
    report = screen(need(category=category, amount=amount, text=text), [])
    assert expected in kinds(report)
    flag = next(f for f in report.flags if f.kind is expected)
    assert flag.reason_zh and flag.reason


def test_amounts_in_text_read_yuan_and_wan() -> None:
    assert amounts_in_text("申请贷款3万元，另需1500元，共约3.15万元") == [30_000, 1_500, 31_500]
    assert (
        screen(need(category="micro_credit", amount=30_000, text="申请贷款3万元"), []).flags == []
    )


def test_job_and_care_needs_may_have_no_amount() -> None:
    for category in ("job", "care", "skills_training"):
        assert screen(need(category=category, amount=0, text="需要帮助"), []).flags == []
