"""The pages' pure parts: every message key a template uses is in the one catalog in both
languages, forms keep what was typed and put each error next to its field, redirects after
login stay on this site, CSRF tokens compare exactly."""

from __future__ import annotations

import re

import pytest

from api.pages.forms import parse_form
from api.pages.i18n import MESSAGES, label, translate
from api.pages.render import DONE_KEYS, NAV, TEMPLATES_DIR, safe_next
from api.pages.review_forms import STEP_FORMS, decision_form
from api.pages.session import tokens_match
from api.policy import ALLOWED, Action
from bangfu.access import Role
from matching.needs import NeedDraft
from ml import review

_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""")


def test_every_message_key_a_template_uses_is_in_the_catalog() -> None:
    used = {key for path in TEMPLATES_DIR.glob("*.html") for key in _KEY.findall(path.read_text())}
    used |= {f"step_{step}" for step in STEP_FORMS}
    used |= {f"sort_{s}" for s in ("newest", "oldest", "urgency", "amount")}
    used |= set(DONE_KEYS) | {key for links in NAV.values() for _, key in links}
    assert len(used) > 50
    assert sorted(used - set(MESSAGES)) == []
    assert all(zh.strip() and en.strip() for zh, en in MESSAGES.values())


def test_the_exits_link_is_shown_exactly_to_the_roles_that_may_read_exits() -> None:
    shown = {role for role in Role if "/exits" in [href for href, _ in NAV.get(role, ())]}
    assert shown == set(ALLOWED[Action.READ_EXITS])


def test_the_assignments_link_is_shown_exactly_to_the_roles_that_may_propose() -> None:
    shown = {role for role in Role if "/assignments" in [href for href, _ in NAV.get(role, ())]}
    assert shown == set(ALLOWED[Action.PROPOSE_ASSIGNMENT])
    assert ALLOWED[Action.ACCEPT_ASSIGNMENT] == ALLOWED[Action.PROPOSE_ASSIGNMENT]


def test_labels_pick_the_meaning_of_shared_codes() -> None:
    assert label("zh", "normal", "urgency") == "普通"
    assert label("zh", "normal", "labour") == "普通劳动力"
    assert label("zh", "illness") == "因病"
    assert label("en", "in_progress", "need") == "in progress"
    assert translate("en", "page_n", n=3) == "Page 3"
    assert label("zh", "rejected", "exit") == "未批准"
    assert label("zh", "village", "exit_kind") == "贫困村出列"
    assert label("zh", "accepted", "proposal") == "已接受"
    assert label("zh", "already_claimed", "skip_reason") == "已被其他主体认领"


def test_a_bad_form_keeps_what_was_typed_and_says_what_is_wrong_per_field() -> None:
    form = {"category": "job", "title": "找", "text": "", "amount": "很多", "extra": "x"}
    result = parse_form(NeedDraft, form, "zh")
    assert result.model is None
    assert result.errors == {"title": "至少 2 个字符", "text": "必填", "amount": "请输入数字"}
    assert result.values["title"] == "找" and result.values["amount"] == "很多"
    assert "extra" not in result.values  # only the model's own fields are passed on
    english = parse_form(NeedDraft, form, "en")
    assert english.errors["title"] == "At least 2 characters"


def test_a_good_form_gives_the_model_with_defaults_for_blank_fields() -> None:
    form = {"category": "job", "title": "找工作", "text": "想在镇上找工作", "amount": " "}
    result = parse_form(NeedDraft, form, "zh")
    assert result.model is not None and result.errors == {}
    assert result.model.amount == 0


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/market/needs/N1", "/market/needs/N1"),
        ("//evil.example/x", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        (None, None),
    ],
)
def test_after_login_only_paths_on_this_site_are_followed(
    target: str | None, expected: str | None
) -> None:
    assert safe_next(target) == expected


def test_csrf_tokens_must_match_exactly_and_be_present() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match(None, None)
    assert not tokens_match("", "")


def test_a_decision_takes_one_measure_with_its_errors_next_to_its_fields() -> None:
    form = {
        "monitor_type": "unstable",
        "note": "",
        "measure_category": "job",
        "measure_title": "岗",
        "measure_text": "",
    }
    refused = decision_form(form, "zh")
    assert refused.model is None
    assert refused.errors == {"measure_title": "至少 2 个字符", "measure_text": "必填"}
    assert refused.values["measure_title"] == "岗"
    form |= {"measure_title": "公益岗位", "measure_text": "安排村保洁公益岗位"}
    decision = decision_form(form, "zh").model
    assert isinstance(decision, review.Decision)
    assert [m.title for m in decision.measures] == ["公益岗位"]
    no_measure = decision_form({"monitor_type": "marginal"}, "zh").model
    assert isinstance(no_measure, review.Decision) and no_measure.measures == ()
