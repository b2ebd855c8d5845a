"""Posted forms checked by the same request models the API uses (NeedDraft, review.Visit, ...),
with each error kept next to its field, in the reader's language, and what was typed kept.

    result = parse_form(NeedDraft, form, lang)
    if result.model is None:
        return render(request, "need_form.html", {"form": result}, 422)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from api.pages.i18n import Lang, translate
from bangfu.identity import IdentifierError
from bangfu.vocabulary import NeedCategory

M = TypeVar("M", bound=BaseModel)

# pydantic error types as a person filling in a form reads them: (zh, en), with the limits of
# the field's constraint filled in from the error's context.
_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("必填", "Required"),
    "string_too_short": ("至少 {min_length} 个字符", "At least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "At most {max_length} characters"),
    "float_parsing": ("请输入数字", "Enter a number"),
    "int_parsing": ("请输入整数", "Enter a whole number"),
    "greater_than_equal": ("不能小于 {ge}", "Must be at least {ge}"),
    "greater_than": ("必须大于 {gt}", "Must be more than {gt}"),
    "less_than_equal": ("不能大于 {le}", "Must be at most {le}"),
    "enum": ("请从列表中选择", "Choose one from the list"),
    "literal_error": ("请从列表中选择", "Choose one from the list"),
    "bool_parsing": ("请选择是或否", "Choose yes or no"),
    "date_from_datetime_parsing": ("日期格式应为 年-月-日", "Use the date format YYYY-MM-DD"),
    "date_parsing": ("日期格式应为 年-月-日", "Use the date format YYYY-MM-DD"),
    "string_pattern_mismatch": ("格式不正确", "Not in the expected format"),
}
_FALLBACK = ("输入无效", "Invalid value")
# bangfu.identity's IdentifierError codes (raised by the ID-number and phone validators).
_IDENTIFIER_MESSAGES: dict[str, tuple[str, str]] = {
    "bad_format": ("身份证号应为17位数字加1位数字或X", "17 digits then a digit or X"),
    "scientific_notation": (
        "身份证号被表格软件改成了科学计数法",
        "Spreadsheet notation, not an ID",
    ),
    "bad_birth_date": ("身份证号中的出生日期不存在", "The birth date in it does not exist"),
    "bad_check_digit": ("身份证号校验位不正确", "The check digit does not match"),
    "bad_phone": ("手机号应为13–19开头的11位数字", "An 11-digit mobile number starting 13–19"),
}


def field_message(error_type: str, context: dict[str, Any] | None, lang: Lang) -> str:
    cause = (context or {}).get("error")
    if isinstance(cause, IdentifierError) and cause.code in _IDENTIFIER_MESSAGES:
        zh, en = _IDENTIFIER_MESSAGES[cause.code]
        return en if lang == "en" else zh
    zh, en = _MESSAGES.get(error_type, _FALLBACK)
    text = en if lang == "en" else zh
    try:
        return text.format(**(context or {}))
    except (KeyError, IndexError):
        return en if lang == "en" else zh


@dataclass
class FormResult(Generic[M]):
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    model: M | None = None


def parse_form(
    model: type[M], form: dict[str, str], lang: Lang, fields: tuple[str, ...] | None = None
) -> FormResult[M]:
    """Validate `form` against `model`. Empty text fields count as not given (so optional
    fields keep their defaults); `fields` limits which form fields are passed at all."""
    names = fields if fields is not None else tuple(model.model_fields)
    data = {k: v.strip() for k, v in form.items() if k in names and v.strip() != ""}
    result: FormResult[M] = FormResult(values={k: form.get(k, "") for k in names})
    try:
        result.model = model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "__all__"
            result.errors.setdefault(name, field_message(error["type"], error.get("ctx"), lang))
    return result


# An organisation's capabilities, one checkbox a need category (cap_job, cap_tuition, …): the
# organisation's profile page and the admins' organisation pages share the fields and the check.
CAPABILITY_FIELD = "cap_"


def capability_values(capabilities: Iterable[str]) -> dict[str, str]:
    """Form values ticking these categories."""
    return {CAPABILITY_FIELD + c: "true" for c in capabilities}


def read_capabilities(
    result: FormResult[Any], form: dict[str, str], lang: Lang
) -> list[NeedCategory]:
    """The categories ticked, kept in `result.values`; none ticked is an error beside the
    group."""
    result.values.update({k: v for k, v in form.items() if k.startswith(CAPABILITY_FIELD)})
    chosen = [c for c in NeedCategory if form.get(CAPABILITY_FIELD + c.value) in ("true", "on")]
    if not chosen:
        result.errors["capabilities"] = translate(lang, "choose_at_least_one")
    return chosen
